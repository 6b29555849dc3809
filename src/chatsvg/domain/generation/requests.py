"""What a generation request may ask for, and how its words are checked: the styles, the
models (the catalogue), the prompt's normal form and the idempotency key."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from chatsvg.domain.errors import ValidationFailed

PROMPT_MAX = 1000
IDEMPOTENCY_KEY_MAX = 128

STYLES: tuple[str, ...] = (
    "outline",
    "filled",
    "minimal",
    "modern",
    "flat",
    "gradient",
    "line-art",
    "3d",
    "cartoon",
)
DEFAULT_STYLE = "minimal"


@dataclass(frozen=True)
class ModelSpec:
    """A model a client may ask for; `provider_model` is what the provider calls it."""

    name: str
    provider_model: str
    cost: int = 1


@dataclass(frozen=True)
class Catalogue:
    models: tuple[ModelSpec, ...]
    default_model: str
    styles: tuple[str, ...] = STYLES
    default_style: str = DEFAULT_STYLE
    # Names clients may send that are served by another model (e.g. every model by `offline` locally).
    aliases: dict[str, str] = field(default_factory=dict)

    def model(self, name: str | None) -> ModelSpec:
        wanted = name or self.default_model
        wanted = self.aliases.get(wanted, wanted)
        for spec in self.models:
            if spec.name == wanted:
                return spec
        allowed = ", ".join(m.name for m in self.models)
        raise ValidationFailed(
            f"Unknown model; choose one of: {allowed}.",
            details=[{"field": "model", "message": "unknown model"}],
        )

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.models] + [
            a for a in self.aliases if a not in {m.name for m in self.models}
        ]

    def style(self, name: str | None) -> str:
        wanted = name or self.default_style
        if wanted not in self.styles:
            allowed = ", ".join(self.styles)
            raise ValidationFailed(
                f"Unknown style; choose one of: {allowed}.",
                details=[{"field": "style", "message": "unknown style"}],
            )
        return wanted


def normalise_prompt(raw: str) -> str:
    """Trim, drop control and format characters (keeping line breaks as spaces), and bound the length."""
    cleaned = "".join(
        " " if ch in "\r\n\t" else ch
        for ch in unicodedata.normalize("NFC", raw)
        if ch in "\r\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    prompt = " ".join(cleaned.split())
    if not prompt:
        raise ValidationFailed(
            "The prompt must not be empty.", details=[{"field": "prompt", "message": "required"}]
        )
    if len(prompt) > PROMPT_MAX:
        raise ValidationFailed(
            f"The prompt must be at most {PROMPT_MAX} characters long.",
            details=[{"field": "prompt", "message": f"at most {PROMPT_MAX} characters"}],
        )
    return prompt


def check_idempotency_key(key: str | None) -> str | None:
    if key is None:
        return None
    key = key.strip()
    if not key:
        return None
    if len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable():
        raise ValidationFailed(
            f"The idempotency key must be at most {IDEMPOTENCY_KEY_MAX} printable characters.",
            details=[{"field": "Idempotency-Key", "message": "invalid"}],
        )
    return key


def request_fingerprint(body: Any) -> str:
    """The same parsed JSON gives the same fingerprint, whatever the member order or whitespace."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
