"""In-memory repositories of the OAuth 2.1 authorization server (clients, grants, codes, tokens)."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime

from chatsvg.adapters.memory.repository import MemoryRepository
from chatsvg.domain.authorization.grants import AuthorizationCode, Grant, GrantToken, OAuthClient


class MemoryOAuthClients(MemoryRepository):
    async def add(self, client: OAuthClient) -> None:
        self._db.insert("authz_clients", replace(client, redirect_uris=list(client.redirect_uris)))

    async def get(self, client_id: str) -> OAuthClient | None:
        client: OAuthClient | None = self._db.get("authz_clients", client_id)
        return replace(client, redirect_uris=list(client.redirect_uris)) if client else None

    async def purge_unused(self, registered_before: datetime) -> int:
        named = {grant.client_id for grant in self._db.scan("authz_grants")}
        gone = 0
        for client in self._db.scan("authz_clients"):
            if client.created_at < registered_before and client.id not in named:
                self._db.delete("authz_clients", client.id)
                gone += 1
        return gone


class MemoryGrants(MemoryRepository):
    async def add(self, grant: Grant) -> None:
        self._db.insert("authz_grants", grant)

    async def get(self, grant_id: str) -> Grant | None:
        grant: Grant | None = self._db.get("authz_grants", grant_id)
        return grant

    async def update(self, grant: Grant) -> None:
        # As in SQL: a copy read before a revocation never undoes it.
        stored: Grant | None = self._db.get("authz_grants", grant.id)
        if stored is not None and stored.revoked_at is not None:
            grant = replace(grant, revoked_at=stored.revoked_at)
        self._db.update("authz_grants", grant)

    async def live_for_user(self, user_id: str, now: datetime) -> list[Grant]:
        grants = [
            copy.copy(g)
            for g in self._db.scan("authz_grants")
            if g.user_id == user_id and g.is_live(now)
        ]
        return sorted(grants, key=lambda g: (g.created_at, g.id), reverse=True)

    async def add_code(self, code: AuthorizationCode) -> None:
        self._db.insert("authz_codes", code)

    async def get_code(self, code_hash: str) -> AuthorizationCode | None:
        code: AuthorizationCode | None = self._db.get("authz_codes", code_hash)
        return code

    async def use_code(self, code_hash: str, now: datetime) -> bool:
        code = await self.get_code(code_hash)
        if code is None or code.used_at is not None:
            return False
        return self._db.update("authz_codes", replace(code, used_at=now))

    async def add_token(self, token: GrantToken) -> None:
        self._db.insert("authz_tokens", token)

    async def get_token(self, token_hash: str) -> GrantToken | None:
        token: GrantToken | None = self._db.get("authz_tokens", token_hash)
        return token

    async def purge(self, now: datetime, grants_ended_before: datetime) -> int:
        gone = 0
        for grant in self._db.scan("authz_grants"):
            ended = grant.revoked_at or grant.expires_at
            if ended < grants_ended_before:
                self._db.delete("authz_grants", grant.id)  # and its codes and tokens
                gone += 1
        for table, key in (("authz_codes", "code_hash"), ("authz_tokens", "token_hash")):
            for row in self._db.scan(table):
                if row.expires_at < now:
                    self._db.delete(table, getattr(row, key))
                    gone += 1
        return gone

    async def spend_token(self, token_hash: str, now: datetime) -> bool:
        token = await self.get_token(token_hash)
        if token is None or token.spent_at is not None:
            return False
        return self._db.update("authz_tokens", replace(token, spent_at=now))
