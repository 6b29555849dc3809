"""Forgot and reset password, and the outbox that carries the mail, on every storage adapter set."""

from __future__ import annotations

import asyncio

import pytest

from chatsvg.application.accounts.auth import ClientInfo
from chatsvg.application.accounts.ports import MailStatus
from chatsvg.application.accounts.recovery import FORGOT_PASSWORD_MESSAGE
from chatsvg.application.ports import MailMessage
from chatsvg.domain.accounts.auth import hash_token
from chatsvg.domain.errors import (
    EmailAuthDisabled,
    InvalidCredentials,
    InvalidResetToken,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)
from tests.accounts.conftest import FORGOT_LIMIT, AccountsStack

CLIENT = ClientInfo("pytest", "10.0.0.1")


async def sign_up(a: AccountsStack, email: str = "ada@example.com", name: str = "Ada") -> object:
    return await a.base.auth.register(
        email=email, password="correct horse", name=name, agreed_to_terms=True, client=CLIENT
    )


async def outbox(a: AccountsStack) -> list:
    return await a.outbox.recent(50)


async def test_forgot_records_one_mail_with_a_single_use_link_and_stores_only_the_hash(
    accounts: AccountsStack,
) -> None:
    await sign_up(accounts)
    answer = await accounts.recovery.forgot_password("  ADA@example.com ")
    assert answer == FORGOT_PASSWORD_MESSAGE
    assert accounts.nudges, "delivery is woken (send_mail) after the commit"
    assert accounts.mailer.sent == [], "nothing is sent inline"
    [mail] = await outbox(accounts)
    assert mail.purpose == "password-reset" and mail.status == MailStatus.PENDING
    token = await accounts.reset_link_token()
    assert len(token) >= 43  # 256 bits in URL-safe base64
    sent = accounts.mailer.sent[-1]
    assert sent.to == "ada@example.com" and sent.html and "Hello Ada" in sent.text
    assert f"https://app.example/reset-password?token={token}" in sent.text
    async with accounts.base.uow() as uow:
        stored = await uow.reset_tokens.get(hash_token(token))
        assert await uow.reset_tokens.get(token) is None
    assert stored is not None and stored.used_at is None
    assert (stored.expires_at - stored.created_at).total_seconds() == 3600
    [done] = await outbox(accounts)
    assert done.status == MailStatus.SENT and token not in done.message.text, "sent bodies erased"


async def test_forgot_answers_the_same_for_an_unknown_address_and_records_nothing(
    accounts: AccountsStack,
) -> None:
    assert await accounts.recovery.forgot_password("nobody@example.com") == FORGOT_PASSWORD_MESSAGE
    assert await outbox(accounts) == []
    assert (await accounts.outbox.deliver_due()).sent == 0


async def test_the_mail_escapes_what_the_user_typed(accounts: AccountsStack) -> None:
    await sign_up(accounts, name='<img src=x onerror="alert(1)">')
    await accounts.recovery.forgot_password("ada@example.com")
    await accounts.outbox.deliver_due()
    html = accounts.mailer.sent[-1].html
    assert html is not None and "<img" not in html and "&lt;img src=x" in html


async def test_reset_works_once_and_ends_every_session(accounts: AccountsStack) -> None:
    first = await sign_up(accounts)
    second = await accounts.base.auth.login(
        email="ada@example.com", password="correct horse", remember_me=True, client=CLIENT
    )
    await accounts.recovery.forgot_password("ada@example.com")
    token = await accounts.reset_link_token()

    await accounts.recovery.reset_password(token, "a brand new password")

    for signed in (first, second):
        with pytest.raises(Unauthenticated):
            await accounts.base.auth.authenticate(signed.access_token)
        with pytest.raises(Unauthenticated):
            await accounts.base.auth.refresh(signed.refresh_token, client=CLIENT)
    assert {first.session_id, second.session_id} <= set(accounts.base.realtime.revoked)
    with pytest.raises(InvalidResetToken):
        await accounts.recovery.reset_password(token, "another new password")
    with pytest.raises(InvalidCredentials):
        await accounts.base.auth.login(
            email="ada@example.com", password="correct horse", remember_me=False, client=CLIENT
        )
    again = await accounts.base.auth.login(
        email="ada@example.com", password="a brand new password", remember_me=False, client=CLIENT
    )
    assert again.account.user.email_verified, "the link proved the address"


