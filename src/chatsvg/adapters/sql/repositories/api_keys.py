"""API keys and the records of their use."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, bindparam, case, func, insert, or_, select, update

from chatsvg.adapters.sql import tables as t
from chatsvg.adapters.sql.repositories.base import SqlRepository
from chatsvg.domain.keys.keys import ApiKey, KeyEnvironment
from chatsvg.domain.keys.usage import KeyUsage, UsageTotals

_K = t.api_keys
_U = t.api_key_usage
_FIELDS = (
    "id",
    "user_id",
    "name",
    "description",
    "key_prefix",
    "key_hash",
    "environment",
    "scopes",
    "ip_whitelist",
    "custom_rate_limit",
    "created_at",
    "expires_at",
    "last_used_at",
    "revoked_at",
    "usage_count",
)


# Run on every call of the public API (the key behind X-API-Key, then the record of its use):
# built once, values as parameters.
_BY_HASH = select(_K).where(_K.c.key_hash == bindparam("key_hash"))
_RECORD_USE = (
    update(_K)
    .where(_K.c.id == bindparam("key_id"))
    .values(
        usage_count=_K.c.usage_count + 1,
        last_used_at=bindparam("now", type_=_K.c.last_used_at.type),
    )
)
_ADD_USAGE = insert(_U)


def _key(row: Any) -> ApiKey:
    values = {name: getattr(row, name) for name in _FIELDS}
    values["environment"] = KeyEnvironment(values["environment"])
    values["scopes"] = tuple(values["scopes"] or ())
    values["ip_whitelist"] = tuple(values["ip_whitelist"] or ())
    return ApiKey(**values)


def _values(key: ApiKey) -> dict[str, Any]:
    values = {name: getattr(key, name) for name in _FIELDS}
    values["environment"] = key.environment.value
    values["scopes"] = list(key.scopes)
    values["ip_whitelist"] = list(key.ip_whitelist)
    return values


def _live(now: datetime) -> Any:
    return (_K.c.revoked_at.is_(None), or_(_K.c.expires_at.is_(None), _K.c.expires_at > now))


class SqlApiKeys(SqlRepository):
    async def add(self, key: ApiKey) -> None:
        await self._c.execute(insert(_K), _values(key))

    async def get(self, key_id: str) -> ApiKey | None:
        row = (await self._c.execute(select(_K).where(_K.c.id == key_id))).first()
        return _key(row) if row else None

    async def by_hash(self, key_hash: str) -> ApiKey | None:
        row = (await self._c.execute(_BY_HASH, {"key_hash": key_hash})).first()
        return _key(row) if row else None

    async def live_for_user(self, user_id: str, now: datetime) -> list[ApiKey]:
        stmt = (
            select(_K)
            .where(_K.c.user_id == user_id, *_live(now))
            .order_by(_K.c.created_at.desc(), _K.c.id.desc())
        )
        return [_key(row) for row in await self._c.execute(stmt)]

    async def count_live(self, user_id: str, now: datetime) -> int:
        stmt = select(func.count()).select_from(_K).where(_K.c.user_id == user_id, *_live(now))
        return int((await self._c.execute(stmt)).scalar_one())

    async def hold_owner(self, user_id: str) -> None:
        """SELECT ... FOR NO KEY UPDATE of the user's row (SQLite: one writer at a time anyway)."""
        await self._c.execute(
            select(t.users.c.id).where(t.users.c.id == user_id).with_for_update(key_share=True)
        )

    async def save(self, key: ApiKey) -> None:
        values = _values(key)
        del values["id"]
        await self._c.execute(update(_K).where(_K.c.id == key.id).values(**values))

    async def record_use(self, key_id: str, now: datetime) -> None:
        await self._c.execute(_RECORD_USE, {"key_id": key_id, "now": now})


class SqlKeyUsage(SqlRepository):
    async def add(self, record: KeyUsage) -> None:
        await self._c.execute(
            _ADD_USAGE,
            {
                "id": record.id,
                "key_id": record.key_id,
                "user_id": record.user_id,
                "endpoint": record.endpoint,
                "status": record.status,
                "latency_ms": record.latency_ms,
                "credits": record.credits,
                "created_at": record.created_at,
            },
        )

    async def _totals(self, *where: Any) -> UsageTotals:
        stmt = select(
            func.count(),
            func.coalesce(func.sum(case((_U.c.status < 400, 1), else_=0)), 0),
            func.coalesce(func.sum(_U.c.credits), 0),
            func.coalesce(func.sum(_U.c.latency_ms.cast(Integer)), 0),
        ).where(*where)
        total, succeeded, credits, latency = (await self._c.execute(stmt)).one()
        return UsageTotals(int(total), int(succeeded), int(credits), int(latency))

    async def totals_for_key(self, key_id: str) -> UsageTotals:
        return await self._totals(_U.c.key_id == key_id)

    async def totals_for_user(
        self, user_id: str, *, since: datetime | None, until: datetime | None
    ) -> UsageTotals:
        where = [_U.c.user_id == user_id]
        if since is not None:
            where.append(_U.c.created_at >= since)
        if until is not None:
            where.append(_U.c.created_at <= until)
        return await self._totals(*where)
