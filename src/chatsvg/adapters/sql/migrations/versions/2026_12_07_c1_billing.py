"""billing: plans on users, PayPal subscriptions, billing events

Revision ID: c1a7b2d4e601
Revises: b1d6c0a2f9e4
Create Date: 2026-12-07 09:40:00
"""

from __future__ import annotations

revision = "c1a7b2d4e601"
down_revision = "b1d6c0a2f9e4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
