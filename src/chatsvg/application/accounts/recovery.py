"""Forgot and reset password.

Forgot answers the same, in about the same time, whether or not the address has an account, and
whatever happens to the mail afterwards: the mail goes into the durable outbox in the transaction
that stores the reset token, and is delivered later. The token is 256 random bits, stored only as
its hash, lives one hour and can be spent once. A reset revokes every session of the account.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from urllib.parse import urlencode

from chatsvg.application.accounts.ports import AccountsUnitOfWorkFactory, MailTemplates
from chatsvg.application.ids import new_secret_token
from chatsvg.application.mail.outbox import MailOutbox
from chatsvg.application.ports import (
    Clock,
    PasswordHasher,
    RateLimiter,
    RealtimePublisher,
)
from chatsvg.domain.accounts.auth import PasswordResetToken, hash_token
from chatsvg.domain.accounts.users import check_password, normalise_email
from chatsvg.domain.errors import EmailAuthDisabled, InvalidResetToken, RateLimited

log = logging.getLogger(__name__)

RESET_TOKEN_LIFETIME = timedelta(hours=1)
FORGOT_PASSWORD_MESSAGE = (
    "If an account exists for this email, we have sent a link to reset its password. "
    "The link works once, for one hour."
)
# Longer than any token we mint; anything longer is refused before hashing.
MAX_TOKEN_LENGTH = 256


def reset_link(base_url: str, token: str) -> str:
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}{urlencode({'token': token})}"


class PasswordRecovery:
    """The forgot-password and reset-password use cases."""

    def __init__(
        self,
        *,
        uow: AccountsUnitOfWorkFactory,
        outbox: MailOutbox,
        templates: MailTemplates,
        hasher: PasswordHasher,
        clock: Clock,
        limiter: RateLimiter,
        realtime: RealtimePublisher,
        reset_url: str,
        email_auth_enabled: bool = True,
        min_response_seconds: float = 0.25,
    ) -> None:
        self._uow = uow
        self._outbox = outbox
        self._templates = templates
        self._hasher = hasher
        self._clock = clock
        self._limiter = limiter
        self._realtime = realtime
        self._reset_url = reset_url
        self._email_auth_enabled = email_auth_enabled
        self._min_response_seconds = min_response_seconds

    async def forgot_password(self, email: str) -> str:
        """Mail a reset link if `email` has an account. Returns the message to show, whatever happened.

        Raises ValidationFailed for a malformed address and RateLimited after too many requests for
        one address (both independent of whether it has an account)."""
        started = time.perf_counter()
        if not self._email_auth_enabled:
            raise EmailAuthDisabled()
        address = normalise_email(email)
        decision = await self._limiter.hit("forgot-password", address)
        if not decision.allowed:
            raise RateLimited(
                "Too many password reset requests for this address; try again later.",
                retry_after=decision.retry_after,
                limit=decision.limit,
                reset_at=decision.reset_at,
            )
        try:
            await self._issue(address)
        except Exception:
            # Whatever failed, the answer must not differ from the one for an unknown address.
            log.exception("could not issue a password reset")
        # The two branches differ by a database write; a floor on the response time hides it.
        remaining = self._min_response_seconds - (time.perf_counter() - started)
        if remaining > 0:
            await asyncio.sleep(remaining)
        return FORGOT_PASSWORD_MESSAGE

    async def _issue(self, address: str) -> None:
        token = new_secret_token()
        now = self._clock.now()
        expires_at = now + RESET_TOKEN_LIFETIME
        async with self._uow() as uow:
            user = await uow.users.by_email(address)
            # Rendered in both branches, so the unknown address costs what the known one does.
            message = self._templates.password_reset(
                to=address,
                name=user.name if user else "",
                link=reset_link(self._reset_url, token),
                expires_in_minutes=int(RESET_TOKEN_LIFETIME.total_seconds() // 60),
            )
            if user is None:
                return
            await uow.reset_tokens.add(
                PasswordResetToken(hash_token(token), user.id, now, expires_at)
            )
            mail_id = await self._outbox.add_in(
                uow, message, purpose="password-reset", expires_at=expires_at, sensitive=True
            )
            await uow.commit()
        await self._outbox.nudge(mail_id)

    async def reset_password(self, token: str, new_password: str) -> None:
        """Set a new password with a reset token, once. Every session of the account ends, and
        every app it let in through the OAuth server (MCP clients) loses its grant.

        Raises InvalidResetToken for an unknown, expired or already used token, and ValidationFailed
        for a password outside the rules (the token is not spent then)."""
        if not self._email_auth_enabled:
            raise EmailAuthDisabled()
        check_password(new_password, field="newPassword")
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidResetToken()
        token_hash = hash_token(token)
        async with self._uow() as uow:
            record = await uow.reset_tokens.get(token_hash)
        if record is None or not record.usable(self._clock.now()):
            raise InvalidResetToken()
        new_hash = await self._hasher.hash(new_password)
        now = self._clock.now()
        async with self._uow() as uow:
            if not await uow.reset_tokens.use(token_hash, now):
                raise InvalidResetToken()
            # Older links (a second request, a mail forwarded elsewhere) die with this one.
            await uow.reset_tokens.retire_all(record.user_id, now)
            user = await uow.users.get(record.user_id)
            if user is None:
                raise InvalidResetToken()
            user.reset_password(new_hash)  # and the address is proven: the link reached it
            await uow.users.update(user)
            revoked = await uow.sessions.revoke_all(user.id, now)
            # A reset is a recovery: whoever had the account may also have let an app in (an
            # MCP client's OAuth grant). Those grants end too; API keys stay (the owner sees and
            # revokes them on the keys page, and revoking them would break their programs).
            for grant in await uow.authz_grants.live_for_user(user.id, now):
                grant.revoke(now)
                await uow.authz_grants.update(grant)
            await uow.commit()
        await self._realtime.session_revoked(revoked)
