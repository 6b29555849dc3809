"""The relational schema. The domain never sees it: repositories translate rows to domain objects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    literal_column,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

from chatsvg.domain.generation.jobs import JobStatus


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, also on SQLite (which stores no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        result: datetime = (
            value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        )
        return result


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(36)

users = Table(
    "users",
    metadata,
    Column("id", ID, primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("name", String(100), nullable=False, default=""),
    Column("password_hash", String(255)),
    Column("avatar", String(1024)),
    Column("plan", String(20), nullable=False, default="FREE"),
    Column("email_verified", Boolean, nullable=False, default=False),
    Column("credits", Integer, nullable=False, default=0),
    Column("created_at", UtcDateTime, nullable=False),
    Column("notifications_seen_at", UtcDateTime),
)

refresh_families = Table(
    "refresh_families",
    metadata,
    Column("id", ID, primary_key=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("last_used_at", UtcDateTime, nullable=False),
    Column("remember_me", Boolean, nullable=False, default=False),
    Column("revoked_at", UtcDateTime),
    Column("user_agent", String(512)),
    Column("ip_address", String(64)),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column(
        "family_id",
        ID,
        ForeignKey("refresh_families.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("created_at", UtcDateTime, nullable=False),
    Column("spent_at", UtcDateTime),
)

password_reset_tokens = Table(
    "password_reset_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime),
)

generation_jobs = Table(
    "generation_jobs",
    metadata,
    Column("id", ID, primary_key=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("prompt", Text, nullable=False),
    Column("style", String(32), nullable=False),
    Column("model", String(64), nullable=False),
    # The model calls' record (JobUsage): all null until a model has answered.
    Column("ai_model", String(128)),
    Column("prompt_tokens", Integer),
    Column("completion_tokens", Integer),
    Column("model_latency_ms", Integer),
    Column("repaired", Boolean),
    Column("cost_usd", Float),
    Column("privacy", Boolean, nullable=False),
    Column("cost", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("progress", Integer, nullable=False, default=0),
    Column("attempts", Integer, nullable=False, default=0),
    Column("charged", Boolean, nullable=False, default=False),
    Column("refunded", Boolean, nullable=False, default=False),
    Column("error_code", String(64)),
    Column("error_message", Text),
    Column("generation_id", ID),
    Column("idempotency_key", String(128)),
    Column("request_fingerprint", String(64)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("started_at", UtcDateTime),
    Column("finished_at", UtcDateTime),
    Column("lease_expires_at", UtcDateTime),
    Column("variants", Integer, nullable=False, default=1, server_default="1"),
    Column("parent_id", ID),  # the generation a refinement changes
    Column("source", String(16), nullable=False, default="WEB_APP"),
    Column("api_key_id", ID),
    UniqueConstraint("user_id", "idempotency_key", name="uq_generation_jobs_user_idempotency_key"),
    Index("ix_generation_jobs_user_created", "user_id", "created_at", "id"),
    Index("ix_generation_jobs_status_updated", "status", "updated_at"),
    Index("ix_generation_jobs_created", "created_at"),  # the admin metrics' 30-day window
)


def reserving(jobs: Any) -> ColumnElement[bool]:
    """The jobs whose cost is reserved (domain `can_afford`): QUEUED and not charged yet, over
    `jobs` (the table or an alias). Written with constants, not parameters, and used both by the
    statements that sum reserved costs and by the partial index below: Postgres uses a partial
    index only where it can prove the statement's WHERE implies the index's, which it cannot for
    a parameter in a prepared statement's generic plan."""
    return and_(
        jobs.c.status == literal_column(f"'{JobStatus.QUEUED.value}'"), jobs.c.charged.is_(False)
    )


# A user's reserved credits are read on every accepted prompt: without this index Postgres read
# every QUEUED job of every user (the status index) and filtered, so an accept cost grew with
# the whole queue's depth (docs/performance.md, twelfth round). With it, an index-only scan of
# the user's own reserved jobs.
Index(
    "ix_generation_jobs_reserved",
    generation_jobs.c.user_id,
    postgresql_include=["cost"],
    postgresql_where=reserving(generation_jobs),
    sqlite_where=reserving(generation_jobs),
)

svg_generations = Table(
    "svg_generations",
    metadata,
    Column("id", ID, primary_key=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("job_id", ID, nullable=False),
    Column("variant", Integer, nullable=False, default=0, server_default="0"),
    Column("parent_id", ID),  # the generation this one refines
    Column("prompt", Text, nullable=False),
    Column("style", String(32), nullable=False),
    Column("model", String(64), nullable=False),
    Column("privacy", Boolean, nullable=False),
    Column("storage_key", String(512), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_svg_generations_user_created", "user_id", "created_at", "id"),
    Index("ix_svg_generations_public_created", "privacy", "created_at", "id"),
    # A job's drawings: one per variant.
    UniqueConstraint("job_id", "variant", name="uq_svg_generations_job_variant"),
)

credit_ledger = Table(
    "credit_ledger",
    metadata,
    Column("id", ID, primary_key=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("delta", Integer, nullable=False),
    Column("reason", String(32), nullable=False),
    Column("job_id", ID),
    Column("created_at", UtcDateTime, nullable=False),
    # At most one charge and one refund per job, whatever races or replays happen.
    UniqueConstraint("job_id", "reason", name="uq_credit_ledger_job_reason"),
    Index("ix_credit_ledger_user_created", "user_id", "created_at", "id"),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", ID, primary_key=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("type", String(32), nullable=False),
    Column("title", String(200), nullable=False),
    Column("message", Text, nullable=False),
    Column("data", JSON, nullable=False),
    Column("job_id", ID),
    Column("created_at", UtcDateTime, nullable=False),
    Column("read_at", UtcDateTime),
    UniqueConstraint("job_id", "type", name="uq_notifications_job_type"),
    Index("ix_notifications_user_created", "user_id", "created_at", "id"),
)

# The admin page's sign-in: single-use links and the sessions they open (tokens stored hashed).
admin_links = Table(
    "admin_links",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("email", String(254), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime),
)

admin_sessions = Table(
    "admin_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("email", String(254), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)

# API keys (issue 26): only a keyed hash of each key is kept, with a short prefix to show.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", ID, primary_key=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("description", Text),
    Column("key_prefix", String(32), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("environment", String(16), nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("ip_whitelist", JSON, nullable=False),
    Column("custom_rate_limit", Integer),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime),
    Column("last_used_at", UtcDateTime),
    Column("revoked_at", UtcDateTime),
    Column("usage_count", Integer, nullable=False, default=0),
    Index("ix_api_keys_user_created", "user_id", "created_at", "id"),
)

api_key_usage = Table(
    "api_key_usage",
    metadata,
    Column("id", ID, primary_key=True),
    Column("key_id", ID, ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("endpoint", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("latency_ms", Integer, nullable=False),
    Column("credits", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_api_key_usage_key_created", "key_id", "created_at"),
    Index("ix_api_key_usage_user_created", "user_id", "created_at"),
)

# The OAuth 2.1 authorization server's tables join this metadata from their own module.
import chatsvg.adapters.sql.authorization_tables  # noqa: E402, F401
