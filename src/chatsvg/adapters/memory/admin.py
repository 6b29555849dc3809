"""In-memory admin sign-in records and figures (the figures computed from the rows)."""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import replace
from datetime import datetime

from chatsvg.adapters.memory.repository import MemoryRepository
from chatsvg.application.ports.admin import AdminFigures, p95
from chatsvg.domain.admin.access import AdminLink, AdminSession
from chatsvg.domain.generation.jobs import GenerationJob, JobStatus


class MemoryAdminLinks(MemoryRepository):
    async def add(self, link: AdminLink) -> None:
        self._db.insert("admin_links", link)

    async def use(self, token_hash: str, now: datetime) -> str | None:
        link: AdminLink | None = self._db.get("admin_links", token_hash)
        if link is None or not link.usable(now):
            return None
        self._db.update("admin_links", replace(link, used_at=now))
        return link.email


class MemoryAdminSessions(MemoryRepository):
    async def add(self, session: AdminSession) -> None:
        self._db.insert("admin_sessions", session)

    async def get(self, token_hash: str) -> AdminSession | None:
        session: AdminSession | None = self._db.get("admin_sessions", token_hash)
        return copy.copy(session) if session else None

    async def revoke(self, token_hash: str, now: datetime) -> None:
        session: AdminSession | None = self._db.get("admin_sessions", token_hash)
        if session is not None and session.revoked_at is None:
            self._db.update("admin_sessions", replace(session, revoked_at=now))


class MemoryAdminFigures(MemoryRepository):
    async def figures(self, since: datetime, top: int) -> AdminFigures:
        jobs: list[GenerationJob] = list(self._db.scan("generation_jobs"))
        answered = [j.usage for j in jobs if j.usage is not None]
        durations = [
            (j.finished_at - j.started_at).total_seconds() * 1000
            for j in jobs
            if j.status is JobStatus.SUCCEEDED and j.started_at and j.finished_at
        ]
        recent = Counter(j.user_id for j in jobs if j.created_at >= since)
        ranked = sorted(recent.items(), key=lambda item: (-item[1], item[0]))
        return AdminFigures(
            ai_jobs=len(answered),
            prompt_tokens=sum(u.prompt_tokens for u in answered),
            completion_tokens=sum(u.completion_tokens for u in answered),
            latency_ms_total=sum(u.latency_ms for u in answered),
            p95_latency_ms=p95([u.latency_ms for u in answered]),
            repaired_jobs=sum(1 for u in answered if u.repaired),
            cost_usd=sum(u.cost_usd for u in answered),
            jobs_by_status=dict(Counter(j.status.value for j in jobs)),
            avg_duration_ms=sum(durations) / len(durations) if durations else 0.0,
            active_users=len(recent),
            generations=sum(1 for g in self._db.scan("svg_generations") if g.created_at >= since),
            top_generators=ranked[:top],
        )
