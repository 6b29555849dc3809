"""Variants and refinement: how many drawings one job makes, and the instruction that changes a
drawing into a new one."""

from __future__ import annotations

from typing import Any

from chatsvg.domain.errors import ValidationFailed
from chatsvg.domain.generation.requests import PROMPT_MAX, normalise_prompt

VARIANTS_MIN = 1
VARIANTS_MAX = 4
INSTRUCTION_MAX = PROMPT_MAX


def check_variants(n: Any) -> int:
    """`n` of a request: 1 to 4 drawings, 1 when not given."""
    if n is None:
        return VARIANTS_MIN
    if isinstance(n, bool) or not isinstance(n, int) or not VARIANTS_MIN <= n <= VARIANTS_MAX:
        raise ValidationFailed(
            f"n must be a whole number from {VARIANTS_MIN} to {VARIANTS_MAX}.",
            details=[{"field": "n", "message": f"{VARIANTS_MIN} to {VARIANTS_MAX}"}],
        )
    return n


def normalise_instruction(raw: str) -> str:
    """A refinement's instruction, cleaned and bounded as a prompt is (1 to 1000 characters)."""
    try:
        return normalise_prompt(raw)
    except ValidationFailed as exc:
        raise ValidationFailed(
            exc.message.replace("prompt", "instruction"),
            details=[{**detail, "field": "instruction"} for detail in exc.details or []],
        ) from None
