"""OAuth 2.1 authorization server: clients, codes, grants and tokens

Revision ID: e1c4d6f8a103
Revises: d1b3c5e7f902
Create Date: 2026-12-07 09:40:00
"""

from __future__ import annotations

revision = "e1c4d6f8a103"
down_revision = "d1b3c5e7f902"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
