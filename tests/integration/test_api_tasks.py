"""What an API process runs besides requests (entrypoints/tasks.py `start_api_tasks`), wired from
the real container: its own task queue for `send_mail`, the worker tasks on Dramatiq when there is
Redis (on its own queue in local mode), and its periodic sweeps."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import redis

from chatsvg.adapters.queue.dramatiq import DramatiqTaskQueue, route
from chatsvg.adapters.queue.inprocess import InProcessTaskQueue
from chatsvg.adapters.sql.migrate import upgrade
from chatsvg.application.generation.tasks import GENERATE
from chatsvg.application.ports import MailMessage
from chatsvg.application.tasks import UnknownTask
from chatsvg.entrypoints.accounts_settings import AccountsSettings
from chatsvg.entrypoints.containers import Container, create_container
from chatsvg.entrypoints.tasks import start_api_tasks
from tests.e2e.conftest import local_settings
from tests.support.real_stack import REDIS_DB_URL


async def container_for(tmp_path: Path, accounts: AccountsSettings, **settings: Any) -> Container:
    container = create_container(local_settings(tmp_path, **settings), accounts)
    container.settings().data_path.mkdir(parents=True, exist_ok=True)
    await upgrade(container.infrastructure.database().engine)
    return container


async def send_a_mail(container: Container) -> list[Path]:
    outbox = container.mail.outbox()
    await outbox.enqueue(MailMessage("ada@example.com", "Hi", "text"), purpose="test")
    await container.infrastructure.local_tasks().join()
    return sorted((container.settings().data_path / "outbox").glob("*.eml"))


@pytest.mark.real
async def test_with_redis_the_api_sends_its_mail_itself_and_jobs_to_the_worker(
    tmp_path: Path,
) -> None:
    namespace = f"chatsvg-test-{uuid.uuid4().hex[:8]}"
    container = await container_for(
        tmp_path, AccountsSettings(), redis_url=REDIS_DB_URL, metrics_interval_seconds=60
    )
    infra = container.infrastructure
    queue = DramatiqTaskQueue(REDIS_DB_URL, tasks=[GENERATE], namespace=namespace)
    infra.queue.override(queue)
    tasks = start_api_tasks(container)
    try:
        assert tasks.scheduler.names == ["mail-outbox", "metrics-figures"]  # no reaper here
        assert infra.local_tasks() is not queue
        [mail] = await send_a_mail(container)
        assert "Subject: Hi" in mail.read_text()
        # A job's wake-up goes to Redis for the worker; this process does not run it.
        await infra.queue().enqueue(GENERATE, "job-1")
        assert await queue.depth() == 1
        client = redis.Redis.from_url(REDIS_DB_URL)
        assert client.llen(f"{namespace}:{route(GENERATE).queue_name}") == 1
        client.close()
        with pytest.raises(UnknownTask):
            await infra.local_tasks().enqueue(GENERATE, "job-1")
    finally:
        await tasks.stop()
        await queue.aclose()
        await infra.database().dispose()
        client = redis.Redis.from_url(REDIS_DB_URL)
        keys = client.keys(f"{namespace}:*")
        if keys:
            client.delete(*keys)
        client.close()


async def test_in_local_mode_one_queue_runs_every_task_and_the_reaper_sweeps(
    tmp_path: Path,
) -> None:
    container = await container_for(tmp_path, AccountsSettings())
    infra = container.infrastructure
    tasks = start_api_tasks(container)
    try:
        assert isinstance(infra.queue(), InProcessTaskQueue)
        assert infra.local_tasks() is infra.queue()
        assert tasks.scheduler.names == ["mail-outbox", "reaper", "oauth-purge", "metrics-figures"]
        [mail] = await send_a_mail(container)
        assert "Subject: Hi" in mail.read_text()
    finally:
        await tasks.stop()
        await infra.database().dispose()


async def test_with_mail_off_nothing_delivers_and_the_mail_waits(tmp_path: Path) -> None:
    container = await container_for(tmp_path, AccountsSettings(mail_backend="none"))
    infra = container.infrastructure
    tasks = start_api_tasks(container)
    try:
        assert "mail-outbox" not in tasks.scheduler.names
        assert await send_a_mail(container) == []
        [waiting] = await container.mail.outbox().recent()
        assert waiting.status.value == "PENDING"
    finally:
        await tasks.stop()
        await infra.database().dispose()
