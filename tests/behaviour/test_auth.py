"""Accounts and sessions, on every storage adapter set."""

from __future__ import annotations

import asyncio

import pytest

from chatsvg.application.accounts.auth import ClientInfo
from chatsvg.domain.errors import (
    EmailTaken,
    InvalidCredentials,
    NotFound,
    RateLimited,
    RefreshTokenReused,
    TokenExpired,
    Unauthenticated,
    ValidationFailed,
)
from tests.conftest import Stack

CLIENT = ClientInfo("pytest", "10.0.0.1")


async def register(stack: Stack, email: str = "ada@example.com") -> object:
    return await stack.auth.register(
        email=email, password="correct horse", name="Ada", agreed_to_terms=True, client=CLIENT
    )


async def test_register_gives_the_starting_credits_as_a_ledger_entry(stack: Stack) -> None:
    signed = await register(stack)
    assert signed.account.credits == 10
    assert signed.account.user.email == "ada@example.com"
    page = await stack.library.ledger(signed.account.user.id, limit=10, cursor=None)
    assert [(e.delta, e.reason) for e in page.items] == [(10, "SIGNUP_GRANT")]


async def test_register_refuses_a_taken_email_in_any_case(stack: Stack) -> None:
    await register(stack)
    with pytest.raises(EmailTaken):
        await register(stack, "ADA@example.com")


async def test_register_requires_accepted_terms(stack: Stack) -> None:
    with pytest.raises(ValidationFailed):
        await stack.auth.register(
            email="b@example.com",
            password="correct horse",
            name="B",
            agreed_to_terms=False,
            client=CLIENT,
        )


async def test_login_answers_the_same_for_unknown_email_and_wrong_password(stack: Stack) -> None:
    await register(stack)
    with pytest.raises(InvalidCredentials) as unknown:
        await stack.auth.login(
            email="nobody@example.com", password="correct horse", remember_me=False, client=CLIENT
        )
    with pytest.raises(InvalidCredentials) as wrong:
        await stack.auth.login(
            email="ada@example.com", password="wrong horse", remember_me=False, client=CLIENT
        )
    assert unknown.value.message == wrong.value.message
    assert "Invalid" in wrong.value.message


async def test_login_is_throttled_after_repeated_failures_and_success_clears_nothing_early(
    stack: Stack,
) -> None:
    await register(stack)
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            await stack.auth.login(
                email="ada@example.com", password="nope nope", remember_me=False, client=CLIENT
            )
    with pytest.raises(RateLimited) as limited:
        await stack.auth.login(
            email="ada@example.com", password="correct horse", remember_me=False, client=CLIENT
        )
    assert limited.value.retry_after >= 1
    # Another client address is a different throttle key.
    other = ClientInfo("pytest", "10.0.0.2")
    signed = await stack.auth.login(
        email="ada@example.com", password="correct horse", remember_me=False, client=other
    )
    assert signed.account.user.email == "ada@example.com"


async def test_refresh_rotates_and_the_old_token_is_spent(stack: Stack) -> None:
    first = await register(stack)
    second = await stack.auth.refresh(first.refresh_token, client=CLIENT)
    assert second.refresh_token != first.refresh_token
    assert second.session_id == first.session_id
    assert (
        second.refresh_expires_at == first.refresh_expires_at
    )  # rotation never extends the session
    third = await stack.auth.refresh(second.refresh_token, client=CLIENT)
    assert third.refresh_token not in (first.refresh_token, second.refresh_token)


async def test_reusing_a_spent_token_revokes_the_whole_family(stack: Stack) -> None:
    first = await register(stack)
    second = await stack.auth.refresh(first.refresh_token, client=CLIENT)
    with pytest.raises(RefreshTokenReused):
        await stack.auth.refresh(first.refresh_token, client=CLIENT)
    # The newest token of the family is dead too, and so is the family's access token.
    with pytest.raises(Unauthenticated):
        await stack.auth.refresh(second.refresh_token, client=CLIENT)
    with pytest.raises(Unauthenticated):
        await stack.auth.authenticate(second.access_token)
    assert first.session_id in stack.realtime.revoked


async def test_racing_refreshes_with_one_token_never_both_succeed(stack: Stack) -> None:
    first = await register(stack)
    results = await asyncio.gather(
        *(stack.auth.refresh(first.refresh_token, client=CLIENT) for _ in range(50)),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, RefreshTokenReused)]
    assert len(winners) == 1
    assert len(losers) == 49
    # A loser saw reuse, so the family (with the winner's token) is revoked.
    with pytest.raises(Unauthenticated):
        await stack.auth.refresh(winners[0].refresh_token, client=CLIENT)


