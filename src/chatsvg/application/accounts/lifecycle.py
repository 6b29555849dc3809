"""Account lifecycle beyond sign-in: deletion with everything the account owns."""

from __future__ import annotations

import logging

from chatsvg.application.ports import (
    Clock,
    GalleryCache,
    ObjectStorage,
    PasswordHasher,
    RealtimePublisher,
    UnitOfWorkFactory,
)
from chatsvg.domain.errors import InvalidCredentials, Unauthenticated

log = logging.getLogger(__name__)


class AccountService:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        hasher: PasswordHasher,
        storage: ObjectStorage,
        realtime: RealtimePublisher,
        clock: Clock,
        gallery: GalleryCache | None = None,
    ) -> None:
        self._gallery = gallery
        self._uow = uow
        self._hasher = hasher
        self._storage = storage
        self._realtime = realtime
        self._clock = clock

    async def delete_account(self, user_id: str, *, password: str) -> None:
        """Delete the user, their sessions, jobs, generations, ledger and stored artifacts."""
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
        if user is None:
            raise Unauthenticated()
        if user.password_hash is not None and not await self._hasher.verify(
            user.password_hash, password
        ):
            raise InvalidCredentials("Invalid password.")
        async with self._uow() as uow:
            keys = await uow.generations.keys_for_user(user_id)
            sessions = await uow.sessions.revoke_all(user_id, self._clock.now())
            await uow.users.delete(user_id)
            await uow.commit()
        await self._realtime.session_revoked(sessions)
        if self._gallery:
            await self._gallery.invalidate()
        for key in keys:
            try:
                await self._storage.delete(key)
            except Exception:
                # The records are gone; `chatsvg gc` removes any artifact left without a record.
                log.warning("artifact delete failed", exc_info=True, extra={"key": key})
