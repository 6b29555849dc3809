"""The in-memory tables, under the rules the SQL schema (`adapters/sql/tables.py`) declares.

Keys, unique constraints and foreign keys (all ON DELETE CASCADE) are listed here once, with
SQL's semantics, so the repositories state no rule of their own: an insert that breaks a key is
refused as the database refuses it, a delete removes what the database's cascade removes.
`tests/unit/test_memory_tables.py` proves these lists match the SQL schema.

Rows are domain objects (their attributes are named as the columns), copied in and out so that a
caller mutating an object it read changes nothing until it writes it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

# Table -> its primary key columns.
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "users": ("id",),
    "refresh_families": ("id",),
    "refresh_tokens": ("token_hash",),
    "password_reset_tokens": ("token_hash",),
    "oauth_identities": ("provider", "subject"),
    "mail_outbox": ("id",),
    "admin_links": ("token_hash",),
    "admin_sessions": ("token_hash",),
    "generation_jobs": ("id",),
    "svg_generations": ("id",),
    "credit_ledger": ("id",),
    "notifications": ("id",),
    "billing_subscriptions": ("id",),
    "billing_events": ("id",),
    "authz_clients": ("id",),
    "authz_grants": ("id",),
    "authz_codes": ("code_hash",),
    "authz_tokens": ("token_hash",),
    "api_keys": ("id",),
    "api_key_usage": ("id",),
}

# Table -> its unique keys besides the primary key. A row with a NULL in a key never conflicts.
UNIQUE_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "users": (("email",),),
    "generation_jobs": (("user_id", "idempotency_key"),),
    "svg_generations": (("job_id", "variant"),),
    "credit_ledger": (("job_id", "reason"),),
    "notifications": (("job_id", "type"),),
    "api_keys": (("key_hash",),),
}

# (table, column, referenced table): the row must exist; deleting it deletes the referencing rows.
FOREIGN_KEYS: tuple[tuple[str, str, str], ...] = (
    ("refresh_families", "user_id", "users"),
    ("refresh_tokens", "family_id", "refresh_families"),
    ("password_reset_tokens", "user_id", "users"),
    ("oauth_identities", "user_id", "users"),
    ("generation_jobs", "user_id", "users"),
    ("svg_generations", "user_id", "users"),
    ("credit_ledger", "user_id", "users"),
    ("notifications", "user_id", "users"),
    ("billing_subscriptions", "user_id", "users"),
    ("authz_grants", "user_id", "users"),
    ("authz_grants", "client_id", "authz_clients"),
    ("authz_codes", "grant_id", "authz_grants"),
    ("authz_tokens", "grant_id", "authz_grants"),
    ("api_keys", "user_id", "users"),
    ("api_key_usage", "key_id", "api_keys"),
    ("api_key_usage", "user_id", "users"),
)


class IntegrityViolation(Exception):
    """A write broke a key of the schema (what the database refuses with an IntegrityError)."""


def _key(table: str, row: Any) -> Any:
    columns = PRIMARY_KEYS[table]
    if len(columns) == 1:
        return getattr(row, columns[0])
    return tuple(getattr(row, c) for c in columns)


def _values(row: Any, columns: tuple[str, ...]) -> tuple[Any, ...] | None:
    values = tuple(getattr(row, c) for c in columns)
    return None if any(v is None for v in values) else values


class MemoryTables:
    """Every table's rows by primary key. `copy()` is a transaction's private snapshot."""

    def __init__(self, rows: dict[str, dict[Any, Any]] | None = None) -> None:
        self._rows = rows if rows is not None else {name: {} for name in PRIMARY_KEYS}

    def copy(self) -> MemoryTables:
        return MemoryTables({name: dict(rows) for name, rows in self._rows.items()})

    def get(self, table: str, key: Any) -> Any | None:
        row = self._rows[table].get(key)
        return copy.copy(row) if row is not None else None

    def has(self, table: str, key: Any) -> bool:
        return key in self._rows[table]

    def scan(self, table: str) -> Iterator[Any]:
        """The stored rows themselves, to filter: copy what leaves the adapter (`copy.copy`)."""
        return iter(list(self._rows[table].values()))

    def conflicts(self, table: str, row: Any, unique: tuple[str, ...]) -> bool:
        wanted = _values(row, unique)
        return wanted is not None and any(
            _values(other, unique) == wanted for other in self._rows[table].values()
        )

    def insert(self, table: str, row: Any) -> None:
        """Refused (IntegrityViolation) when a key is taken or a referenced row is missing."""
        if _key(table, row) in self._rows[table] or any(
            self.conflicts(table, row, unique) for unique in UNIQUE_KEYS.get(table, ())
        ):
            raise IntegrityViolation(f"{table}: key taken")
        for child, column, parent in FOREIGN_KEYS:
            value = getattr(row, column) if child == table else None
            if value is not None and value not in self._rows[parent]:
                raise IntegrityViolation(f"{table}.{column}: no {parent} {value!r}")
        self._rows[table][_key(table, row)] = copy.copy(row)

    def insert_once(self, table: str, row: Any, unique: tuple[str, ...]) -> bool:
        """INSERT ... ON CONFLICT (unique) DO NOTHING: False, nothing written, on that conflict."""
        if self.conflicts(table, row, unique):
            return False
        self.insert(table, row)
        return True

    def update(self, table: str, row: Any, columns: tuple[str, ...] | None = None) -> bool:
        """UPDATE ... WHERE <primary key>: the given columns (all by default); False when no row."""
        key = _key(table, row)
        stored = self._rows[table].get(key)
        if stored is None:
            return False
        if columns is None:
            self._rows[table][key] = copy.copy(row)
        else:
            self._rows[table][key] = replace(stored, **{c: getattr(row, c) for c in columns})
        return True

    def delete(self, table: str, key: Any) -> None:
        """DELETE ... WHERE <primary key>, cascading to the rows that reference it."""
        row = self._rows[table].pop(key, None)
        if row is None:
            return
        for child, column, parent in FOREIGN_KEYS:
            if parent == table:
                parent_key = getattr(row, PRIMARY_KEYS[table][0])
                for child_key, child_row in list(self._rows[child].items()):
                    if getattr(child_row, column) == parent_key:
                        self.delete(child, child_key)
