"""Tables of billing (issue 22): our copy of PayPal subscriptions, and the webhook events.

They live on the shared `metadata` of `tables.py`; the billing migration imports this module so
that autogenerate keeps seeing them. Credits granted by billing are rows of `credit_ledger`
(reasons PLAN_GRANT and PLAN_REFILL), whose unique (job_id, reason) key makes each grant once-only.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table, Text

from chatsvg.adapters.sql.tables import ID, UtcDateTime, metadata

billing_subscriptions = Table(
    "billing_subscriptions",
    metadata,
    Column("id", String(64), primary_key=True),  # PayPal's subscription id (I-...)
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("plan_id", String(64)),
    Column("status", String(32), nullable=False),
    Column("customer_id", String(64)),
    Column("start_time", UtcDateTime),
    Column("status_update_time", UtcDateTime),
    Column("next_billing_time", UtcDateTime),
    Column("last_payment_time", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_billing_subscriptions_user_created", "user_id", "created_at"),
    Index("ix_billing_subscriptions_status_updated", "status", "updated_at"),
)

billing_events = Table(
    "billing_events",
    metadata,
    Column("id", String(64), primary_key=True),  # PayPal's event id (WH-...)
    Column("event_type", String(64), nullable=False),
    Column("subscription_id", String(64)),
    # No foreign key: an event's record outlives a deleted account (what PayPal sent us).
    Column("user_id", ID),
    Column("payload", JSON, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("processed_at", UtcDateTime),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("outcome", String(200)),
    Index("ix_billing_events_subscription", "subscription_id", "received_at"),
    Index("ix_billing_events_pending", "processed_at", "received_at"),
)
