"""OAuth 2.1 authorization server: clients, codes, grants and tokens

Revision ID: e1c4d6f8a103
Revises: d1b3c5e7f902
Create Date: 2026-12-07 09:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Registers these tables on the shared metadata (autogenerate reads `tables.metadata`).
import chatsvg.adapters.sql.authorization_tables  # noqa: F401

revision = "e1c4d6f8a103"
down_revision = "d1b3c5e7f902"
branch_labels = None
depends_on = None


def _dt(name: str, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "authz_clients",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("client_uri", sa.String(length=2048), nullable=True),
        _dt("created_at", False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authz_clients")),
    )
    op.create_table(
        "authz_grants",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("client_id", sa.String(length=36), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        _dt("created_at", False),
        _dt("expires_at", False),
        _dt("last_used_at", False),
        _dt("revoked_at", True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["authz_clients.id"],
            name=op.f("fk_authz_grants_client_id_authz_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_authz_grants_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authz_grants")),
    )
    with op.batch_alter_table("authz_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_authz_grants_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_authz_grants_user_id"), ["user_id"], unique=False)

    for table, key in (("authz_codes", "code_hash"), ("authz_tokens", "token_hash")):
        extra: list[sa.Column[object]] = (
            [
                sa.Column("redirect_uri", sa.Text(), nullable=False),
                sa.Column("code_challenge", sa.String(length=128), nullable=False),
                _dt("created_at", False),
                _dt("expires_at", False),
                _dt("used_at", True),
            ]
            if table == "authz_codes"
            else [
                sa.Column("kind", sa.String(length=16), nullable=False),
                _dt("created_at", False),
                _dt("expires_at", False),
                _dt("spent_at", True),
            ]
        )
        op.create_table(
            table,
            sa.Column(key, sa.String(length=64), nullable=False),
            sa.Column("grant_id", sa.String(length=36), nullable=False),
            *extra,
            sa.ForeignKeyConstraint(
                ["grant_id"],
                ["authz_grants.id"],
                name=op.f(f"fk_{table}_grant_id_authz_grants"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint(key, name=op.f(f"pk_{table}")),
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_grant_id"), ["grant_id"], unique=False)


def downgrade() -> None:
    for table in ("authz_tokens", "authz_codes"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_grant_id"))
        op.drop_table(table)
    with op.batch_alter_table("authz_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_authz_grants_user_id"))
        batch_op.drop_index(batch_op.f("ix_authz_grants_client_id"))
    op.drop_table("authz_grants")
    op.drop_table("authz_clients")
