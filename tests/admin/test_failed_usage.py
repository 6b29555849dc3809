"""A job's model usage covers every model call it made: unusable answers, repairs (mended or not),
answers behind a fault (a refusal), and attempts that failed; it is recorded when the job fails
too, so the admin's cost figures count what the provider charged (memory, SQLite, Postgres).

Prices here: gpt-4o at $2.50 / $10 per million input / output tokens (the list price)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from chatsvg.adapters.generation.openai_generator import OpenAiSvgGenerator
from chatsvg.adapters.generation.svg_inspector import SvgInspector
from chatsvg.adapters.generation.svg_sanitizer import SvgSanitizer
from chatsvg.application.generation.drawing import draw
from chatsvg.application.generation.usage import UsageMeter
from chatsvg.application.ports import GenerationFault, GenerationRequest, ModelAnswer
from chatsvg.domain.generation.jobs import JobStatus
from chatsvg.domain.generation.usage import DEFAULT_PRICES, JobUsage, PriceTable
from tests.behaviour.test_generation import command
from tests.conftest import Stack
from tests.support.fake_openai import FakeOpenAI, drawing

NS = 'xmlns="http://www.w3.org/2000/svg"'
BLANK = f'<svg {NS} viewBox="0 0 512 512"><rect width="512" height="512" fill="#eee"/></svg>'
GOOD = drawing("a fox")


def gpt4o(text: str, given: int, taken: int, ms: int) -> ModelAnswer:
    return ModelAnswer(text, "gpt-4o", given, taken, ms)


def refused(given: int, taken: int) -> GenerationFault:
    fault = GenerationFault("PROVIDER_REFUSED", "the model declined", transient=False)
    fault.spent = ModelAnswer("", "gpt-4o", given, taken, 7)
    return fault


async def test_failed_attempts_and_repairs_add_to_the_succeeded_job_s_usage(stack: Stack) -> None:
    user = await stack.user()
    job = (await stack.generation.submit(command(user, model="gpt-4o"))).job
    stack.generator.script.extend(
        [
            gpt4o(BLANK, 100, 50, 10),  # attempt 1: unusable,
            gpt4o(BLANK, 200, 60, 20),  # its repair unusable too: INVALID_SVG, requeued
            gpt4o(GOOD, 300, 70, 30),  # attempt 2: usable
        ]
    )
    await stack.drain()

    done = (await stack.generation.details(user, job.id)).job
    assert (done.status, done.attempts) == (JobStatus.SUCCEEDED, 2)
    # (600 * 2.50 + 180 * 10) / 1M = 0.0033; before, only attempt 2 was recorded (0.00145).
    assert done.usage == JobUsage(
        model="gpt-4o",
        prompt_tokens=600,
        completion_tokens=180,
        latency_ms=60,
        repaired=True,  # a repair was asked for (it did not mend the drawing)
        cost_usd=pytest.approx(0.0033),  # type: ignore[arg-type]
    )


async def test_a_job_that_fails_keeps_the_usage_of_every_call(stack: Stack) -> None:
    user = await stack.user()
    since = stack.clock.now() - timedelta(days=1)
    unusable = (await stack.generation.submit(command(user, "unusable", model="gpt-4o"))).job
    # Two attempts, each an unusable answer and a repair that does not mend it.
    stack.generator.script.extend(gpt4o(t, 100, 10, 1) for t in (BLANK, BLANK, "no", BLANK))
    await stack.drain()
    declined = (await stack.generation.submit(command(user, "declined", model="gpt-4o"))).job
    stack.generator.script.append(refused(40, 5))
    await stack.drain()
    unanswered = (await stack.generation.submit(command(user, "unanswered", model="gpt-4o"))).job
    stack.generator.script.append(GenerationFault("PROVIDER_REFUSED", "x", transient=False))
    await stack.drain()

    first = (await stack.generation.details(user, unusable.id)).job
    assert (first.status, first.error_code, first.attempts) == (JobStatus.FAILED, "INVALID_SVG", 2)
    assert first.usage is not None and first.usage.repaired
    assert (first.usage.prompt_tokens, first.usage.completion_tokens) == (400, 40)
    assert first.usage.cost_usd == pytest.approx((400 * 2.5 + 40 * 10) / 1e6)
    second = (await stack.generation.details(user, declined.id)).job
    assert (second.status, second.error_code) == (JobStatus.FAILED, "PROVIDER_REFUSED")
    assert second.usage == JobUsage(
        "gpt-4o",
        40,
        5,
        7,
        False,
        pytest.approx(0.00015),  # type: ignore[arg-type]
    )
    # A call with no answer (no tokens known) leaves the job without usage.
    assert (await stack.generation.details(user, unanswered.id)).job.usage is None

    # The admin's figures count them: two answered jobs, 0.00155 USD, one repaired.
    async with stack.uow() as tx:
        figures = await tx.admin_figures.figures(since, 5)
    assert figures.ai_jobs == 2 and figures.repaired_jobs == 1
    assert (figures.prompt_tokens, figures.completion_tokens) == (440, 45)
    assert figures.cost_usd == pytest.approx(0.0014 + 0.00015)


# --- the OpenAI adapter: an unusable answer's tokens go with its fault -------------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


def request() -> GenerationRequest:
    return GenerationRequest("job-1", "a red fox", "flat", "gpt-4o", "gpt-4o", 1)


async def test_the_adapter_s_fault_carries_the_tokens_of_the_answer(fake: FakeOpenAI) -> None:
    generator = OpenAiSvgGenerator("sk-test", base_url=fake.base_url)
    meter = UsageMeter(PriceTable.of(DEFAULT_PRICES))
    fake.configure(script=["prose", "prose"])
    try:
        with pytest.raises(GenerationFault) as failed:
            await draw(
                meter.metered(generator.generate),
                request(),
                sanitizer=SvgSanitizer(),
                inspector=SvgInspector(),
            )
    finally:
        await generator.aclose()
    assert failed.value.code == "INVALID_SVG"
    spent = failed.value.spent
    assert spent is not None and spent.prompt_tokens > 0 and spent.completion_tokens > 0
    assert spent.model == "gpt-4o" and spent.text == ""
    # Both calls (the answer and its repair) are counted.
    assert meter.usage is not None and meter.usage.repaired
    assert meter.usage.prompt_tokens > 2 * 180 and meter.usage.completion_tokens >= 2
    assert fake.requests()["count"] == 2
