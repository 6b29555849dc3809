"""SvgGeneration: a stored, sanitized SVG and what it was made from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class SvgGeneration:
    id: str
    user_id: str
    job_id: str
    prompt: str
    style: str
    model: str
    privacy: bool
    storage_key: str
    size_bytes: int
    created_at: datetime
    parent_id: str | None = None  # the generation this one refines
    variant: int = 0  # its place among its job's drawings (0: the first)

    @property
    def public(self) -> bool:
        return not self.privacy

    def set_privacy(self, privacy: bool) -> bool:
        """Show the generation in the public gallery (False) or hide it (True); returns whether
        that changed anything."""
        changed = self.privacy != privacy
        self.privacy = privacy
        return changed


def artifact_key(user_id: str, job_id: str, variant: int = 0) -> str:
    """Derived from the job and the drawing's place among its variants, so a retried attempt
    overwrites its own artifacts instead of orphaning them."""
    suffix = f"-{variant}" if variant else ""
    return f"generations/{user_id}/{job_id}{suffix}.svg"


def artifact_keys(user_id: str, job_id: str, variants: int) -> list[str]:
    """Every artifact a job of `variants` drawings may have stored."""
    return [artifact_key(user_id, job_id, i) for i in range(max(1, variants))]
