"""The authorization server's use cases on every storage adapter (memory, SQLite, Postgres):
registration rules, the authorization request's checks, codes, refresh rotation with reuse
detection, revocation, the user's grants, and that only hashes are stored."""

from __future__ import annotations

from typing import Any

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from chatsvg.adapters.clock import FrozenClock
from chatsvg.adapters.window_limits import LimitsWindowLimiter
from chatsvg.application.authorization.server import (
    AuthorizationServer,
    AuthorizeRefused,
    RedirectError,
)
from chatsvg.application.ports import UnitOfWorkFactory
from chatsvg.domain.accounts.auth import hash_token
from chatsvg.domain.accounts.users import User
from chatsvg.domain.authorization.grants import (
    InvalidGrant,
    InvalidRedirectUri,
    InvalidToken,
    s256,
)
from chatsvg.domain.errors import NotFound, RateLimited

ISSUER = "https://api.chatsvg.test"
REDIRECT = "http://127.0.0.1:33418/callback"
VERIFIER = "v" * 20 + "-._~" + "A1b2C3d4E5f6G7h8I9j0K"  # 45 characters of the allowed set


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def server(uow: UnitOfWorkFactory, clock: FrozenClock) -> AuthorizationServer:
    return AuthorizationServer(
        uow=uow, clock=clock, issuer=ISSUER, resources=(f"{ISSUER}/mcp", ISSUER)
    )


async def add_user(uow: UnitOfWorkFactory, clock: FrozenClock, user_id: str) -> str:
    async with uow() as tx:
        await tx.users.add(
            User.open(
                user_id=user_id,
                email=f"{user_id}@example.com",
                name=user_id,
                password_hash=None,
                now=clock.now(),
            )
        )
        await tx.commit()
    return user_id


def params(client_id: str, **extra: str) -> dict[str, str]:
    values = {
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "state": "s-1",
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
    }
    values.update(extra)
    return values


def query(url: str) -> dict[str, str]:
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(url).query))


async def consented(server: AuthorizationServer, user_id: str) -> tuple[str, str]:
    """A registered client and a fresh code the user approved: (client_id, code)."""
    client = await server.register({"client_name": "Claude", "redirect_uris": [REDIRECT]})
    request = await server.check_request(params(client.id))
    answer = query(await server.approve(user_id, request))
    assert answer["state"] == "s-1" and answer["iss"] == ISSUER
    return client.id, answer["code"]


async def tokens(server: AuthorizationServer, user_id: str) -> tuple[str, Any]:
    client_id, code = await consented(server, user_id)
    issued = await server.exchange_code(
        client_id=client_id, code=code, redirect_uri=REDIRECT, code_verifier=VERIFIER
    )
    return client_id, issued


def test_our_s256_is_authlibs() -> None:
    assert s256(VERIFIER) == create_s256_code_challenge(VERIFIER)


@pytest.mark.parametrize(
    "uri",
    [
        "https://claude.ai/api/mcp/auth_callback",
        "http://127.0.0.1:33418/callback",
        "http://localhost:8080/cb?x=1",
        "http://[::1]:9000/cb",
    ],
)
async def test_https_and_loopback_http_redirects_register(
    server: AuthorizationServer, uri: str
) -> None:
    client = await server.register({"redirect_uris": [uri]})
    assert client.redirect_uris == [uri]
    assert client.name == "Unnamed application"


@pytest.mark.parametrize(
    "uri",
    [
        "http://evil.example/cb",
        "http://127.0.0.1.evil.example/cb",
        "javascript:alert(1)",
        "vscode://callback",
        "https://ok.example/cb#frag",
        "https://user:pw@ok.example/cb",
        "/relative/cb",
        "https:///no-host",
        "https://ok.example/c b",
    ],
)
async def test_other_redirects_are_refused_at_registration(
    server: AuthorizationServer, uri: str
) -> None:
    with pytest.raises(InvalidRedirectUri):
        await server.register({"redirect_uris": [uri]})


