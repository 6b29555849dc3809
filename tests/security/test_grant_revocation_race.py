"""A revoked OAuth grant stays revoked: a request that read the grant before the revocation and
writes it afterwards (a refresh recording its use) must not bring it back (storage adapters)."""

from __future__ import annotations

import pytest

from chatsvg.application.authorization.server import AuthorizationServer
from chatsvg.application.ports import UnitOfWorkFactory
from chatsvg.domain.authorization.grants import InvalidGrant, InvalidToken
from tests.mcp.test_authorization_behaviour import add_user, clock, server, tokens

__all__ = ["clock", "server"]  # fixtures used by the tests below


async def test_a_stale_write_of_a_grant_never_undoes_its_revocation(
    server: AuthorizationServer, uow: UnitOfWorkFactory, clock: object
) -> None:
    user = await add_user(uow, clock, "u-race")  # type: ignore[arg-type]
    client_id, issued = await tokens(server, user)
    caller = await server.authenticate(issued.access_token)
    async with uow() as tx:  # a refresh in flight reads the live grant ...
        stale = await tx.authz_grants.get(caller.grant_id)
    assert stale is not None and stale.revoked_at is None
    await server.revoke_grant(user, caller.grant_id)  # ... the user revokes it ...
    stale.record_use(clock.now())  # type: ignore[attr-defined]
    async with uow() as tx:  # ... and the refresh writes what it read
        await tx.authz_grants.update(stale)
        await tx.commit()
    async with uow() as tx:
        grant = await tx.authz_grants.get(caller.grant_id)
    assert grant is not None and grant.revoked_at is not None
    with pytest.raises(InvalidToken):
        await server.authenticate(issued.access_token)
    with pytest.raises(InvalidGrant):
        await server.refresh(client_id=client_id, refresh_token=issued.refresh_token)
