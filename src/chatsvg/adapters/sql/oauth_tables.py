"""Tables of the accounts feature (issue 11): linked OAuth identities and the durable mail outbox.

They live on the shared `metadata` of `tables.py`, so migrations and autogenerate see one schema,
as long as this module is imported (the accounts migration imports it for that reason).
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Index, Integer, String, Table, Text

from chatsvg.adapters.sql.tables import ID, UtcDateTime, metadata

oauth_identities = Table(
    "oauth_identities",
    metadata,
    Column("provider", String(32), primary_key=True),
    Column("subject", String(255), primary_key=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("email", String(254)),
    Column("created_at", UtcDateTime, nullable=False),
)

mail_outbox = Table(
    "mail_outbox",
    metadata,
    Column("id", ID, primary_key=True),
    Column("purpose", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("to_address", String(254), nullable=False),
    Column("reply_to", String(254)),
    Column("subject", String(255), nullable=False),
    Column("text_body", Text, nullable=False),
    Column("html_body", Text),
    Column("headers", JSON, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    Column("expires_at", UtcDateTime),
    Column("last_error", Text),
    Column("sensitive", Boolean, nullable=False, default=False),
    Index("ix_mail_outbox_status_next_attempt", "status", "next_attempt_at"),
    Index("ix_mail_outbox_created", "created_at", "id"),
)
