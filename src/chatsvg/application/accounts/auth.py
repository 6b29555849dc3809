"""Accounts and sessions: register, sign in, refresh with rotation, sign out, profile and password."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chatsvg.application.accounts.sessions import LiveSessionCache
from chatsvg.application.ids import new_id, new_secret_token
from chatsvg.application.ports import (
    AccessClaims,
    AccessTokens,
    Clock,
    PasswordHasher,
    RateLimiter,
    RealtimePublisher,
    UnitOfWork,
    UnitOfWorkFactory,
)
from chatsvg.domain.accounts.auth import (
    RefreshDecision,
    RefreshToken,
    RefreshTokenFamily,
    hash_token,
    judge_refresh,
)
from chatsvg.domain.accounts.users import User, check_password, normalise_email, normalise_name
from chatsvg.domain.credits.ledger import signup_grant
from chatsvg.domain.errors import (
    EmailAuthDisabled,
    EmailTaken,
    InvalidCredentials,
    NotFound,
    RateLimited,
    RefreshTokenReused,
    Unauthenticated,
    ValidationFailed,
)
from chatsvg.domain.notifications.notifications import welcome


@dataclass(frozen=True)
class ClientInfo:
    user_agent: str | None = None
    ip_address: str | None = None


@dataclass(frozen=True)
class Account:
    """A user with the balance the ledger gives them: what the API calls `user`."""

    user: User
    credits: int


@dataclass(frozen=True)
class SignedIn:
    account: Account
    session_id: str
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime


@dataclass(frozen=True)
class SessionView:
    id: str
    created_at: datetime
    last_used_at: datetime
    user_agent: str | None
    ip_address: str | None
    current: bool


class AuthService:
    """Use cases of accounts and sessions."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        hasher: PasswordHasher,
        tokens: AccessTokens,
        clock: Clock,
        limiter: RateLimiter,
        realtime: RealtimePublisher,
        start_credits: int = 10,
        email_auth_enabled: bool = True,
        session_cache: LiveSessionCache | None = None,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._tokens = tokens
        self._clock = clock
        self._limiter = limiter
        self._realtime = realtime
        self._start_credits = start_credits
        self.email_auth_enabled = email_auth_enabled
        self._live_sessions = session_cache

    async def register(
        self, *, email: str, password: str, name: str, agreed_to_terms: bool, client: ClientInfo
    ) -> SignedIn:
        if not self.email_auth_enabled:
            raise EmailAuthDisabled()
        if agreed_to_terms is not True:
            raise ValidationFailed(
                "You must accept the terms to create an account.",
                details=[{"field": "agreedToTerms", "message": "must be true"}],
            )
        email = normalise_email(email)
        check_password(password)
        name = normalise_name(name)
        password_hash = await self._hasher.hash(password)
        now = self._clock.now()
        user = User.open(
            user_id=new_id(), email=email, name=name, password_hash=password_hash, now=now
        )
        async with self._uow() as uow:
            if await uow.users.by_email(email) is not None:
                raise EmailTaken()
            await self.create_user(uow, user, now)
            signed_in = await self._open_session(
                uow, user, remember_me=False, client=client, now=now
            )
            await uow.commit()
        return signed_in

    async def create_user(self, uow: UnitOfWork, user: User, now: datetime) -> None:
        """Store a new user with their starting credits (a ledger entry) and a welcome notification."""
        await uow.users.add(user)
        if self._start_credits:
            await uow.ledger.append(
                signup_grant(
                    entry_id=new_id(), user_id=user.id, amount=self._start_credits, now=now
                )
            )
        await uow.notifications.add(
            welcome(
                notification_id=new_id(),
                user_id=user.id,
                start_credits=self._start_credits,
                now=now,
            )
        )

    async def login(
        self, *, email: str, password: str, remember_me: bool, client: ClientInfo
    ) -> SignedIn:
        if not self.email_auth_enabled:
            raise EmailAuthDisabled()
        email_key = email.strip().lower()[:254]
        throttle_key = f"{email_key}|{client.ip_address or '-'}"
        decision = await self._limiter.peek("login", throttle_key)
        if not decision.allowed:
            raise RateLimited(
                "Too many failed sign-in attempts; try again later.",
                retry_after=decision.retry_after,
                limit=decision.limit,
                reset_at=decision.reset_at,
            )
        async with self._uow() as uow:
            user = await uow.users.by_email(email_key)
        if user is None or user.password_hash is None:
            await self._hasher.waste_time(password)
            await self._limiter.hit("login", throttle_key)
            raise InvalidCredentials()
        if not await self._hasher.verify(user.password_hash, password):
            await self._limiter.hit("login", throttle_key)
            raise InvalidCredentials()
        await self._limiter.clear("login", throttle_key)
        now = self._clock.now()
        async with self._uow() as uow:
            if self._hasher.needs_rehash(user.password_hash):
                fresh = await uow.users.get(user.id)
                if fresh is not None:
                    fresh.change_password(await self._hasher.hash(password))
                    await uow.users.update(fresh)
            signed_in = await self._open_session(
                uow, user, remember_me=remember_me, client=client, now=now
            )
            await uow.commit()
        return signed_in

    async def sign_in_user(
        self, user_id: str, *, client: ClientInfo, remember_me: bool = False
    ) -> SignedIn:
        """Open a session for a user already proven by other means (OAuth)."""
        now = self._clock.now()
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                raise Unauthenticated()
            signed_in = await self._open_session(
                uow, user, remember_me=remember_me, client=client, now=now
            )
            await uow.commit()
        return signed_in

    async def refresh(self, refresh_token: str | None, *, client: ClientInfo) -> SignedIn:
        if not refresh_token:
            raise Unauthenticated("No session; sign in again.")
        token_hash = hash_token(refresh_token)
        now = self._clock.now()
        revoked_family: str | None = None
        async with self._uow() as uow:
            token = await uow.sessions.get_token(token_hash)
            family = await uow.sessions.get_family(token.family_id) if token else None
            decision = judge_refresh(token, family, now)
            assert token is not None and family is not None
            if decision == RefreshDecision.ROTATE and await uow.sessions.spend_token(
                token_hash, now
            ):
                user = await uow.users.get(family.user_id)
                if user is None:
                    raise Unauthenticated()
                family.record_use(now, user_agent=client.user_agent, ip_address=client.ip_address)
                await uow.sessions.update_family(family)
                signed_in = await self._issue(uow, user, family, now)
                await uow.commit()
                return signed_in
            # Spent already (or spent by a racing request a moment ago): the token leaked. End the family.
            family.revoke(now)
            await uow.sessions.update_family(family)
            await uow.commit()
            revoked_family = family.id
        await self._sessions_ended([revoked_family])
        raise RefreshTokenReused()

    async def logout(self, *, refresh_token: str | None, session_id: str | None) -> None:
        """Revoke the session named by the refresh cookie (or, failing that, by the access token)."""
        now = self._clock.now()
        family_id = session_id
        async with self._uow() as uow:
            if refresh_token:
                token = await uow.sessions.get_token(hash_token(refresh_token))
                if token is not None:
                    family_id = token.family_id
            if family_id is None:
                return
            family = await uow.sessions.get_family(family_id)
            if family is None:
                return
            family.revoke(now)
            await uow.sessions.update_family(family)
            await uow.commit()
        await self._sessions_ended([family_id])

    async def logout_all(self, user_id: str) -> None:
        async with self._uow() as uow:
            revoked = await uow.sessions.revoke_all(user_id, self._clock.now())
            await uow.commit()
        await self._sessions_ended(revoked)

    async def authenticate(self, access_token: str | None) -> AccessClaims:
        """Check an access token and that its session is still live (sign-out and resets take effect at once)."""
        if not access_token:
            raise Unauthenticated()
        claims = self._tokens.verify(access_token)
        cache = self._live_sessions
        if cache is not None and cache.is_live(claims.session_id, claims.user_id):
            return claims
        async with self._uow() as uow:
            family = await uow.sessions.get_family(claims.session_id)
        if family is None or family.user_id != claims.user_id or family.revoked_at is not None:
            raise Unauthenticated("Your session has ended; sign in again.")
        if cache is not None:
            cache.remember(claims.session_id, claims.user_id)
        return claims

    def forget_sessions(self, session_ids: list[str]) -> None:
        """Sessions revoked by any process (announced over the realtime channel): stop trusting
        this process's memory of them."""
        if self._live_sessions is not None:
            self._live_sessions.forget(session_ids)

    def forget_all_sessions(self) -> None:
        """Announcements of revocations may have been lost: read every session afresh."""
        if self._live_sessions is not None:
            self._live_sessions.clear()

    async def _sessions_ended(self, session_ids: list[str]) -> None:
        self.forget_sessions(session_ids)
        await self._realtime.session_revoked(session_ids)

    async def account(self, user_id: str) -> Account:
        async with self._uow() as uow:
            found = await uow.users.with_balance(user_id)
        if found is None:
            raise Unauthenticated()
        return Account(*found)

    async def update_profile(self, user_id: str, *, name: str | None) -> Account:
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
            if user is None:
                raise Unauthenticated()
            if name is not None:
                user.rename(name)
            await uow.users.update(user)
            balance = await uow.ledger.balance(user_id)
            await uow.commit()
        return Account(user, balance)

    async def change_password(
        self, user_id: str, session_id: str, *, current: str, new: str
    ) -> None:
        check_password(new, field="newPassword")
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
        if user is None:
            raise Unauthenticated()
        if user.password_hash is None or not await self._hasher.verify(user.password_hash, current):
            raise InvalidCredentials("Invalid current password.")
        new_hash = await self._hasher.hash(new)
        async with self._uow() as uow:
            fresh = await uow.users.get(user_id)
            if fresh is None:
                raise Unauthenticated()
            fresh.change_password(new_hash)
            await uow.users.update(fresh)
            revoked = await uow.sessions.revoke_all(user_id, self._clock.now(), keep=session_id)
            await uow.commit()
        await self._sessions_ended(revoked)

    async def sessions(self, user_id: str, current_session_id: str | None) -> list[SessionView]:
        async with self._uow() as uow:
            families = await uow.sessions.live_families(user_id, self._clock.now())
        families.sort(key=lambda f: f.last_used_at, reverse=True)
        return [
            SessionView(
                f.id,
                f.created_at,
                f.last_used_at,
                f.user_agent,
                f.ip_address,
                f.id == current_session_id,
            )
            for f in families
        ]

    async def revoke_session(self, user_id: str, family_id: str) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            family = await uow.sessions.get_family(family_id)
            if family is None or family.user_id != user_id or not family.is_live(now):
                raise NotFound("Session not found.")
            family.revoke(now)
            await uow.sessions.update_family(family)
            await uow.commit()
        await self._sessions_ended([family_id])

    async def _open_session(
        self, uow: UnitOfWork, user: User, *, remember_me: bool, client: ClientInfo, now: datetime
    ) -> SignedIn:
        family = RefreshTokenFamily.start(
            family_id=new_id(),
            user_id=user.id,
            now=now,
            remember_me=remember_me,
            user_agent=client.user_agent,
            ip_address=client.ip_address,
        )
        await uow.sessions.add_family(family)
        return await self._issue(uow, user, family, now)

    async def _issue(
        self, uow: UnitOfWork, user: User, family: RefreshTokenFamily, now: datetime
    ) -> SignedIn:
        refresh_token = new_secret_token()
        await uow.sessions.add_token(RefreshToken(hash_token(refresh_token), family.id, now))
        access_token, access_expires_at = self._tokens.issue(user.id, family.id)
        balance = await uow.ledger.balance(user.id)
        return SignedIn(
            account=Account(user, balance),
            session_id=family.id,
            access_token=access_token,
            access_expires_at=access_expires_at,
            refresh_token=refresh_token,
            refresh_expires_at=family.expires_at,
        )
