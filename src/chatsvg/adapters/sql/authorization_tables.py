"""Tables of the OAuth 2.1 authorization server for MCP clients (issue 26): registered clients,
grants (one consent each), and the codes and tokens issued under a grant, stored by hash.

Not the Google/GitHub sign-in (`oauth_tables.py`), where ChatSVG is the client. The tables join the
shared `metadata` of `tables.py` when this module is imported (the SQL unit of work and this
feature's migration import it).
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, String, Table, Text

from chatsvg.adapters.sql.tables import ID, UtcDateTime, metadata

authz_clients = Table(
    "authz_clients",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("redirect_uris", JSON, nullable=False),
    Column("client_uri", String(2048)),
    Column("created_at", UtcDateTime, nullable=False),
)

authz_grants = Table(
    "authz_grants",
    metadata,
    Column("id", ID, primary_key=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column(
        "client_id",
        ID,
        ForeignKey("authz_clients.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("scope", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("last_used_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)

authz_codes = Table(
    "authz_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column(
        "grant_id",
        ID,
        ForeignKey("authz_grants.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("redirect_uri", Text, nullable=False),
    Column("code_challenge", String(128), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime),
)

authz_tokens = Table(
    "authz_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column(
        "grant_id",
        ID,
        ForeignKey("authz_grants.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("kind", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("spent_at", UtcDateTime),
)
