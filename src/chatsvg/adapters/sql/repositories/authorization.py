"""The OAuth 2.1 authorization server's clients, grants, codes and tokens in SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update

from chatsvg.adapters.sql.authorization_tables import (
    authz_clients as _C,
)
from chatsvg.adapters.sql.authorization_tables import (
    authz_codes as _K,
)
from chatsvg.adapters.sql.authorization_tables import (
    authz_grants as _G,
)
from chatsvg.adapters.sql.authorization_tables import (
    authz_tokens as _T,
)
from chatsvg.adapters.sql.repositories.base import SqlRepository
from chatsvg.domain.authorization.grants import AuthorizationCode, Grant, GrantToken, OAuthClient

# Read on every MCP request (the access token, then its grant): built once.
_TOKEN_BY_HASH = select(_T).where(_T.c.token_hash == bindparam("token_hash"))
_GRANT_BY_ID = select(_G).where(_G.c.id == bindparam("grant_id"))


def _grant(row: Any) -> Grant:
    return Grant(
        id=row.id,
        user_id=row.user_id,
        client_id=row.client_id,
        scope=row.scope,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


class SqlOAuthClients(SqlRepository):
    async def add(self, client: OAuthClient) -> None:
        await self._c.execute(
            insert(_C).values(
                id=client.id,
                name=client.name,
                redirect_uris=list(client.redirect_uris),
                client_uri=client.client_uri,
                created_at=client.created_at,
            )
        )

    async def get(self, client_id: str) -> OAuthClient | None:
        row = (await self._c.execute(select(_C).where(_C.c.id == client_id))).first()
        if row is None:
            return None
        return OAuthClient(
            id=row.id,
            name=row.name,
            redirect_uris=list(row.redirect_uris),
            created_at=row.created_at,
            client_uri=row.client_uri,
        )

    async def purge_unused(self, registered_before: datetime) -> int:
        named = select(_G.c.id).where(_G.c.client_id == _C.c.id).exists()
        result = await self._c.execute(
            delete(_C).where(_C.c.created_at < registered_before, ~named)
        )
        return max(0, result.rowcount or 0)


class SqlGrants(SqlRepository):
    async def add(self, grant: Grant) -> None:
        await self._c.execute(insert(_G).values(**grant.__dict__))

    async def get(self, grant_id: str) -> Grant | None:
        row = (await self._c.execute(_GRANT_BY_ID, {"grant_id": grant_id})).first()
        return _grant(row) if row else None

    async def update(self, grant: Grant) -> None:
        values: dict[str, Any] = {k: v for k, v in grant.__dict__.items() if k != "id"}
        # A revocation is never undone by a write of a copy read before it (a refresh in
        # flight while the user revokes the grant): the first revocation time stays.
        values["revoked_at"] = func.coalesce(_G.c.revoked_at, grant.revoked_at)
        await self._c.execute(update(_G).where(_G.c.id == grant.id).values(**values))

    async def live_for_user(self, user_id: str, now: datetime) -> list[Grant]:
        # Grant.is_live in SQL.
        rows = await self._c.execute(
            select(_G)
            .where(_G.c.user_id == user_id, _G.c.revoked_at.is_(None), _G.c.expires_at > now)
            .order_by(_G.c.created_at.desc(), _G.c.id.desc())
        )
        return [_grant(r) for r in rows]

    async def add_code(self, code: AuthorizationCode) -> None:
        await self._c.execute(insert(_K).values(**code.__dict__))

    async def get_code(self, code_hash: str) -> AuthorizationCode | None:
        row = (await self._c.execute(select(_K).where(_K.c.code_hash == code_hash))).first()
        if row is None:
            return None
        return AuthorizationCode(
            code_hash=row.code_hash,
            grant_id=row.grant_id,
            redirect_uri=row.redirect_uri,
            code_challenge=row.code_challenge,
            created_at=row.created_at,
            expires_at=row.expires_at,
            used_at=row.used_at,
        )

    async def use_code(self, code_hash: str, now: datetime) -> bool:
        result = await self._c.execute(
            update(_K)
            .where(_K.c.code_hash == code_hash, _K.c.used_at.is_(None))
            .values(used_at=now)
        )
        return bool(result.rowcount == 1)

    async def add_token(self, token: GrantToken) -> None:
        await self._c.execute(insert(_T).values(**token.__dict__))

    async def get_token(self, token_hash: str) -> GrantToken | None:
        row = (await self._c.execute(_TOKEN_BY_HASH, {"token_hash": token_hash})).first()
        if row is None:
            return None
        return GrantToken(
            token_hash=row.token_hash,
            grant_id=row.grant_id,
            kind=row.kind,
            created_at=row.created_at,
            expires_at=row.expires_at,
            spent_at=row.spent_at,
        )

    async def purge(self, now: datetime, grants_ended_before: datetime) -> int:
        ended = or_(
            _G.c.revoked_at < grants_ended_before,
            and_(_G.c.revoked_at.is_(None), _G.c.expires_at < grants_ended_before),
        )
        gone = 0
        # Grants first (their codes and tokens go by cascade), then what expired on its own.
        for stmt in (
            delete(_G).where(ended),
            delete(_K).where(_K.c.expires_at < now),
            delete(_T).where(_T.c.expires_at < now),
        ):
            result = await self._c.execute(stmt)
            gone += max(0, result.rowcount or 0)
        return gone

    async def spend_token(self, token_hash: str, now: datetime) -> bool:
        result = await self._c.execute(
            update(_T)
            .where(_T.c.token_hash == token_hash, _T.c.spent_at.is_(None))
            .values(spent_at=now)
        )
        return bool(result.rowcount == 1)
