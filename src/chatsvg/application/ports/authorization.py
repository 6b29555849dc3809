"""Ports of the OAuth 2.1 authorization server (for MCP clients): clients, and grants with their
codes and tokens (stored by hash)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from chatsvg.domain.authorization.grants import AuthorizationCode, Grant, GrantToken, OAuthClient


class OAuthClientRepository(Protocol):
    async def add(self, client: OAuthClient) -> None: ...

    async def get(self, client_id: str) -> OAuthClient | None: ...

    async def purge_unused(self, registered_before: datetime) -> int:
        """Delete the clients registered before `registered_before` that no grant names (never
        consented to, or whose grants are gone). Returns how many went."""
        ...


class GrantRepository(Protocol):
    """Grants (one consent each) and the codes and tokens issued under them. Deleting a user
    deletes their grants, and a grant's codes and tokens go with it."""

    async def add(self, grant: Grant) -> None: ...

    async def get(self, grant_id: str) -> Grant | None: ...

    async def update(self, grant: Grant) -> None: ...

    async def live_for_user(self, user_id: str, now: datetime) -> list[Grant]: ...

    async def add_code(self, code: AuthorizationCode) -> None: ...

    async def get_code(self, code_hash: str) -> AuthorizationCode | None: ...

    async def use_code(self, code_hash: str, now: datetime) -> bool:
        """Mark the code used only if it is not already: True for exactly one of racing callers."""
        ...

    async def add_token(self, token: GrantToken) -> None: ...

    async def get_token(self, token_hash: str) -> GrantToken | None: ...

    async def spend_token(self, token_hash: str, now: datetime) -> bool:
        """Mark the token spent only if it is not already: True for exactly one of racing callers."""
        ...

    async def purge(self, now: datetime, grants_ended_before: datetime) -> int:
        """Delete codes and tokens past their expiry (a spent one is kept until then, so that its
        reuse is still recognised), and grants revoked or expired before `grants_ended_before`
        (with whatever they still hold). Returns how many rows went."""
        ...
