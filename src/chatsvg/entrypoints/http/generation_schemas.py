"""The generation answers and bodies of API.md: a job with its drawings and usage, submit,
refine and the job pages (msgspec Structs, camelCase, as schemas.py)."""

from __future__ import annotations

import msgspec

from chatsvg.application.wire import optional_timestamp, timestamp
from chatsvg.domain.generation.generations import SvgGeneration
from chatsvg.domain.generation.jobs import GenerationJob
from chatsvg.domain.generation.usage import JobUsage
from chatsvg.entrypoints.http.schemas import Answer, Body, Cursor, Timestamp


class GenerateBody(Body):
    prompt: str
    style: str | None = None
    model: str | None = None
    privacy: bool | None = None
    n: int | None = None  # drawings, 1 to 4


class RefineBody(Body):
    instruction: str
    model: str | None = None


class Generation(Answer, kw_only=True):
    id: str
    prompt: str
    style: str
    model: str
    privacy: bool
    # Absent (not null) in job lists, submit and cancel answers; null when the file is missing.
    svg: str | msgspec.UnsetType | None = msgspec.UNSET
    created_at: Timestamp
    parent_id: str | None


class GenerationLink(Answer):
    id: str
    svg_url: str


class Job(Answer):
    id: str
    status: str
    progress: int
    prompt: str
    style: str
    model: str
    privacy: bool
    error_code: str | None
    error_message: str | None
    generation_id: str | None
    generation: Generation | None
    generations: list[GenerationLink]  # every drawing of the job; the first is `generation`
    attempts: int
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None
    usage: Usage | None = None  # null until a model has answered


class Usage(Answer):
    """What the job's model calls used (tokens as the provider counted them), for its owner."""

    model: str
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    latency_ms: int
    attempts: int
    repaired: bool
    cost_usd: float


class SubmittedJob(Answer):
    job: Job
    duplicate: bool


class JobDetails(Answer):
    job: Job
    credits: int


class JobEnvelope(Answer):
    job: Job


class JobPage(Answer):
    jobs: list[Job]
    next_cursor: Cursor | None


def generation_json(
    generation: SvgGeneration, svg: str | msgspec.UnsetType | None = None
) -> Generation:
    return Generation(
        id=generation.id,
        prompt=generation.prompt,
        style=generation.style,
        model=generation.model,
        privacy=generation.privacy,
        svg=svg,
        created_at=timestamp(generation.created_at),
        parent_id=generation.parent_id,
    )


def job_json(
    job: GenerationJob,
    generation: SvgGeneration | None = None,
    svg: str | None = None,
    *,
    include_svg: bool = True,
    drawings: list[SvgGeneration] | None = None,
    base_url: str = "",
) -> Job:
    """`drawings`: every generation of the job (its variants) when it made more than one."""
    gen = None
    if generation is not None:
        gen = generation_json(generation, svg if include_svg else msgspec.UNSET)
    made = drawings or ([generation] if generation is not None else [])
    links = [GenerationLink(id=g.id, svg_url=f"{base_url}/api/svg/{g.id}/image") for g in made]
    return Job(
        id=job.id,
        status=job.status.value,
        progress=job.progress,
        prompt=job.prompt,
        style=job.style,
        model=job.model,
        privacy=job.privacy,
        error_code=job.error_code,
        error_message=job.error_message,
        generation_id=job.generation_id,
        generation=gen,
        generations=links,
        attempts=job.attempts,
        created_at=timestamp(job.created_at),
        started_at=optional_timestamp(job.started_at),
        finished_at=optional_timestamp(job.finished_at),
        usage=usage_json(job.usage, job.attempts),
    )


def usage_json(usage: JobUsage | None, attempts: int) -> Usage | None:
    if usage is None:
        return None
    return Usage(
        model=usage.model,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        total_tokens=usage.total_tokens,
        latency_ms=usage.latency_ms,
        attempts=attempts,
        repaired=usage.repaired,
        cost_usd=round(usage.cost_usd, 8),
    )
