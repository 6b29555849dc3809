"""Ports of the generation feature: jobs, generations, the model, the sanitizer, storage, pushes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from chatsvg.application.ports.common import Position
from chatsvg.domain.generation.generations import SvgGeneration
from chatsvg.domain.generation.jobs import GenerationJob, JobStatus


class JobRepository(Protocol):
    async def add(self, job: GenerationJob) -> None:
        """Raises DuplicateIdempotencyKey when (user, key) is already used."""
        ...

    async def add_affordable_and_commit(self, job: GenerationJob) -> tuple[int, int] | None:
        """Add the job only if its owner can afford it (`can_afford`: the balance less the cost
        of their queued jobs not yet charged covers its cost), in one step, and commit the unit
        of work: this is its last write. None when added; else the balance and the reserved
        credits, and nothing is written. Raises DuplicateIdempotencyKey as `add`."""
        ...

    async def get(self, job_id: str) -> GenerationJob | None: ...

    async def hold_claimable(self, job_ids: list[str], now: datetime) -> list[GenerationJob]:
        """The jobs among these ids that a worker may claim now (`GenerationJob.claimable`), held
        for this unit of work: they stay as read until it ends, so decisions made on them hold at
        commit. A job that another unit of work is changing is left out, not waited for: that
        one moves it on (and re-enqueues it if needed)."""
        ...

    async def hold(self, job_ids: list[str]) -> list[GenerationJob]:
        """The jobs among these ids, held for this unit of work: they stay as read until it ends
        (waiting for any that another unit of work is changing)."""
        ...

    async def save_held(self, jobs: list[GenerationJob]) -> None:
        """Write jobs this unit of work holds (read with `hold_claimable` or `hold`): nothing
        changed them since, so no compare-and-set is needed."""
        ...

    async def by_idempotency_key(self, user_id: str, key: str) -> GenerationJob | None: ...

    async def save(
        self, job: GenerationJob, *, expected_status: JobStatus, expected_attempts: int
    ) -> bool:
        """Write the job only if it is still in the expected state and attempt (a compare-and-set)."""
        ...

    async def list_for_user(
        self, user_id: str, *, status: JobStatus | None, limit: int, before: Position | None
    ) -> list[GenerationJob]: ...

    async def needing_attention(
        self, now: datetime, queued_before: datetime, limit: int
    ) -> list[GenerationJob]:
        """RUNNING jobs whose lease has run out, and QUEUED jobs older than `queued_before`."""
        ...

    async def live_for_user(
        self, user_id: str, *, finished_since: datetime, limit: int
    ) -> list[GenerationJob]:
        """The user's unfinished jobs and those finished at or after `finished_since`, newest
        first."""
        ...


class GenerationRepository(Protocol):
    async def add(self, generation: SvgGeneration) -> None: ...

    async def get(self, generation_id: str) -> SvgGeneration | None: ...

    async def add_many(self, generations: list[SvgGeneration]) -> None: ...

    async def get_many(self, generation_ids: list[str]) -> list[SvgGeneration]: ...

    async def for_jobs(self, job_ids: list[str]) -> list[SvgGeneration]:
        """The generations these jobs made, by job and then variant."""
        ...

    async def update(self, generation: SvgGeneration) -> None: ...

    async def delete(self, generation_id: str) -> None: ...

    async def list_for_user(
        self,
        user_id: str,
        *,
        limit: int,
        before: Position | None,
        style: str | None = None,
        model: str | None = None,
        privacy: bool | None = None,
    ) -> list[SvgGeneration]: ...

    async def list_public(
        self,
        *,
        limit: int,
        before: Position | None,
        style: str | None = None,
        model: str | None = None,
    ) -> list[SvgGeneration]: ...

    async def keys_for_user(self, user_id: str) -> list[str]: ...

    async def all_keys(self) -> list[str]: ...


@dataclass(frozen=True)
class GenerationRequest:
    job_id: str
    prompt: str
    style: str
    model: str
    provider_model: str
    attempt: int
    # A refinement: the drawing to change (`prompt` is then the instruction) and what it was of.
    previous_svg: str | None = None
    previous_prompt: str | None = None
    variant: int = 0  # which of the job's drawings this is
    repair: Repair | None = None  # ask again: the unusable answer and what is wrong with it
    # Told the answer's text so far while a streaming model writes (live drafts); quick, sync.
    on_draft: Callable[[str], None] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Repair:
    answer: str
    problem: str


class GenerationFault(Exception):
    """A generator, sanitizer or storage failure with a stable job error code.

    `transient` faults are retried with backoff; permanent ones fail the job at once.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        transient: bool,
        retry_after: float | None = None,
        answer: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.transient = transient
        self.retry_after = retry_after
        # An unusable answer's text (INVALID_SVG), for asking the model to repair it.
        self.answer = answer
        # When the model did answer (an unusable answer, a refusal): that answer, text aside, for
        # its tokens, which the provider charged all the same.
        self.spent: ModelAnswer | None = None


@dataclass(frozen=True)
class ModelAnswer:
    """What the model said and what it cost: `text` is the answer (SVG, possibly wrapped in prose
    or code fences), `model` the model that actually answered (the provider may name a dated
    snapshot), the tokens as the provider counted them, and how long the call took. A model that
    counts nothing (the offline one) answers zeros."""

    text: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0


class SvgGenerator(Protocol):
    async def generate(self, request: GenerationRequest) -> ModelAnswer:
        """Return the model's answer with its usage. Raises GenerationFault."""
        ...


class SvgRejected(Exception):
    """The sanitizer could not turn the input into a safe SVG."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class SvgSanitizer(Protocol):
    def sanitize(self, svg: str) -> str:
        """Return a safe, normalised SVG document, or raise SvgRejected."""
        ...


class SvgInspector(Protocol):
    def problem(self, svg: str) -> str | None:
        """What makes a sanitized SVG unusable as a picture (it draws nothing visible, it
        renders blank, ...), in words a model can act on; None when it is usable."""
        ...


class ObjectStorage(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def delete(self, key: str) -> None: ...

    async def exists(self, key: str) -> bool: ...

    async def signed_url(
        self, key: str, *, expires_in: int, filename: str, attachment: bool = True
    ) -> str:
        """An absolute URL that serves the object without credentials until it expires."""
        ...

    async def ping(self) -> None: ...


class RealtimePublisher(Protocol):
    async def job_updated(self, user_id: str, payload: dict[str, Any]) -> None: ...

    async def notification_created(self, user_id: str, payload: dict[str, Any]) -> None: ...

    async def job_draft(self, user_id: str, payload: dict[str, Any]) -> None:
        """A partial drawing of a running job (`generation-job:draft`); best effort, unordered
        with the job's updates, never stored."""
        ...

    async def session_revoked(self, session_ids: list[str]) -> None:
        """Disconnect the sockets opened with these sessions."""
        ...

    async def flush(self) -> None:
        """Make the updates published so far go out ahead of whatever this process hands to the
        queue next: wait until they are on their way to every process, or return at once when
        the queue itself sends them ahead of its next message. Called before a job is handed to
        the queue, so that the worker's next update of that job cannot reach a client before
        this one."""
        ...
