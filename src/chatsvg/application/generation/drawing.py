"""One drawing of a job attempt: ask the model, sanitize and inspect its answer, and when it is
not a usable picture ask once more, within the same attempt, naming the concrete problem."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from chatsvg.application.ports import (
    GenerationFault,
    GenerationRequest,
    ModelAnswer,
    Repair,
    SvgInspector,
    SvgRejected,
    SvgSanitizer,
)
from chatsvg.domain.generation.jobs import GenerationJob, JobErrorCode

Ask = Callable[[GenerationRequest], Awaitable[ModelAnswer]]


@dataclass(frozen=True)
class Drawn:
    """A usable, sanitized drawing; the answers it took (the first, and the repair if one was
    needed), and whether it was repaired."""

    svg: str
    answers: list[ModelAnswer]
    repaired: bool


async def draw(
    ask: Ask,
    request: GenerationRequest,
    *,
    sanitizer: SvgSanitizer,
    inspector: SvgInspector | None,
    repair: bool = True,
) -> Drawn:
    """Raises GenerationFault: the model's own faults, or INVALID_SVG when the answer was not
    usable and the repair (when `repair`) did not give a usable picture either."""
    answers: list[ModelAnswer] = []
    try:
        answer = await ask(request)
    except GenerationFault as fault:
        if fault.code != JobErrorCode.INVALID_SVG or not repair:
            raise
        text, problem = fault.answer or "", str(fault)
    else:
        answers.append(answer)
        svg, problem = _usable(answer.text, sanitizer, inspector)
        if svg is not None:
            return Drawn(svg, answers, repaired=False)
        if not repair:
            raise GenerationFault(JobErrorCode.INVALID_SVG, problem, transient=True)
        text = answer.text
    repaired = await ask(dataclasses.replace(request, repair=Repair(text, problem)))
    answers.append(repaired)
    svg, problem = _usable(repaired.text, sanitizer, inspector)
    if svg is None:
        raise GenerationFault(JobErrorCode.INVALID_SVG, problem, transient=True)
    return Drawn(svg, answers, repaired=True)


def job_requests(
    job: GenerationJob,
    provider_model: str,
    previous: tuple[str, str] | None,
    on_draft: Callable[[str], None] | None,
) -> list[GenerationRequest]:
    """What the model is asked for each of the job's drawings in this attempt: a refinement's
    previous SVG and prompt go along; the first drawing is shown as it forms (`on_draft`)."""
    return [
        GenerationRequest(
            job.id,
            job.prompt,
            job.style,
            job.model,
            provider_model,
            job.attempts,
            previous_svg=previous[0] if previous else None,
            previous_prompt=previous[1] if previous else None,
            variant=variant,
            on_draft=on_draft if variant == 0 else None,
        )
        for variant in range(job.variants)
    ]


async def draw_all(
    ask: Ask,
    requests: list[GenerationRequest],
    *,
    sanitizer: SvgSanitizer,
    inspector: SvgInspector | None,
    repair: bool = True,
) -> list[Drawn]:
    """The job's drawings, asked for at once. The first fault ends the attempt: the others are
    cancelled (a job's variants are made, charged and refunded as one)."""
    if len(requests) == 1:
        return [
            await draw(ask, requests[0], sanitizer=sanitizer, inspector=inspector, repair=repair)
        ]
    tasks = [
        asyncio.ensure_future(
            draw(ask, request, sanitizer=sanitizer, inspector=inspector, repair=repair)
        )
        for request in requests
    ]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _usable(
    text: str, sanitizer: SvgSanitizer, inspector: SvgInspector | None
) -> tuple[str | None, str]:
    """The sanitized SVG, or None and what is wrong with the answer."""
    try:
        svg = sanitizer.sanitize(text)
    except SvgRejected as rejected:
        return None, rejected.reason
    problem = inspector.problem(svg) if inspector is not None else None
    return (None, problem) if problem else (svg, "")
