"""The per-job AI record: what the model used, recorded with the job (memory, SQLite, Postgres)."""

from __future__ import annotations

import pytest

from chatsvg.application.ports import ModelAnswer
from chatsvg.domain.generation.jobs import JobStatus
from chatsvg.domain.generation.usage import JobUsage, PriceTable
from chatsvg.entrypoints.containers.generation import build_prices
from chatsvg.entrypoints.http.generation_schemas import job_json
from chatsvg.entrypoints.settings import SettingsError, load_settings
from tests.behaviour.test_generation import command
from tests.conftest import Stack
from tests.support.fakes import transient

SVG = (
    "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 10 10'><rect width='5' height='5'/></svg>"
)


async def test_a_job_records_the_model_s_usage_and_its_estimated_cost(stack: Stack) -> None:
    user = await stack.user()
    job = (await stack.generation.submit(command(user, model="gpt-4o"))).job
    # The provider answers with a dated snapshot: it is priced as gpt-4o ($2.50 / $10 per 1M).
    stack.generator.script.append(ModelAnswer(SVG, "gpt-4o-2024-08-06", 1000, 500, 1234))
    await stack.drain()

    done = (await stack.generation.details(user, job.id)).job
    assert done.status is JobStatus.SUCCEEDED
    assert done.usage == JobUsage(
        model="gpt-4o-2024-08-06",
        prompt_tokens=1000,
        completion_tokens=500,
        latency_ms=1234,
        repaired=False,
        cost_usd=pytest.approx(0.0075),  # type: ignore[arg-type]
    )
    usage = job_json(done).usage
    assert usage is not None
    assert (usage.total_tokens, usage.attempts, usage.repaired) == (1500, 1, False)
    assert usage.cost_usd == pytest.approx(0.0075)


async def test_the_offline_model_records_zeros(stack: Stack) -> None:
    user = await stack.user()
    job = (await stack.generation.submit(command(user))).job
    assert job_json(job).usage is None  # nothing answered yet
    await stack.drain()

    done = (await stack.generation.details(user, job.id)).job
    assert done.usage == JobUsage(model="offline")
    assert job_json(done).usage is not None


async def test_attempts_count_every_claim(stack: Stack) -> None:
    user = await stack.user()
    job = (await stack.generation.submit(command(user))).job
    stack.generator.script.extend([transient(), ModelAnswer(SVG, "offline", 10, 20, 5)])
    await stack.drain()

    done = (await stack.generation.details(user, job.id)).job
    assert done.status is JobStatus.SUCCEEDED and done.attempts == 2
    usage = job_json(done).usage
    assert usage is not None and (usage.attempts, usage.prompt_tokens) == (2, 10)


def test_the_price_table_setting_adds_to_the_list_prices() -> None:
    prices = build_prices(load_settings({}, model_prices="my-model=1/2, gpt-4o=3/4"))
    assert prices.cost("my-model", 1_000_000, 1_000_000) == pytest.approx(3.0)
    assert prices.cost("gpt-4o-2024-08-06", 1_000_000, 0) == pytest.approx(3.0)
    assert prices.cost("gpt-5-mini-2025-08-07", 1_000_000, 1_000_000) == pytest.approx(2.25)
    assert prices.cost("unknown", 10, 10) == 0.0
    assert PriceTable().cost("gpt-4o", 10, 10) == 0.0
    with pytest.raises(SettingsError):
        build_prices(load_settings({}, model_prices="gpt-4o=cheap"))