async def test_a_reset_retires_every_other_link_of_the_account(accounts: AccountsStack) -> None:
    await sign_up(accounts)
    await sign_up(accounts, "bob@example.com", "Bob")
    await accounts.recovery.forgot_password("ada@example.com")
    older = await accounts.reset_link_token()
    accounts.base.clock.advance(minutes=2)  # past the per-address limit's spacing, if any
    await accounts.recovery.forgot_password("bob@example.com")
    bobs = await accounts.reset_link_token()
    accounts.base.clock.advance(minutes=2)
    await accounts.recovery.forgot_password("ada@example.com")
    newer = await accounts.reset_link_token()
    assert len({older, newer, bobs}) == 3

    await accounts.recovery.reset_password(newer, "a brand new password")

    with pytest.raises(InvalidResetToken):  # a forwarded or leaked older mail is dead now
        await accounts.recovery.reset_password(older, "an attacker's password")
    await accounts.recovery.reset_password(bobs, "bob's new password")  # others are untouched


async def test_a_reset_token_lives_one_hour(accounts: AccountsStack) -> None:
    await sign_up(accounts)
    await accounts.recovery.forgot_password("ada@example.com")
    token = await accounts.reset_link_token()
    accounts.base.clock.advance(minutes=61)
    with pytest.raises(InvalidResetToken):
        await accounts.recovery.reset_password(token, "a brand new password")


async def test_a_password_outside_the_rules_does_not_spend_the_token(
    accounts: AccountsStack,
) -> None:
    await sign_up(accounts)
    await accounts.recovery.forgot_password("ada@example.com")
    token = await accounts.reset_link_token()
    with pytest.raises(ValidationFailed):
        await accounts.recovery.reset_password(token, "short")
    accounts.base.clock.advance(minutes=59)
    await accounts.recovery.reset_password(token, "long enough now")


@pytest.mark.parametrize("token", ["", "not-a-token", "x" * 5000])
async def test_unknown_tokens_are_refused(accounts: AccountsStack, token: str) -> None:
    with pytest.raises(InvalidResetToken):
        await accounts.recovery.reset_password(token, "a brand new password")


async def test_concurrent_resets_with_one_token_succeed_once(accounts: AccountsStack) -> None:
    await sign_up(accounts)
    await accounts.recovery.forgot_password("ada@example.com")
    token = await accounts.reset_link_token()
    results = await asyncio.gather(
        *(accounts.recovery.reset_password(token, f"new password {i}") for i in range(4)),
        return_exceptions=True,
    )
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, InvalidResetToken) for r in results if r is not None)


async def test_forgot_is_rate_limited_per_address_whether_or_not_it_exists(
    accounts: AccountsStack,
) -> None:
    await sign_up(accounts)
    for email in ("ada@example.com", "nobody@example.com"):
        for _ in range(FORGOT_LIMIT):
            await accounts.recovery.forgot_password(email)
        with pytest.raises(RateLimited) as limited:
            await accounts.recovery.forgot_password(email.upper())
        assert limited.value.retry_after >= 1
    await accounts.recovery.forgot_password("someone-else@example.com")


async def test_a_malformed_address_is_a_validation_error(accounts: AccountsStack) -> None:
    with pytest.raises(ValidationFailed):
        await accounts.recovery.forgot_password("not an email")


async def test_with_email_sign_in_off_there_is_no_reset(accounts: AccountsStack) -> None:
    accounts.recovery._email_auth_enabled = False
    with pytest.raises(EmailAuthDisabled):
        await accounts.recovery.forgot_password("ada@example.com")
    with pytest.raises(EmailAuthDisabled):
        await accounts.recovery.reset_password("whatever", "a brand new password")


