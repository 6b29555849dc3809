"""Shared fixtures. The `uow` fixture runs each behavioural test on every storage adapter set:
the in-memory fake, SQLite (local mode) and Postgres (production)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from dependency_injector import providers

from chatsvg.adapters.clock import FrozenClock
from chatsvg.adapters.memory.store import (
    MemoryObjectStorage,
    MemoryStore,
    MemoryUnitOfWork,
    RecordingRealtime,
)
from chatsvg.adapters.rate_limits import LimitsRateLimiter, RatePolicy
from chatsvg.adapters.sql.engine import SqlDatabase
from chatsvg.adapters.sql.migrate import upgrade
from chatsvg.adapters.sql.tables import metadata
from chatsvg.application.accounts.auth import AuthService
from chatsvg.application.gallery.library import GenerationLibrary
from chatsvg.application.generation.processor import JobProcessor
from chatsvg.application.generation.reaper import JobReaper
from chatsvg.application.generation.retry import RetryPolicy
from chatsvg.application.generation.submission import GenerationService
from chatsvg.application.generation.tasks import GENERATE, generate_task
from chatsvg.application.notifications.service import NotificationService
from chatsvg.application.ports import UnitOfWorkFactory
from chatsvg.application.tasks import TaskRegistry
from chatsvg.domain.credits.plans import default_catalogue
from chatsvg.domain.generation.requests import Catalogue, ModelSpec
from chatsvg.entrypoints.accounts_settings import AccountsSettings
from chatsvg.entrypoints.containers import Container, create_container
from chatsvg.entrypoints.settings import load_settings
from tests.support.fake_openai import start_process
from tests.support.fakes import RecordingQueue, ScriptedGenerator
from tests.support.moto_server import start_moto_process
from tests.support.real_stack import AWS_ENV, REDIS_DB_URL, RealServices

PG_ADMIN_URL = os.environ.get(
    "CHATSVG_TEST_PG_ADMIN", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REDIS_TEST_URL = os.environ.get("CHATSVG_TEST_REDIS", "redis://127.0.0.1:6379/15")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("CHATSVG_SKIP_REAL") == "1":
        skip = pytest.mark.skip(reason="CHATSVG_SKIP_REAL=1")
        for item in items:
            if "real" in item.keywords:
                item.add_marker(skip)


def run_in_fresh_loop(factory: Callable[[], Any]) -> Any:
    """Run a coroutine to completion on its own loop in a thread (safe even while a test loop runs)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


async def create_database() -> str:
    """A fresh Postgres database migrated to head; returns its URL."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    name = f"chatsvg_test_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    db = SqlDatabase(url)
    await upgrade(db.engine)
    await db.dispose()
    return url


async def drop_database(url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    admin = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    await admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Any:
    """A fresh database for this test session, migrated to head, dropped at the end."""
    url = run_in_fresh_loop(create_database)
    yield url
    run_in_fresh_loop(lambda: drop_database(url))


async def truncate_all(db: SqlDatabase) -> None:
    from sqlalchemy import text

    async with db.engine.begin() as conn:
        names = ", ".join(t.name for t in reversed(metadata.sorted_tables))
        await conn.execute(text(f"TRUNCATE {names} CASCADE"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A SQLite database migrated to head once per session: each SQLite test starts from a copy
    (migrating costs more than most tests)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"

    async def migrate() -> None:
        db = SqlDatabase(f"sqlite+aiosqlite:///{path}")
        await upgrade(db.engine)
        await db.dispose()

    run_in_fresh_loop(migrate)
    return path


@pytest.fixture(
    params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.real)],
)
async def uow(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[UnitOfWorkFactory]:
    kind = request.param
    if kind == "memory":
        store = MemoryStore()
        yield lambda: MemoryUnitOfWork(store)
        return
    if kind == "sqlite":
        shutil.copyfile(request.getfixturevalue("sqlite_template"), tmp_path / "test.db")
        db = SqlDatabase(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
    else:
        db = SqlDatabase(request.getfixturevalue("postgres_url"))
        await truncate_all(db)
    try:
        yield db.uow
    finally:
        await db.dispose()


CATALOGUE = Catalogue(
    models=(ModelSpec("offline", "offline", 1), ModelSpec("gpt-4o", "gpt-4o", 2)),
    default_model="offline",
)

POLICIES = {
    "login": RatePolicy(5, 900, fail_open=False),
    "generate": RatePolicy(1000, 60),
    "forgot-password": RatePolicy(3, 3600),
}


@dataclass
class Stack:
    """Everything a use case needs, with fakes where the outside world would be."""

    uow: UnitOfWorkFactory
    clock: FrozenClock
    storage: MemoryObjectStorage
    realtime: RecordingRealtime
    queue: RecordingQueue
    generator: ScriptedGenerator
    auth: AuthService
    generation: GenerationService
    library: GenerationLibrary
    processor: JobProcessor
    reaper: JobReaper
    notifications: NotificationService
    container: Container  # the rest of the app, on the same fakes

    async def user(self, email: str = "ada@example.com", password: str = "correct horse") -> str:
        from chatsvg.application.accounts.auth import ClientInfo

        signed = await self.auth.register(
            email=email,
            password=password,
            name="Ada",
            agreed_to_terms=True,
            client=ClientInfo("pytest", "127.0.0.1"),
        )
        return signed.account.user.id

    async def drain(self, limit: int = 50) -> None:
        """Run queued tasks through their handlers until none are left (delays are skipped)."""
        tasks = TaskRegistry()
        tasks.register(GENERATE, generate_task(self.processor))
        for _ in range(limit):
            sent = self.queue.take_all()
            if not sent:
                return
            for task, payload in sent:
                await tasks.run(task, payload, requeue=self.queue)
        raise AssertionError("queue did not drain")


TEST_SETTINGS: dict[str, Any] = {
    "secret_key": "x" * 32,
    "argon2_time_cost": 1,  # cheap hashing
    "argon2_memory_kib": 1024,
    "session_cache_seconds": 0,  # every request reads its session
    "worker_claim_concurrency": 0,  # no bound on claim and finish transactions
    "worker_finish_concurrency": 0,
    "plan_quotas": False,  # tests submit more than a plan's window allows; tests/billing turn it on
}


TEST_ACCOUNTS = AccountsSettings(
    forgot_password_min_seconds=0.0,
    reset_url="https://app.example/reset-password",
    mail_max_attempts=3,
    mail_retry_base_seconds=10,
    mail_retry_cap_seconds=60,
)


def app_container(*, start_credits: int = 10, **settings: Any) -> Container:
    """The app's container with cheap settings; tests override its providers with their fakes."""
    values = {**TEST_SETTINGS, "start_credits": start_credits, **settings}
    return create_container(load_settings({}, **values), TEST_ACCOUNTS)


