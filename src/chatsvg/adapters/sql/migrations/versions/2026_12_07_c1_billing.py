"""billing: plans on users, PayPal subscriptions, billing events

Revision ID: c1a7b2d4e601
Revises: b1d6c0a2f9e4
Create Date: 2026-12-07 09:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Registers these tables on the shared metadata (see the accounts migration).
import chatsvg.adapters.sql.billing_tables  # noqa: F401

revision = "c1a7b2d4e601"
down_revision = "b1d6c0a2f9e4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "billing_subscriptions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_update_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_billing_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_payment_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_billing_subscriptions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_subscriptions")),
    )
    with op.batch_alter_table("billing_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_billing_subscriptions_user_created", ["user_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_billing_subscriptions_status_updated", ["status", "updated_at"], unique=False
        )

    op.create_table(
        "billing_events",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("subscription_id", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.String(length=36), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_events")),
    )
    with op.batch_alter_table("billing_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_billing_events_subscription", ["subscription_id", "received_at"], unique=False
        )
        batch_op.create_index(
            "ix_billing_events_pending", ["processed_at", "received_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("billing_events", schema=None) as batch_op:
        batch_op.drop_index("ix_billing_events_pending")
        batch_op.drop_index("ix_billing_events_subscription")
    op.drop_table("billing_events")
    with op.batch_alter_table("billing_subscriptions", schema=None) as batch_op:
        batch_op.drop_index("ix_billing_subscriptions_status_updated")
        batch_op.drop_index("ix_billing_subscriptions_user_created")
    op.drop_table("billing_subscriptions")
