"""api keys: keys, their usage records, job source

Revision ID: d1b3c5e7f902
Revises: c1a7b2d4e601
Create Date: 2026-12-07 09:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "d1b3c5e7f902"
down_revision = "c1a7b2d4e601"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Where each job came from (WEB_APP, API, MCP) and the API key that submitted it.
    with op.batch_alter_table("generation_jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=16), nullable=False, server_default="WEB_APP")
        )
        batch_op.add_column(sa.Column("api_key_id", sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("generation_jobs", schema=None) as batch_op:
        batch_op.drop_column("api_key_id")
        batch_op.drop_column("source")
