"""The in-memory store keeps the SQL schema's keys and cascades: the lists it states them in
(`adapters/memory/tables.py`) are the schema's own, read back from the SQLAlchemy tables."""

from __future__ import annotations

from sqlalchemy import UniqueConstraint

import chatsvg.adapters.sql.oauth_tables  # noqa: F401  (its tables join the shared metadata)
from chatsvg.adapters.memory.tables import FOREIGN_KEYS, PRIMARY_KEYS, UNIQUE_KEYS
from chatsvg.adapters.sql.tables import metadata


def test_the_memory_tables_are_the_sql_tables_with_their_primary_keys() -> None:
    sql = {t.name: tuple(c.name for c in t.primary_key.columns) for t in metadata.sorted_tables}
    assert sql == PRIMARY_KEYS


def test_the_memory_unique_keys_are_the_sql_ones() -> None:
    sql = {
        t.name: {
            tuple(c.name for c in u.columns)
            for u in t.constraints
            if isinstance(u, UniqueConstraint)
        }
        | {tuple(c.name for c in i.columns) for i in t.indexes if i.unique}
        for t in metadata.sorted_tables
    }
    memory = {name: set(UNIQUE_KEYS.get(name, ())) for name in PRIMARY_KEYS}
    assert memory == sql


def test_the_memory_foreign_keys_are_the_sql_ones_and_all_cascade() -> None:
    sql = {
        (t.name, fk.parent.name, fk.column.table.name): fk.ondelete
        for t in metadata.sorted_tables
        for fk in t.foreign_keys
    }
    assert set(sql.values()) == {"CASCADE"}
    assert set(FOREIGN_KEYS) == set(sql)
