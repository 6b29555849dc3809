"""OAuth sign-in: the use case on every storage adapter set, and the Google and GitHub adapters
against the fake provider over real HTTP."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from chatsvg.adapters.accounts.oauth_providers import GitHubProvider, GoogleProvider
from chatsvg.application.accounts.auth import ClientInfo
from chatsvg.application.accounts.ports import OAuthFailed, OAuthIdentity
from chatsvg.domain.errors import InvalidCredentials, NotFound, Unauthenticated
from tests.accounts.conftest import AccountsStack
from tests.accounts.fake_oauth import FakeOAuthProvider, FakeUser

CLIENT = ClientInfo("pytest", "10.0.0.1")
CALLBACK = "http://127.0.0.1:9/api/auth/google/callback"


async def finish(a: AccountsStack, code: str = "code-1") -> Any:
    return await a.oauth.finish(
        "google",
        code=code,
        redirect_uri=CALLBACK,
        code_verifier="v" * 43,
        nonce="n" * 43,
        client=CLIENT,
    )


async def test_start_mints_fresh_state_nonce_and_verifier(accounts: AccountsStack) -> None:
    one = accounts.oauth.start("google", redirect_uri=CALLBACK)
    two = accounts.oauth.start("google", redirect_uri=CALLBACK)
    for value in (one.state, one.nonce, one.code_verifier):
        assert len(value) >= 43
    assert len({one.state, one.nonce, one.code_verifier, two.state}) == 4
    assert one.state in one.url
    with pytest.raises(NotFound):
        accounts.oauth.start("github", redirect_uri=CALLBACK)


async def test_a_first_sign_in_creates_the_account_and_the_next_signs_in_to_it(
    accounts: AccountsStack,
) -> None:
    first = await finish(accounts)
    user = first.account.user
    assert user.email == "grace@example.com" and user.name == "Grace Hopper"
    assert user.email_verified and user.password_hash is None
    assert first.account.credits == 10
    again = await finish(accounts, "code-2")
    assert again.account.user.id == user.id and again.session_id != first.session_id
    async with accounts.base.uow() as uow:
        links = await uow.identities.for_user(user.id)
    assert [(i.provider, i.subject) for i in links] == [("google", "sub-1")]


async def test_a_linked_identity_signs_in_even_if_the_provider_now_has_another_email(
    accounts: AccountsStack,
) -> None:
    user_id = (await finish(accounts)).account.user.id
    accounts.provider.identity = replace(
        accounts.provider.identity,
        email="grace@new.example",
        email_verified=False,
    )
    assert (await finish(accounts)).account.user.id == user_id


async def test_an_unverified_email_is_refused_and_creates_nothing(accounts: AccountsStack) -> None:
    accounts.provider.identity = OAuthIdentity(
        "google", "sub-9", "mallory@example.com", False, "Mallory", None
    )
    with pytest.raises(OAuthFailed) as refused:
        await finish(accounts)
    assert refused.value.reason == "unverified_email"
    accounts.provider.identity = OAuthIdentity("google", "sub-9", None, True, "Mallory", None)
    with pytest.raises(OAuthFailed):
        await finish(accounts)
    async with accounts.base.uow() as uow:
        assert await uow.users.by_email("mallory@example.com") is None


async def test_an_unverified_email_never_links_to_an_existing_account(
    accounts: AccountsStack,
) -> None:
    await accounts.base.auth.register(
        email="ada@example.com",
        password="correct horse",
        name="Ada",
        agreed_to_terms=True,
        client=CLIENT,
    )
    accounts.provider.identity = OAuthIdentity(
        "google", "attacker", "ada@example.com", False, "Not Ada", None
    )
    with pytest.raises(OAuthFailed):
        await finish(accounts)
    async with accounts.base.uow() as uow:
        user = await uow.users.by_email("ada@example.com")
        assert user is not None
        assert await uow.identities.for_user(user.id) == []


async def test_a_verified_email_links_to_the_existing_account_and_evicts_a_squatter(
    accounts: AccountsStack,
) -> None:
    # Someone registered grace@ with a password, without proving the address...
    squatter = await accounts.base.auth.register(
        email="grace@example.com",
        password="squatter password",
        name="Not Grace",
        agreed_to_terms=True,
        client=CLIENT,
    )
    # ...then the mailbox owner signs in with the provider, which vouches for the address.
    grace = await finish(accounts)
    assert grace.account.user.id == squatter.account.user.id
    with pytest.raises(Unauthenticated):
        await accounts.base.auth.authenticate(squatter.access_token)
    with pytest.raises(InvalidCredentials):
        await accounts.base.auth.login(
            email="grace@example.com",
            password="squatter password",
            remember_me=False,
            client=CLIENT,
        )
    assert squatter.session_id in accounts.base.realtime.revoked
    await accounts.base.auth.authenticate(grace.access_token)


async def test_a_verified_email_links_to_a_proven_account_and_keeps_its_password(
    accounts: AccountsStack,
) -> None:
    ada = await accounts.base.auth.register(
        email="grace@example.com",
        password="correct horse",
        name="Grace",
        agreed_to_terms=True,
        client=CLIENT,
    )
    await accounts.recovery.forgot_password("grace@example.com")
    await accounts.recovery.reset_password(await accounts.reset_link_token(), "proven password")
    signed = await finish(accounts)
    assert signed.account.user.id == ada.account.user.id
    await accounts.base.auth.login(
        email="grace@example.com", password="proven password", remember_me=False, client=CLIENT
    )


async def test_a_provider_failure_reaches_the_caller_as_oauth_failed(
    accounts: AccountsStack,
) -> None:
    accounts.provider.identity = OAuthFailed("provider_error", "boom")
    with pytest.raises(OAuthFailed) as failed:
        await finish(accounts)
    assert failed.value.reason == "provider_error"


# -- the adapters, against the fake provider over HTTP ------------------------------------------


def google(fake: FakeOAuthProvider, **kw: Any) -> GoogleProvider:
    return GoogleProvider(
        client_id=kw.pop("client_id", fake.client_id),
        client_secret=fake.client_secret,
        authorize_url=f"{fake.base_url}/authorize",
        token_url=f"{fake.base_url}/token",
        jwks_url=f"{fake.base_url}/jwks",
        issuers=[kw.pop("issuer", fake.issuer)],
        **kw,
    )


def github(fake: FakeOAuthProvider) -> GitHubProvider:
    return GitHubProvider(
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        authorize_url=f"{fake.base_url}/authorize",
        token_url=f"{fake.base_url}/token",
        api_url=fake.base_url,
    )


async def authorize(provider: Any, verifier: str = "v" * 43, nonce: str = "n" * 43) -> str:
    """Follow the authorization URL like a browser would; return the code the provider sends back."""
    url = provider.authorization_url(
        redirect_uri=CALLBACK, state="s" * 43, nonce=nonce, code_verifier=verifier
    )
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and query["state"] == ["s" * 43]
    async with httpx.AsyncClient() as http:
        answer = await http.get(url)
    assert answer.status_code == 302, answer.text
    back = parse_qs(urlsplit(answer.headers["location"]).query)
    assert back["state"] == ["s" * 43]
    return back["code"][0]


async def identify(provider: Any, code: str, verifier: str = "v" * 43) -> OAuthIdentity:
    try:
        return await provider.identify(
            code=code, redirect_uri=CALLBACK, code_verifier=verifier, nonce="n" * 43
        )
    finally:
        await provider.aclose()


async def test_google_identity_comes_from_a_verified_id_token(
    fake_oauth: FakeOAuthProvider,
) -> None:
    provider = google(fake_oauth)
    identity = await identify(provider, await authorize(provider))
    assert identity == OAuthIdentity(
        "google",
        "1001",
        "grace@example.com",
        True,
        "Grace Hopper",
        "https://avatars.example/grace.png",
    )
    [request] = fake_oauth.token_requests
    assert request["code_verifier"] == "v" * 43 and request["client_secret"]


async def test_google_code_is_usable_once_and_needs_the_pkce_verifier(
    fake_oauth: FakeOAuthProvider,
) -> None:
    code = await authorize(google(fake_oauth))
    with pytest.raises(OAuthFailed):
        await identify(google(fake_oauth), code, verifier="w" * 43)
    assert fake_oauth.refused == ["PKCE verification failed"]
    code = await authorize(google(fake_oauth))
    await identify(google(fake_oauth), code)
    with pytest.raises(OAuthFailed):
        await identify(google(fake_oauth), code)
    assert fake_oauth.refused[-1] == "code already used"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: {**c, "nonce": "someone else's nonce"},
        lambda c: {k: v for k, v in c.items() if k != "nonce"},
        lambda c: {**c, "aud": "another-client"},
        lambda c: {**c, "azp": "another-client"},
        lambda c: {**c, "iss": "https://evil.example"},
        lambda c: {**c, "exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200},
    ],
    ids=["wrong-nonce", "no-nonce", "wrong-audience", "wrong-azp", "wrong-issuer", "expired"],
)
async def test_google_refuses_an_id_token_that_is_not_for_us(
    fake_oauth: FakeOAuthProvider, tamper: Any
) -> None:
    fake_oauth.tamper = tamper
    provider = google(fake_oauth)
    with pytest.raises(OAuthFailed) as failed:
        await identify(provider, await authorize(provider))
    assert failed.value.reason == "provider_error"


async def test_google_refuses_an_id_token_signed_with_a_key_not_in_the_jwks(
    fake_oauth: FakeOAuthProvider,
) -> None:
    fake_oauth.sign_with_unknown_key = True
    provider = google(fake_oauth)
    with pytest.raises(OAuthFailed):
        await identify(provider, await authorize(provider))


async def test_google_passes_on_an_unverified_email_as_unverified(
    fake_oauth: FakeOAuthProvider,
) -> None:
    fake_oauth.user = FakeUser(email_verified=False)
    provider = google(fake_oauth)
    identity = await identify(provider, await authorize(provider))
    assert identity.email_verified is False


async def test_github_identity_uses_the_primary_verified_email(
    fake_oauth: FakeOAuthProvider,
) -> None:
    fake_oauth.user = FakeUser(subject="583231", email="octo@example.com", name="")
    provider = github(fake_oauth)
    identity = await identify(provider, await authorize(provider))
    assert identity.subject == "583231" and identity.email == "octo@example.com"
    assert identity.email_verified and identity.name == "someone"
    assert "id_token" not in str(fake_oauth.token_requests)


async def test_github_with_an_unverified_primary_email_has_no_usable_email(
    fake_oauth: FakeOAuthProvider,
) -> None:
    fake_oauth.user = FakeUser(email="octo@example.com", email_verified=False)
    provider = github(fake_oauth)
    identity = await identify(provider, await authorize(provider))
    # The other, verified but not primary address is not taken instead.
    assert identity.email is None and identity.email_verified is False


async def test_a_provider_that_is_down_is_a_provider_error() -> None:
    provider = GoogleProvider(
        client_id="x",
        client_secret="y",
        token_url="http://127.0.0.1:9/token",
        timeout_seconds=2,
    )
    with pytest.raises(OAuthFailed) as failed:
        await identify(provider, "code")
    assert failed.value.reason == "provider_error"