async def test_the_authorization_request_is_checked_before_any_redirect(
    server: AuthorizationServer, uow: UnitOfWorkFactory, clock: FrozenClock
) -> None:
    client = await server.register({"redirect_uris": [REDIRECT]})
    with pytest.raises(AuthorizeRefused):
        await server.check_request(params("no-such-client"))
    # Registered URIs match exactly: another port, path or an added query is not the same URI.
    for other in (
        "http://127.0.0.1:33419/callback",
        REDIRECT + "/x",
        REDIRECT + "?a=1",
        "https://evil.example/cb",
    ):
        with pytest.raises(AuthorizeRefused):
            await server.check_request(params(client.id, redirect_uri=other))
    # With a trusted redirect URI, the other errors go back to the client.
    with pytest.raises(RedirectError) as plain:
        await server.check_request(params(client.id, code_challenge_method="plain"))
    assert query(plain.value.redirect_to)["error"] == "invalid_request"
    missing = params(client.id)
    del missing["code_challenge"]
    with pytest.raises(RedirectError):
        await server.check_request(missing)
    with pytest.raises(RedirectError) as scope:
        await server.check_request(params(client.id, scope="admin"))
    assert query(scope.value.redirect_to)["error"] == "invalid_scope"
    with pytest.raises(RedirectError) as target:
        await server.check_request(params(client.id, resource="https://elsewhere.example/mcp"))
    assert query(target.value.redirect_to)["error"] == "invalid_target"
    accepted = await server.check_request(
        params(client.id, scope="offline_access read:generation", resource=f"{ISSUER}/mcp")
    )
    assert accepted.scope == "read:generation"
    assert accepted.redirect_host == "127.0.0.1:33418"


async def test_a_code_is_single_use_and_a_second_use_revokes_its_grant(
    server: AuthorizationServer, uow: UnitOfWorkFactory, clock: FrozenClock
) -> None:
    user = await add_user(uow, clock, "ada")
    client_id, code = await consented(server, user)
    issued = await server.exchange_code(
        client_id=client_id, code=code, redirect_uri=REDIRECT, code_verifier=VERIFIER
    )
    caller = await server.authenticate(issued.access_token)
    assert caller.user_id == user and caller.client_id == client_id
    assert caller.scopes == ("generate:svg", "read:generation")
    with pytest.raises(InvalidGrant):
        await server.exchange_code(
            client_id=client_id, code=code, redirect_uri=REDIRECT, code_verifier=VERIFIER
        )
    with pytest.raises(InvalidToken):
        await server.authenticate(issued.access_token)
    with pytest.raises(InvalidGrant):
        await server.refresh(client_id=client_id, refresh_token=issued.refresh_token)


async def test_the_code_needs_its_verifier_redirect_client_and_time(
    server: AuthorizationServer, uow: UnitOfWorkFactory, clock: FrozenClock
) -> None:
    user = await add_user(uow, clock, "ada")
    client_id, code = await consented(server, user)
    wrong: list[dict[str, Any]] = [
        {"client_id": client_id, "redirect_uri": REDIRECT, "code_verifier": "x" * 50},
        {"client_id": client_id, "redirect_uri": REDIRECT, "code_verifier": None},
        {"client_id": client_id, "redirect_uri": REDIRECT + "/x", "code_verifier": VERIFIER},
        {"client_id": "someone-else", "redirect_uri": REDIRECT, "code_verifier": VERIFIER},
    ]
    for attempt in wrong:
        with pytest.raises(InvalidGrant):
            await server.exchange_code(code=code, **attempt)
    clock.advance(minutes=3)  # codes live two minutes
    with pytest.raises(InvalidGrant):
        await server.exchange_code(
            client_id=client_id, code=code, redirect_uri=REDIRECT, code_verifier=VERIFIER
        )


