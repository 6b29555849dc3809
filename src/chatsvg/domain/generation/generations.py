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

    @property
    def public(self) -> bool:
        return not self.privacy

    def set_privacy(self, privacy: bool) -> bool:
        """Show the generation in the public gallery (False) or hide it (True); returns whether
        that changed anything."""
        changed = self.privacy != privacy
        self.privacy = privacy
        return changed


def artifact_key(user_id: str, job_id: str) -> str:
    """Derived from the job, so a retried attempt overwrites its own artifact instead of orphaning one."""
    return f"generations/{user_id}/{job_id}.svg"
