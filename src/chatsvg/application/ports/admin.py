"""Ports of the admin page: its sign-in links and sessions, and the figures it shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from chatsvg.domain.admin.access import AdminLink, AdminSession


class AdminLinkRepository(Protocol):
    async def add(self, link: AdminLink) -> None: ...

    async def use(self, token_hash: str, now: datetime) -> str | None:
        """Spend the link if it is usable (`AdminLink.usable`), as a compare-and-set: its email,
        or None when it is unknown, used already or expired. A link is spent at most once."""
        ...


class AdminSessionRepository(Protocol):
    async def add(self, session: AdminSession) -> None: ...

    async def get(self, token_hash: str) -> AdminSession | None: ...

    async def revoke(self, token_hash: str, now: datetime) -> None: ...


@dataclass(frozen=True)
class AdminFigures:
    """The admin page's raw figures, each computed by the database (aggregates, no row loads).

    AI figures are over the jobs a model answered (their usage is recorded); `p95_latency_ms` is
    the 95th percentile of their model latency with linear interpolation (percentile_cont)."""

    ai_jobs: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms_total: int = 0
    p95_latency_ms: float = 0.0
    repaired_jobs: int = 0
    cost_usd: float = 0.0
    jobs_by_status: dict[str, int] = field(default_factory=dict)
    avg_duration_ms: float = 0.0  # SUCCEEDED jobs, started to finished
    active_users: int = 0  # users who submitted a job since `since`
    generations: int = 0  # drawings made since `since`
    top_generators: list[tuple[str, int]] = field(default_factory=list)  # (user id, jobs since)


class AdminFiguresReader(Protocol):
    async def figures(self, since: datetime, top: int) -> AdminFigures:
        """The figures, with the user activity counted from `since`; `top` generators at most."""
        ...


def p95(values: list[int]) -> float:
    """The 95th percentile with linear interpolation between the closest ranks (what Postgres's
    percentile_cont(0.95) computes); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = 0.95 * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
