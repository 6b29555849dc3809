"""api keys: keys, their usage records, job source

Revision ID: d1b3c5e7f902
Revises: c1a7b2d4e601
Create Date: 2026-12-07 09:40:00
"""

from __future__ import annotations

revision = "d1b3c5e7f902"
down_revision = "c1a7b2d4e601"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
