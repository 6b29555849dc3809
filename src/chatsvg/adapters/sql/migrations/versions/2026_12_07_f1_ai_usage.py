"""per-job AI record (model, tokens, latency, cost) and admin sign-in links

Revision ID: f1d5e7a9b204
Revises: e1c4d6f8a103
Create Date: 2026-12-07 09:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "f1d5e7a9b204"
down_revision = "e1c4d6f8a103"
branch_labels = None
depends_on = None


def _usage_columns() -> list[sa.Column[object]]:
    """The job's usage (JobUsage): all null until a model has answered."""
    return [
        sa.Column("ai_model", sa.String(length=128), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("model_latency_ms", sa.Integer(), nullable=True),
        sa.Column("repaired", sa.Boolean(), nullable=True),
        sa.Column("cost_usd", sa.Float(), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("generation_jobs", schema=None) as batch_op:
        for column in _usage_columns():
            batch_op.add_column(column)
        batch_op.create_index("ix_generation_jobs_created", ["created_at"], unique=False)

    op.create_table(
        "admin_links",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_admin_links")),
    )
    op.create_table(
        "admin_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_admin_sessions")),
    )


def downgrade() -> None:
    op.drop_table("admin_sessions")
    op.drop_table("admin_links")
    with op.batch_alter_table("generation_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_generation_jobs_created")
        for column in reversed(_usage_columns()):
            batch_op.drop_column(column.name)