async def test_remember_me_gives_a_30_day_family_kept_across_rotation(stack: Stack) -> None:
    await register(stack)
    signed = await stack.auth.login(
        email="ada@example.com", password="correct horse", remember_me=True, client=CLIENT
    )
    assert (signed.refresh_expires_at - stack.clock.now()).days == 30
    stack.clock.advance(days=10)
    rotated = await stack.auth.refresh(signed.refresh_token, client=CLIENT)
    assert rotated.refresh_expires_at == signed.refresh_expires_at


async def test_access_tokens_expire_with_a_distinct_code(stack: Stack) -> None:
    signed = await register(stack)
    assert (await stack.auth.authenticate(signed.access_token)).user_id == signed.account.user.id
    stack.clock.advance(minutes=16)
    with pytest.raises(TokenExpired):
        await stack.auth.authenticate(signed.access_token)


async def test_logout_revokes_only_this_session(stack: Stack) -> None:
    one = await register(stack)
    two = await stack.auth.login(
        email="ada@example.com", password="correct horse", remember_me=False, client=CLIENT
    )
    await stack.auth.logout(refresh_token=one.refresh_token, session_id=None)
    with pytest.raises(Unauthenticated):
        await stack.auth.refresh(one.refresh_token, client=CLIENT)
    assert (await stack.auth.authenticate(two.access_token)).session_id == two.session_id


async def test_logout_all_and_sessions(stack: Stack) -> None:
    one = await register(stack)
    two = await stack.auth.login(
        email="ada@example.com", password="correct horse", remember_me=False, client=CLIENT
    )
    views = await stack.auth.sessions(one.account.user.id, one.session_id)
    assert {v.id for v in views} == {one.session_id, two.session_id}
    assert [v.current for v in views if v.id == one.session_id] == [True]
    await stack.auth.logout_all(one.account.user.id)
    assert await stack.auth.sessions(one.account.user.id, None) == []
    for signed in (one, two):
        with pytest.raises(Unauthenticated):
            await stack.auth.authenticate(signed.access_token)


async def test_revoking_another_users_session_is_not_found(stack: Stack) -> None:
    ada = await register(stack)
    bob = await register(stack, "bob@example.com")
    with pytest.raises(NotFound):
        await stack.auth.revoke_session(bob.account.user.id, ada.session_id)
    await stack.auth.revoke_session(ada.account.user.id, ada.session_id)
    with pytest.raises(Unauthenticated):
        await stack.auth.authenticate(ada.access_token)


async def test_changing_the_password_revokes_the_other_sessions(stack: Stack) -> None:
    one = await register(stack)
    two = await stack.auth.login(
        email="ada@example.com", password="correct horse", remember_me=False, client=CLIENT
    )
    with pytest.raises(InvalidCredentials):
        await stack.auth.change_password(
            one.account.user.id, one.session_id, current="wrong pass", new="new secret 1"
        )
    await stack.auth.change_password(
        one.account.user.id, one.session_id, current="correct horse", new="new secret 1"
    )
    assert (await stack.auth.authenticate(one.access_token)).session_id == one.session_id
    with pytest.raises(Unauthenticated):
        await stack.auth.authenticate(two.access_token)
    with pytest.raises(InvalidCredentials):
        await stack.auth.login(
            email="ada@example.com",
            password="correct horse",
            remember_me=False,
            client=ClientInfo("x", "9.9.9.9"),
        )
    await stack.auth.login(
        email="ada@example.com",
        password="new secret 1",
        remember_me=False,
        client=ClientInfo("x", "9.9.9.9"),
    )


async def test_profile_update(stack: Stack) -> None:
    signed = await register(stack)
    account = await stack.auth.update_profile(signed.account.user.id, name="  Ada   King ")
    assert account.user.name == "Ada King"
    assert (await stack.auth.account(signed.account.user.id)).user.name == "Ada King"


async def test_login_rehashes_a_password_hashed_with_old_parameters(stack: Stack) -> None:
    from chatsvg.adapters.accounts.passwords import Argon2PasswordHasher

    signed = await register(stack)  # hashed with time_cost=1
    stronger = Argon2PasswordHasher(time_cost=2, memory_cost=2048)
    stack.auth._hasher = stronger
    await stack.auth.login(
        email="ada@example.com", password="correct horse", remember_me=False, client=CLIENT
    )
    async with stack.uow() as uow:
        user = await uow.users.get(signed.account.user.id)
    assert user is not None and user.password_hash is not None
    assert "t=2" in user.password_hash and not stronger.needs_rehash(user.password_hash)
