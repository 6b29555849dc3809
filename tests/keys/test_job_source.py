"""Jobs record where they came from and the API key behind them, on every storage adapter set."""

from __future__ import annotations

from chatsvg.application.generation.submission import SubmitCommand
from chatsvg.domain.generation.jobs import JobSource, JobStatus
from tests.conftest import Stack


def _command(user_id: str, **extra: object) -> SubmitCommand:
    return SubmitCommand(
        user_id=user_id,
        prompt="a red fox",
        style=None,
        model=None,
        privacy=None,
        raw_body={"prompt": "a red fox"},
        **extra,  # type: ignore[arg-type]
    )


async def test_a_job_is_from_the_web_app_unless_told_otherwise(stack: Stack) -> None:
    user = await stack.user()
    job = (await stack.generation.submit(_command(user))).job
    async with stack.uow() as uow:
        stored = await uow.jobs.get(job.id)
    assert stored is not None
    assert (stored.source, stored.api_key_id) == (JobSource.WEB_APP, None)


async def test_a_job_keeps_its_source_and_key_through_processing(stack: Stack) -> None:
    user = await stack.user()
    job = (
        await stack.generation.submit(_command(user, source=JobSource.API, api_key_id="key-1"))
    ).job
    mcp = (await stack.generation.submit(_command(user, source=JobSource.MCP))).job
    await stack.drain()
    async with stack.uow() as uow:
        stored = await uow.jobs.get(job.id)
        other = await uow.jobs.get(mcp.id)
    assert stored is not None and other is not None
    assert (stored.status, stored.source, stored.api_key_id) == (
        JobStatus.SUCCEEDED,
        JobSource.API,
        "key-1",
    )
    assert (other.source, other.api_key_id) == (JobSource.MCP, None)


async def test_a_free_job_runs_offline_and_writes_no_ledger_entry(stack: Stack) -> None:
    user = await stack.user()
    before = await stack.library.ledger(user, limit=100, cursor=None)
    job = (
        await stack.generation.submit(
            _command(user, source=JobSource.API, api_key_id="k", free=True)
        )
    ).job
    assert (job.model, job.cost) == ("offline", 0)
    await stack.drain()
    async with stack.uow() as uow:
        stored = await uow.jobs.get(job.id)
    after = await stack.library.ledger(user, limit=100, cursor=None)
    assert stored is not None and stored.status is JobStatus.SUCCEEDED
    assert not stored.charged
    assert len(after.items) == len(before.items)
