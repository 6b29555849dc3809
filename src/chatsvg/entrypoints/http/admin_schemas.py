"""Bodies and answers of the admin API (`../shared/API.md`, "Admin")."""

from __future__ import annotations

import msgspec

from chatsvg.entrypoints.http.schemas import Answer, Body


class AdminEmailBody(Body):
    email: str


class AdminMessage(Answer):
    message: str


class AdminAi(Answer):
    total_jobs: int
    avg_prompt_tokens: int
    avg_completion_tokens: int
    total_tokens: int
    avg_latency_ms: int
    p95_latency_ms: int = msgspec.field(name="p95LatencyMs")
    repair_rate: str  # "12.34%"
    total_cost_usd: str = msgspec.field(name="totalCostUSD")  # "$1.23"
    avg_cost_per_job_usd: str = msgspec.field(name="avgCostPerJobUSD")  # "$0.0012"


class AdminJobs(Answer):
    total: int
    succeeded: int
    failed: int
    queued: int
    running: int
    queue_depth: int
    success_rate: str  # of the jobs that have ended
    avg_duration_ms: int


class TopGenerator(Answer):
    user_id: str
    job_count: int


class AdminUsers(Answer):
    active_users30d: int = msgspec.field(name="activeUsers30d")
    total_generations30d: int = msgspec.field(name="totalGenerations30d")
    top_generators: list[TopGenerator]


class AdminMetricsAnswer(Answer):
    ai: AdminAi
    jobs: AdminJobs
    users: AdminUsers
