"""variants, repair and refinement of generations

Revision ID: a2e6f8b0c305
Revises: f1d5e7a9b204
Create Date: 2026-12-07 09:40:00
"""

from __future__ import annotations

revision = "a2e6f8b0c305"
down_revision = "f1d5e7a9b204"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