async def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_whole_grant(
    server: AuthorizationServer, uow: UnitOfWorkFactory, clock: FrozenClock
) -> None:
    user = await add_user(uow, clock, "ada")
    client_id, first = await tokens(server, user)
    second = await server.refresh(client_id=client_id, refresh_token=first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    await server.authenticate(second.access_token)
    # The spent refresh token comes back (it leaked): everything of the grant dies.
    with pytest.raises(InvalidGrant):
        await server.refresh(client_id=client_id, refresh_token=first.refresh_token)
    for access in (first.access_token, second.access_token):
        with pytest.raises(InvalidToken):
            await server.authenticate(access)
    with pytest.raises(InvalidGrant):
        await server.refresh(client_id=client_id, refresh_token=second.refresh_token)
    assert await server.grants(user) == []


async def test_access_tokens_are_short_lived_and_refresh_tokens_belong_to_their_client(
    server: AuthorizationServer, uow: UnitOfWorkFactory, clock: FrozenClock
) -> None:
    user = await add_user(uow, clock, "ada")
    client_id, issued = await tokens(server, user)
    assert issued.expires_in == 15 * 60
    with pytest.raises(InvalidGrant):
        await server.refresh(client_id="another-client", refresh_token=issued.refresh_token)
    clock.advance(minutes=16)
    with pytest.raises(InvalidToken):
        await server.authenticate(issued.access_token)
    fresh = await server.refresh(client_id=client_id, refresh_token=issued.refresh_token)
    await server.authenticate(fresh.access_token)
    clock.advance(days=31)  # the grant's lifetime is not extended by rotation
    with pytest.raises(InvalidGrant):
        await server.refresh(client_id=client_id, refresh_token=fresh.refresh_token)


async def test_only_hashes_are_stored(
    server: AuthorizationServer, uow: UnitOfWorkFactory, clock: FrozenClock
) -> None:
    user = await add_user(uow, clock, "ada")
    client_id, code = await consented(server, user)
    issued = await server.exchange_code(
        client_id=client_id, code=code, redirect_uri=REDIRECT, code_verifier=VERIFIER
    )
    async with uow() as tx:
        for secret in (issued.access_token, issued.refresh_token):
            assert await tx.authz_grants.get_token(secret) is None
            stored = await tx.authz_grants.get_token(hash_token(secret))
            assert stored is not None and secret not in repr(stored)
        assert await tx.authz_grants.get_code(code) is None
        assert await tx.authz_grants.get_code(hash_token(code)) is not None


async def test_revocation_rfc7009(
    server: AuthorizationServer, uow: UnitOfWorkFactory, clock: FrozenClock
) -> None:
    user = await add_user(uow, clock, "ada")
    client_id, issued = await tokens(server, user)
    # Unknown tokens and another client's are answered the same, and nothing happens.
    await server.revoke(token="csrt_unknown", client_id=client_id)
    await server.revoke(token=issued.refresh_token, client_id="another-client")
    await server.authenticate(issued.access_token)
    # An access token revokes only itself.
    await server.revoke(token=issued.access_token, client_id=client_id)
    with pytest.raises(InvalidToken):
        await server.authenticate(issued.access_token)
    fresh = await server.refresh(client_id=client_id, refresh_token=issued.refresh_token)
    # A refresh token revokes its grant.
    await server.revoke(token=fresh.refresh_token, client_id=None)
    with pytest.raises(InvalidToken):
        await server.authenticate(fresh.access_token)


async def test_users_list_and_revoke_their_grants_only(
    server: AuthorizationServer, uow: UnitOfWorkFactory, clock: FrozenClock
) -> None:
    ada = await add_user(uow, clock, "ada")
    bob = await add_user(uow, clock, "bob")
    _, issued = await tokens(server, ada)
    (grant,) = await server.grants(ada)
    assert grant.client_name == "Claude" and grant.scope == "generate:svg read:generation"
    assert await server.grants(bob) == []
    with pytest.raises(NotFound):
        await server.revoke_grant(bob, grant.id)
    await server.authenticate(issued.access_token)
    await server.revoke_grant(ada, grant.id)
    with pytest.raises(InvalidToken):
        await server.authenticate(issued.access_token)
    assert await server.grants(ada) == []


async def test_a_deleted_accounts_grants_die(
    server: AuthorizationServer, uow: UnitOfWorkFactory, clock: FrozenClock
) -> None:
    ada = await add_user(uow, clock, "ada")
    client_id, issued = await tokens(server, ada)
    async with uow() as tx:
        await tx.users.delete(ada)
        await tx.commit()
    with pytest.raises(InvalidToken):
        await server.authenticate(issued.access_token)
    with pytest.raises(InvalidGrant):
        await server.refresh(client_id=client_id, refresh_token=issued.refresh_token)


async def test_registrations_are_bounded_per_address(
    uow: UnitOfWorkFactory, clock: FrozenClock
) -> None:
    server = AuthorizationServer(
        uow=uow,
        clock=clock,
        issuer=ISSUER,
        resources=(ISSUER,),
        limiter=LimitsWindowLimiter.in_memory(),
    )
    for _ in range(30):
        await server.register({"redirect_uris": [REDIRECT]}, requester="203.0.113.7")
    with pytest.raises(RateLimited):
        await server.register({"redirect_uris": [REDIRECT]}, requester="203.0.113.7")
    await server.register({"redirect_uris": [REDIRECT]}, requester="203.0.113.8")


async def test_the_sweep_deletes_what_expired_and_keeps_what_detects_reuse(
    server: AuthorizationServer, uow: UnitOfWorkFactory, clock: FrozenClock
) -> None:
    ada = await add_user(uow, clock, "ada")
    client_id, first = await tokens(server, ada)
    second = await server.refresh(client_id=client_id, refresh_token=first.refresh_token)
    (reused,) = await server.grants(ada)
    _, other = await tokens(server, ada)
    clock.advance(minutes=20)  # the access tokens and the codes expired
    assert await server.purge() > 0
    # The spent refresh token is still known: presenting it again still revokes its grant.
    with pytest.raises(InvalidGrant):
        await server.refresh(client_id=client_id, refresh_token=first.refresh_token)
    with pytest.raises(InvalidGrant):
        await server.refresh(client_id=client_id, refresh_token=second.refresh_token)
    (live,) = await server.grants(ada)
    assert live.id != reused.id
    # A week after it ended, the revoked grant goes with its tokens; the live one stays.
    clock.advance(days=8)
    await server.purge()
    async with uow() as tx:
        assert await tx.authz_grants.get(reused.id) is None
        assert await tx.authz_grants.get_token(hash_token(second.refresh_token)) is None
        assert await tx.authz_grants.get(live.id) is not None
        assert await tx.authz_grants.get_token(hash_token(other.refresh_token)) is not None


async def test_the_sweep_deletes_clients_no_grant_names_a_month_after_registration(
    server: AuthorizationServer, uow: UnitOfWorkFactory, clock: FrozenClock
) -> None:
    ada = await add_user(uow, clock, "ada")
    abandoned = await server.register({"redirect_uris": [REDIRECT]})
    used, _ = await tokens(server, ada)
    revoked, _ = await tokens(server, ada)
    ended = next(g for g in await server.grants(ada) if g.client_id == revoked)
    await server.revoke_grant(ada, ended.id)
    clock.advance(days=29)
    await server.purge()
    young = await server.register({"redirect_uris": [REDIRECT]})
    async with uow() as tx:  # not a month old yet: all kept
        assert await tx.authz_clients.get(abandoned.id) is not None
        assert await tx.authz_clients.get(revoked) is not None
    clock.advance(days=2)
    await server.purge()
    async with uow() as tx:
        # Never consented to, or its only grant gone (ended more than a week ago): deleted.
        assert await tx.authz_clients.get(abandoned.id) is None
        assert await tx.authz_clients.get(revoked) is None
        # A grant names it, or registered less than a month ago: kept.
        assert await tx.authz_clients.get(used) is not None
        assert await tx.authz_clients.get(young.id) is not None
    with pytest.raises(AuthorizeRefused):
        await server.check_request(params(abandoned.id))
