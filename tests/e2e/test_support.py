"""POST /api/support/contact: delivered through the durable mail outbox, escaped, rate-limited."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from email import message_from_bytes
from email.message import Message

from tests.e2e.test_http_contract import assert_problem
from tests.support.live import ApiClient, LiveServer


async def outbox_mails(live: LiveServer, timeout: float = 10) -> list[Message]:
    outbox = live.settings.data_path / "outbox"
    for _ in range(int(timeout / 0.1)):
        files = sorted(outbox.glob("*.eml")) if outbox.exists() else []
        if files:
            return [message_from_bytes(f.read_bytes()) for f in files]
        await asyncio.sleep(0.1)
    return []


async def test_contact_is_mailed_to_the_inbox_escaped_and_limited(
    server_factory: Callable[..., LiveServer],
    client_factory: Callable[..., ApiClient],
    stack_kind: str,
) -> None:
    live = server_factory(rate_support="2/60", worker=False)
    visitor = client_factory(base=live)
    await visitor.load_page()
    missing_email = await visitor.post(
        "/api/support/contact", {"type": "bug", "subject": "s", "message": "m"}
    )
    assert_problem(missing_email, 400, "VALIDATION_ERROR")
    ok = await visitor.post(
        "/api/support/contact",
        {
            "type": "bug",
            "subject": "Broken <i>thing</i>",
            "message": "<script>alert(1)</script>",
            "email": "v@example.com",
            "contextUrl": "/jobs",
        },
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["ok"] is True and ok.json()["message"]
    limited = await visitor.post(
        "/api/support/contact",
        {"type": "idea", "subject": "s", "message": "m", "email": "v@example.com"},
    )
    assert_problem(limited, 429, "RATE_LIMITED")
    if stack_kind == "embedded":  # local mode delivers to the file outbox that `chatsvg mail` reads
        mails = await outbox_mails(live)
        assert len(mails) == 1
        mail = mails[0]
        assert mail["Reply-To"] == "v@example.com" and mail["Subject"].startswith("[ChatSVG bug]")
        parts = {
            part.get_content_type(): part.get_payload(decode=True).decode()
            for part in mail.walk()
            if not part.is_multipart()
        }
        assert "<script>" not in parts["text/html"] and "&lt;script&gt;" in parts["text/html"]
