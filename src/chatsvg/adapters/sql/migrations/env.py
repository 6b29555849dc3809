"""Alembic environment. Runs on a connection handed in by `chatsvg.adapters.sql.migrate`."""

from __future__ import annotations

from alembic import context

import chatsvg.adapters.sql.oauth_tables  # noqa: F401  (registers its tables on the shared metadata)
from chatsvg.adapters.sql.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `chatsvg migrate` (chatsvg.adapters.sql.migrate)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    compare_type=True,
    # `chatsvg migrate` reports each migration applied or reverted.
    on_version_apply=context.config.attributes.get("on_version_apply"),
)
with context.begin_transaction():
    context.run_migrations()
