"""variants, repair and refinement of generations

Revision ID: a2e6f8b0c305
Revises: f1d5e7a9b204
Create Date: 2026-12-07 09:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a2e6f8b0c305"
down_revision = "f1d5e7a9b204"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A job makes `variants` drawings (n); a refinement names the generation it changes.
    with op.batch_alter_table("generation_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("variants", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("parent_id", sa.String(length=36), nullable=True))
    # One generation per (job, variant) instead of one per job.
    with op.batch_alter_table("svg_generations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("variant", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("parent_id", sa.String(length=36), nullable=True))
        batch_op.drop_constraint("uq_svg_generations_job_id", type_="unique")
        batch_op.create_unique_constraint("uq_svg_generations_job_variant", ["job_id", "variant"])


def downgrade() -> None:
    # Variants beyond the first have no place in the old schema: their rows go.
    op.execute("DELETE FROM svg_generations WHERE variant <> 0")
    with op.batch_alter_table("svg_generations", schema=None) as batch_op:
        batch_op.drop_constraint("uq_svg_generations_job_variant", type_="unique")
        batch_op.create_unique_constraint("uq_svg_generations_job_id", ["job_id"])
        batch_op.drop_column("parent_id")
        batch_op.drop_column("variant")
    with op.batch_alter_table("generation_jobs", schema=None) as batch_op:
        batch_op.drop_column("parent_id")
        batch_op.drop_column("variants")
