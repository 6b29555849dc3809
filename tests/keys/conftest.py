"""The /v1 HTTP tests run on a live server, embedded (local mode, SQLite) and on the real stack
(Postgres, Redis, S3, a worker process): the fixtures of tests/e2e."""

from tests.e2e.conftest import (  # noqa: F401  (fixtures)
    client,
    client_factory,
    server,
    server_factory,
    stack_kind,
)
