"""a partial index for a user's reserved credits (QUEUED jobs not charged yet)

Revision ID: b3f7a9c1d406
Revises: a2e6f8b0c305
Create Date: 2026-12-08 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b3f7a9c1d406"
down_revision = "a2e6f8b0c305"
branch_labels = None
depends_on = None

# As tables.reserving() renders it: the statements' WHERE must imply it for Postgres to use it.
RESERVING = "status = 'QUEUED' AND charged IS false"


def upgrade() -> None:
    # Built in the migration's transaction (as every index here): it reads the jobs table once and
    # holds off writes to it meanwhile; the index itself holds only the QUEUED, uncharged jobs.
    dialect = op.get_bind().dialect.name
    where = sa.text(RESERVING if dialect == "postgresql" else "status = 'QUEUED' AND charged IS 0")
    op.create_index(
        "ix_generation_jobs_reserved",
        "generation_jobs",
        ["user_id"],
        unique=False,
        postgresql_include=["cost"],
        postgresql_where=where,
        sqlite_where=where,
    )


def downgrade() -> None:
    op.drop_index("ix_generation_jobs_reserved", table_name="generation_jobs")