async def test_a_failed_delivery_changes_nothing_for_the_client_and_is_retried_with_backoff(
    accounts: AccountsStack,
) -> None:
    await sign_up(accounts)
    accounts.mailer.failing = ConnectionRefusedError("smtp down")
    assert await accounts.recovery.forgot_password("ada@example.com") == FORGOT_PASSWORD_MESSAGE

    first = await accounts.outbox.deliver_due()
    assert (first.sent, first.failed) == (0, 1)
    [mail] = await outbox(accounts)
    assert mail.status == MailStatus.PENDING and mail.attempts == 1
    assert "smtp down" in (mail.last_error or "")
    delay = (mail.next_attempt_at - accounts.base.clock.now()).total_seconds()
    assert 9 <= delay <= 11  # backoff_base_seconds=10, ±10%
    assert (await accounts.outbox.deliver_due()).failed == 0, "not due yet"

    accounts.base.clock.advance(seconds=11)
    second = await accounts.outbox.deliver_due()
    assert second.failed == 1
    [mail] = await outbox(accounts)
    assert mail.attempts == 2
    assert 18 <= (mail.next_attempt_at - accounts.base.clock.now()).total_seconds() <= 22

    accounts.mailer.failing = None
    accounts.base.clock.advance(seconds=22)
    assert (await accounts.outbox.deliver_due()).sent == 1
    [mail] = await outbox(accounts)
    assert mail.status == MailStatus.SENT and mail.sent_at is not None
    assert len(accounts.mailer.sent) == 1


async def test_the_outbox_gives_up_after_the_last_attempt(accounts: AccountsStack) -> None:
    accounts.mailer.failing = OSError("still down")
    await accounts.outbox.enqueue(MailMessage("x@example.com", "Hi", "text"), purpose="test")
    for _ in range(3):  # max_attempts=3
        await accounts.outbox.deliver_due()
        accounts.base.clock.advance(seconds=120)
    [mail] = await outbox(accounts)
    assert mail.status == MailStatus.FAILED and mail.attempts == 3
    assert (await accounts.outbox.deliver_due()).failed == 0


async def test_a_reset_mail_not_delivered_within_the_hour_is_dropped_and_erased(
    accounts: AccountsStack,
) -> None:
    await sign_up(accounts)
    accounts.mailer.failing = OSError("down")
    await accounts.recovery.forgot_password("ada@example.com")
    await accounts.outbox.deliver_due()
    accounts.mailer.failing = None
    accounts.base.clock.advance(minutes=61)
    assert (await accounts.outbox.deliver_due()).expired == 1
    [mail] = await outbox(accounts)
    assert mail.status == MailStatus.EXPIRED and "token=" not in mail.message.text
    assert accounts.mailer.sent == []


async def test_support_mail_keeps_its_reply_to_and_body(accounts: AccountsStack) -> None:
    message = MailMessage(
        to="support@chatsvg.example",
        subject="Help",
        text="My SVG is sideways",
        reply_to="ada@example.com",
    )
    mail_id = await accounts.outbox.enqueue(message, purpose="support")
    assert accounts.nudges
    await accounts.outbox.deliver_due()
    assert accounts.mailer.sent == [message]
    stored = await accounts.outbox.get(mail_id)
    assert stored is not None and stored.message == message and stored.status == MailStatus.SENT


async def test_racing_delivery_rounds_send_each_mail_once(accounts: AccountsStack) -> None:
    for i in range(6):
        await accounts.outbox.enqueue(MailMessage(f"u{i}@example.com", "Hi", "t"), purpose="t")
    rounds = await asyncio.gather(*(accounts.outbox.deliver_due() for _ in range(3)))
    assert sum(r.sent for r in rounds) == 6
    assert sorted(m.to for m in accounts.mailer.sent) == [f"u{i}@example.com" for i in range(6)]


async def test_a_reset_also_ends_the_apps_the_account_let_in(accounts: AccountsStack) -> None:
    """An MCP client's OAuth grant is access to the account like a session; a recovery ends it."""
    from chatsvg.application.authorization.server import AuthorizationServer
    from chatsvg.domain.authorization.grants import InvalidToken
    from tests.mcp.test_authorization_behaviour import ISSUER, tokens

    signed = await sign_up(accounts)
    server = AuthorizationServer(
        uow=accounts.base.uow, clock=accounts.base.clock, issuer=ISSUER, resources=(ISSUER,)
    )
    _, issued = await tokens(server, signed.account.user.id)  # type: ignore[attr-defined]
    await server.authenticate(issued.access_token)
    await accounts.recovery.forgot_password("ada@example.com")
    await accounts.recovery.reset_password(await accounts.reset_link_token(), "a brand new one")
    with pytest.raises(InvalidToken):
        await server.authenticate(issued.access_token)
