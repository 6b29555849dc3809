"""Signing in to the admin page with a mailed link.

`request_access` answers the same message for every address, in about the same time, and is
rate-limited per client and per address; only an address of `admins` gets a link. The link is
256 random bits (stored only as its hash), valid 5 minutes and spent on first use; it opens an
admin session of 24 hours, kept apart from user sessions and ended by `logout`. A session is
only honoured while its address is still an admin.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from chatsvg.application.admin.ports import AdminUnitOfWorkFactory
from chatsvg.application.ids import new_secret_token
from chatsvg.application.mail.outbox import MailOutbox
from chatsvg.application.ports import Clock, MailMessage, RateDecision, RateLimiter
from chatsvg.domain.accounts.auth import hash_token
from chatsvg.domain.accounts.users import normalise_email
from chatsvg.domain.admin.access import (
    LINK_LIFETIME,
    REQUEST_ACCESS_MESSAGE,
    AdminLink,
    AdminLinkInvalid,
    AdminSession,
    AdminSignInRequired,
    is_admin,
)
from chatsvg.domain.errors import RateLimited

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccessRequested:
    message: str
    rate: RateDecision  # for the X-RateLimit-* headers


RATE_PURPOSE = "admin-access"
MAX_TOKEN_LENGTH = 256


@dataclass(frozen=True)
class AdminSignedIn:
    token: str  # the admin session cookie's value
    email: str
    expires_at: datetime


class AdminAccess:
    def __init__(
        self,
        *,
        uow: AdminUnitOfWorkFactory,
        outbox: MailOutbox,
        clock: Clock,
        limiter: RateLimiter,
        admins: frozenset[str],
        auth_url: str,
        min_response_seconds: float = 0.25,
    ) -> None:
        """`auth_url`: the API's GET /api/admin/auth; the link adds ?token=."""
        self._uow = uow
        self._outbox = outbox
        self._clock = clock
        self._limiter = limiter
        self._admins = frozenset(a.strip().lower() for a in admins)
        self._auth_url = auth_url
        self._min_response_seconds = min_response_seconds

    async def request_access(self, email: str, client_ip: str) -> AccessRequested:
        """Mail a sign-in link if `email` is an admin's. The same answer whatever the address
        (the message, and the tighter of the two limits, counted alike for every address).

        Raises ValidationFailed for a malformed address, RateLimited past the limit (per client
        address and per email address, counted alike for every address)."""
        started = time.perf_counter()
        address = normalise_email(email)
        tightest: RateDecision | None = None
        for key in (f"ip:{client_ip}", f"email:{address}"):
            decision = await self._limiter.hit(RATE_PURPOSE, key)
            if tightest is None or decision.remaining < tightest.remaining:
                tightest = decision
            if not decision.allowed:
                raise RateLimited(
                    "Too many sign-in link requests; try again later.",
                    retry_after=decision.retry_after,
                    limit=decision.limit,
                    reset_at=decision.reset_at,
                )
        if is_admin(address, self._admins):
            try:
                await self._mail_link(address)
            except Exception:
                log.exception("could not issue an admin sign-in link")
        # Only the admin's branch writes; a floor on the response time hides the difference.
        remaining = self._min_response_seconds - (time.perf_counter() - started)
        if remaining > 0:
            await asyncio.sleep(remaining)
        assert tightest is not None
        return AccessRequested(REQUEST_ACCESS_MESSAGE, tightest)

    async def issue_link(self, email: str) -> str:
        """A sign-in link for an admin, not mailed (`chatsvg admin link`)."""
        address = normalise_email(email)
        if not is_admin(address, self._admins):
            raise AdminSignInRequired(f"{address} is not in ADMIN_EMAILS.")
        token = new_secret_token()
        async with self._uow() as uow:
            await uow.admin_links.add(
                AdminLink.issue(hash_token(token), address, self._clock.now())
            )
            await uow.commit()
        return self.link(token)

    def link(self, token: str) -> str:
        separator = "&" if "?" in self._auth_url else "?"
        return f"{self._auth_url}{separator}{urlencode({'token': token})}"

    async def _mail_link(self, address: str) -> None:
        token = new_secret_token()
        now = self._clock.now()
        link = AdminLink.issue(hash_token(token), address, now)
        minutes = int(LINK_LIFETIME.total_seconds() // 60)
        message = MailMessage(
            to=address,
            subject="Your ChatSVG admin sign-in link",
            text=(
                "Open this link to sign in to the ChatSVG admin page:\n\n"
                f"{self.link(token)}\n\n"
                f"It works once, for {minutes} minutes. If you did not ask for it, ignore this "
                "mail.\n"
            ),
        )
        async with self._uow() as uow:
            await uow.admin_links.add(link)
            mail_id = await self._outbox.add_in(
                uow, message, purpose="admin-link", expires_at=link.expires_at, sensitive=True
            )
            await uow.commit()
        await self._outbox.nudge(mail_id)

    async def sign_in(self, token: str) -> AdminSignedIn:
        """Spend a link: an admin session. Raises AdminLinkInvalid for an unknown, used or
        expired link, or one whose address is no longer an admin's."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise AdminLinkInvalid()
        now = self._clock.now()
        session_token = new_secret_token()
        async with self._uow() as uow:
            email = await uow.admin_links.use(hash_token(token), now)
            if email is None or not is_admin(email, self._admins):
                raise AdminLinkInvalid()
            session = AdminSession.open(hash_token(session_token), email, now)
            await uow.admin_sessions.add(session)
            await uow.commit()
        log.info("admin signed in", extra={"admin": email})
        return AdminSignedIn(session_token, email, session.expires_at)

    async def admin(self, token: str | None) -> str:
        """The admin of a session cookie; raises AdminSignInRequired otherwise."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise AdminSignInRequired()
        async with self._uow() as uow:
            session = await uow.admin_sessions.get(hash_token(token))
        if (
            session is None
            or not session.live(self._clock.now())
            or not is_admin(session.email, self._admins)
        ):
            raise AdminSignInRequired()
        return session.email

    async def logout(self, token: str | None) -> None:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return
        async with self._uow() as uow:
            await uow.admin_sessions.revoke(hash_token(token), self._clock.now())
            await uow.commit()