def build_stack(
    uow: UnitOfWorkFactory, *, start_credits: int = 10, policy: RetryPolicy | None = None
) -> Stack:
    """The use cases from the app's container, with fakes where the outside world would be."""
    container = app_container(start_credits=start_credits)
    clock = FrozenClock()
    storage = MemoryObjectStorage()
    realtime = RecordingRealtime()
    queue = RecordingQueue()
    generator = ScriptedGenerator()
    infra = container.infrastructure
    infra.uow.override(providers.Object(uow))
    infra.clock.override(providers.Object(clock))
    infra.storage.override(providers.Object(storage))
    infra.realtime.override(providers.Object(realtime))
    infra.queue.override(providers.Object(queue))
    infra.limiter.override(providers.Object(LimitsRateLimiter.in_memory(POLICIES)))
    infra.gallery_cache.override(providers.Object(None))  # read through, no cache
    generation = container.generation
    generation.generator.override(providers.Object(generator))
    generation.catalogue.override(providers.Object(CATALOGUE))
    generation.circuit.override(providers.Object(None))  # every failure reaches the retry policy
    generation.retry_policy.override(
        providers.Object(policy or RetryPolicy(max_attempts=3, backoff_base=0.01, backoff_cap=0.05))
    )
    return Stack(
        uow,
        clock,
        storage,
        realtime,
        queue,
        generator,
        container.accounts.auth(),
        generation.submission(),
        container.gallery.library(),
        generation.processor(),
        generation.reaper(),
        container.notifications.service(),
        container,
    )


def with_plan_quota(stack: Stack, *, free: int, supporter: int = 5) -> Stack:
    """The stack's submission service rebuilt with the plans' generation quotas on (the test
    settings turn them off): `free` and `supporter` generations per window."""
    plans = default_catalogue(free_generations=free, supporter_generations=supporter)
    stack.container.infrastructure.plans.override(providers.Object(plans))
    stack.container.generation.submission.reset()
    service = stack.container.generation.submission()
    assert isinstance(service, GenerationService)
    stack.generation = service
    return stack


@pytest.fixture
def stack(uow: UnitOfWorkFactory) -> Stack:
    return build_stack(uow)


@pytest.fixture
def make_stack(uow: UnitOfWorkFactory) -> Callable[..., Stack]:
    return lambda **kw: build_stack(uow, **kw)


@pytest.fixture(scope="session")
def real_services(
    postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RealServices]:
    """Postgres, Redis, moto's S3 server and the fake OpenAI server, once per test session."""
    os.environ.update(AWS_ENV)
    moto = start_moto_process(log_path=tmp_path_factory.mktemp("moto") / "moto.log")
    openai = start_process(latency=0.05)
    try:
        yield RealServices(postgres_url, REDIS_DB_URL, moto.endpoint_url, openai.base_url)
    finally:
        openai.stop()
        moto.stop()


@pytest.fixture(scope="session")
def real_worker(
    real_services: RealServices, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One `chatsvg worker` process for the session's real-stack e2e tests; yields its bucket.

    What the worker reads (database, Redis, bucket, model server) is the same for every test; what
    tests vary (rate limits, credits, token lifetimes) is the API's business, so one worker serves all.
    """
    from chatsvg.entrypoints.settings import load_settings
    from tests.support.real_stack import WorkerProcess

    bucket = f"chatsvg-e2e-{uuid.uuid4().hex[:8]}"
    logs = tmp_path_factory.mktemp("worker")
    settings = load_settings(
        {}, data_dir=str(logs), **real_services.settings_values(s3_bucket=bucket)
    )
    worker = WorkerProcess(settings, log_path=logs / "worker.log")
    try:
        yield bucket
    finally:
        worker.stop()


@pytest.fixture(scope="module")
def client_site() -> Iterator[str]:
    """The built web client served on its port (tests/support/built_client.py) for a module's
    Chromium tests of its pages; the module starts its `api` on API_PORT."""
    from tests.support.built_client import serving_built_client

    with serving_built_client() as origin:
        yield origin


@pytest.fixture(scope="module")
def client_browser(client_site: str, api: Any) -> Iterator[Any]:
    """Chromium for those tests, once the built client and the module's `api` are up."""
    from tests.support.built_client import chromium

    with chromium() as launched:
        yield launched
