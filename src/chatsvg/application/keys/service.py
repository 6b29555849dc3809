"""Managing API keys: create (the key is shown once), list, revoke, and the figures of their use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chatsvg.application.ids import new_id, new_secret_token
from chatsvg.application.keys.plans import KeyPlanRules
from chatsvg.application.ports import Clock, UnitOfWorkFactory
from chatsvg.domain.errors import NotFound, ValidationFailed
from chatsvg.domain.keys.keys import ApiKey, check_new_key, compose_key, within_key_limit
from chatsvg.domain.keys.usage import UsageTotals

CREATED_WARNING = "Copy this key now: it is shown only once and cannot be recovered."


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    token: str  # the whole key, returned this once
    warning: str = CREATED_WARNING


@dataclass(frozen=True)
class CreateKey:
    user_id: str
    name: object
    description: object = None
    environment: object = None
    ip_whitelist: list[str] | None = None
    expires_at: datetime | None = None
    scopes: list[str] | None = None
    custom_rate_limit: int | None = None


class ApiKeyService:
    def __init__(
        self, *, uow: UnitOfWorkFactory, clock: Clock, secret: bytes, plans: KeyPlanRules
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._secret = secret
        self._plans = plans

    async def create(self, command: CreateKey) -> CreatedKey:
        now = self._clock.now()
        spec = check_new_key(
            name=command.name,
            description=command.description,
            environment=command.environment,
            ip_whitelist=command.ip_whitelist,
            expires_at=command.expires_at,
            now=now,
            scopes=command.scopes,
            custom_rate_limit=command.custom_rate_limit,
        )
        token = compose_key(spec.environment, new_secret_token())
        key = ApiKey.create(
            key_id=new_id(),
            user_id=command.user_id,
            token=token,
            secret=self._secret,
            spec=spec,
            now=now,
        )
        async with self._uow() as uow:
            await uow.api_keys.hold_owner(command.user_id)
            user = await uow.users.get(command.user_id)
            if user is None:
                raise NotFound("User not found.")
            within_key_limit(
                await uow.api_keys.count_live(command.user_id, now),
                self._plans.max_api_keys(user.plan),
            )
            await uow.api_keys.add(key)
            await uow.commit()
        return CreatedKey(key, token)

    async def list_keys(self, user_id: str) -> list[ApiKey]:
        async with self._uow() as uow:
            return await uow.api_keys.live_for_user(user_id, self._clock.now())

    async def _owned(self, user_id: str, key_id: str) -> ApiKey:
        async with self._uow() as uow:
            key = await uow.api_keys.get(key_id)
        if key is None or key.user_id != user_id:
            raise NotFound("API key not found.")
        return key

    async def revoke(self, user_id: str, key_id: str) -> None:
        """The key stops working at once: every /v1 request reads its key from the database."""
        now = self._clock.now()
        async with self._uow() as uow:
            key = await uow.api_keys.get(key_id)
            if key is None or key.user_id != user_id or not key.revoke(now):
                raise NotFound("API key not found.")
            await uow.api_keys.save(key)
            await uow.commit()

    async def stats(self, user_id: str, key_id: str) -> UsageTotals:
        await self._owned(user_id, key_id)
        async with self._uow() as uow:
            return await uow.key_usage.totals_for_key(key_id)

    async def summary(
        self, user_id: str, *, start: str | None = None, end: str | None = None
    ) -> UsageTotals:
        since, until = _date(start, "startDate"), _date(end, "endDate", end_of_day=True)
        async with self._uow() as uow:
            return await uow.key_usage.totals_for_user(user_id, since=since, until=until)


def _date(text: str | None, field: str, *, end_of_day: bool = False) -> datetime | None:
    """An RFC 3339 time or a bare date (a bare end date includes that whole day, UTC)."""
    from datetime import UTC, timedelta

    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(
            f"{field} must be a date or an RFC 3339 time.",
            details=[{"field": field, "message": "not a date"}],
        ) from None
    bare = len(text.strip()) <= 10
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        value = value.astimezone(UTC)  # stores compare UTC: 0001-01-01T00:00+01:00 has none
    except OverflowError:
        raise ValidationFailed(
            f"{field} is out of range.", details=[{"field": field, "message": "out of range"}]
        ) from None
    if bare and end_of_day:
        try:
            value = value + timedelta(days=1) - timedelta(microseconds=1)
        except OverflowError:  # 9999-12-31: the end of the calendar is the end of that day
            value = datetime.max.replace(tzinfo=UTC)
    return value
