"""A streamed Chat Completions answer (`stream: true`), read chunk by chunk into the shape of an
unstreamed one, telling a listener the text so far as it grows (for live drafts)."""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable
from typing import Any


async def collect_stream(
    chunks: AsyncIterable[Any], on_text: Callable[[str], None] | None
) -> dict[str, Any] | None:
    """The answer as a completion body (`choices[0].message`, `finish_reason`, `model`,
    `usage`), or None when the stream held no chunk at all (a proxy's HTML page, say).
    `on_text` is called with the whole text so far after each piece of content; what it does
    with it is its own business (it must be quick: it runs between chunks)."""
    seen = False
    content = ""
    refusal = ""
    finish_reason: str | None = None
    model: str | None = None
    usage: dict[str, Any] | None = None
    async for chunk in chunks:
        if not isinstance(chunk, dict):
            continue
        seen = True
        model = chunk.get("model") or model
        if isinstance(chunk.get("usage"), dict):
            usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta") or {}
            piece = delta.get("content")
            if isinstance(piece, str) and piece:
                content += piece
                if on_text is not None:
                    on_text(content)
            if isinstance(delta.get("refusal"), str):
                refusal += delta["refusal"]
            finish_reason = choice.get("finish_reason") or finish_reason
    if not seen:
        return None
    return {
        "choices": [
            {
                "message": {"content": content, "refusal": refusal or None},
                "finish_reason": finish_reason,
            }
        ],
        "model": model,
        "usage": usage,
    }
