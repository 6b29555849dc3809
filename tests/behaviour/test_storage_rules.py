"""The rules the storage keeps, whatever the adapter: the same answers from the in-memory fake,
SQLite and Postgres (the `uow` fixture), so a use-case test on the fake proves what SQL does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chatsvg.application.accounts.ports import LinkedIdentity, OutboxMail
from chatsvg.application.ports import MailMessage, UnitOfWork, UnitOfWorkFactory
from chatsvg.domain.accounts.auth import PasswordResetToken, RefreshToken, RefreshTokenFamily
from chatsvg.domain.accounts.users import User
from chatsvg.domain.credits.ledger import LedgerEntry, LedgerReason
from chatsvg.domain.errors import InsufficientCredits
from chatsvg.domain.generation.generations import SvgGeneration
from chatsvg.domain.generation.jobs import GenerationJob, JobStatus
from chatsvg.domain.notifications.notifications import Notification

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
CHARGE = LedgerReason.GENERATION_CHARGE
REFUND = LedgerReason.GENERATION_REFUND


def entry(entry_id: str, user: str, delta: int, reason: str, job: str | None) -> LedgerEntry:
    return LedgerEntry(entry_id, user, delta, reason, job, NOW)


async def add_user(uow: UnitOfWork, user_id: str, credits: int = 0) -> None:
    await uow.users.add(
        User(user_id, f"{user_id}@example.com", user_id.title(), None, None, "FREE", NOW)
    )
    if credits:
        await uow.ledger.append(entry(f"grant-{user_id}", user_id, credits, "SIGNUP_GRANT", None))


def job(job_id: str, user_id: str) -> GenerationJob:
    return GenerationJob(
        id=job_id,
        user_id=user_id,
        prompt="a fox",
        style="minimal",
        model="offline",
        privacy=False,
        cost=1,
        status=JobStatus.QUEUED,
        created_at=NOW,
        updated_at=NOW,
    )


async def test_a_job_is_charged_once_and_refunded_once(uow: UnitOfWorkFactory) -> None:
    async with uow() as u:
        await add_user(u, "ada", credits=5)
        assert await u.ledger.append(entry("c1", "ada", -2, CHARGE, "job-1"))
        assert not await u.ledger.append(entry("c2", "ada", -2, CHARGE, "job-1"))
        assert await u.ledger.append(entry("r1", "ada", 2, REFUND, "job-1"))
        assert not await u.ledger.append(entry("r2", "ada", 2, REFUND, "job-1"))
        written = await u.ledger.append_many(
            [entry("c3", "ada", -1, CHARGE, "job-1"), entry("c4", "ada", -1, CHARGE, "job-2")]
        )
        assert written == {"c4"}
        assert await u.ledger.balance("ada") == 4
        await u.commit()
    async with uow() as u:
        assert sorted(e.id for e in await u.ledger.for_job("job-1")) == ["c1", "r1"]


async def test_one_entry_per_job_and_reason_whatever_the_reason(uow: UnitOfWorkFactory) -> None:
    """The ledger's unique (job, reason) key holds for every reason, and never for entries
    tied to no job."""
    async with uow() as u:
        await add_user(u, "ada")
        assert await u.ledger.append(entry("g1", "ada", 3, "ADMIN_GRANT", "job-1"))
        assert not await u.ledger.append(entry("g2", "ada", 3, "ADMIN_GRANT", "job-1"))
        assert await u.ledger.append(entry("n1", "ada", -1, CHARGE, None))
        assert await u.ledger.append(entry("n2", "ada", -1, CHARGE, None))
        assert await u.ledger.balance("ada") == 1


async def test_a_batch_is_refused_only_when_a_users_net_goes_below_zero(
    uow: UnitOfWorkFactory,
) -> None:
    async with uow() as u:
        await add_user(u, "ada", credits=1)
        # One job's refund pays for the next job's charge: never below zero overall.
        batch = [
            entry("c1", "ada", -2, CHARGE, "job-2"),
            entry("r1", "ada", 1, REFUND, "job-1"),
        ]
        assert await u.ledger.append_many(batch) == {"c1", "r1"}
        assert await u.ledger.balance("ada") == 0
        await u.commit()
    async with uow() as u:
        with pytest.raises(InsufficientCredits):
            await u.ledger.append_many([entry("c3", "ada", -1, CHARGE, "job-3")])


async def test_a_debit_beyond_the_balance_is_refused_even_when_it_is_a_duplicate(
    uow: UnitOfWorkFactory,
) -> None:
    async with uow() as u:
        await add_user(u, "ada", credits=1)
        assert await u.ledger.append(entry("c1", "ada", -1, CHARGE, "job-1"))
        with pytest.raises(InsufficientCredits):
            await u.ledger.append(entry("c2", "ada", -1, CHARGE, "job-1"))
        assert await u.ledger.balance("ada") == 0


async def test_only_existing_users_have_balances(uow: UnitOfWorkFactory) -> None:
    async with uow() as u:
        await add_user(u, "ada", credits=2)
        assert await u.ledger.hold_balances({"ada", "ghost"}) == {"ada": 2}
        assert await u.ledger.balance_and_reserved("ghost") == (0, 0)
        with pytest.raises(InsufficientCredits):
            await u.ledger.append(entry("g1", "ghost", 5, "ADMIN_GRANT", None))


async def test_a_user_is_read_with_their_balance(uow: UnitOfWorkFactory) -> None:
    async with uow() as u:
        await add_user(u, "ada", credits=2)
        await u.ledger.append(entry("c1", "ada", -1, CHARGE, "job-1"))
        await u.commit()
    async with uow() as u:
        found = await u.users.with_balance("ada")
        assert found is not None
        assert found == (await u.users.get("ada"), 1)
        assert found[1] == await u.ledger.balance("ada")
        assert await u.users.with_balance("ghost") is None


async def test_a_read_after_a_write_sees_it_and_a_rollback_undoes_it(
    uow: UnitOfWorkFactory,
) -> None:
    async with uow() as u:
        await add_user(u, "ada")
        await u.commit()
    async with uow() as u:
        before = await u.users.get("ada")  # read before anything is written
        assert before is not None
        before.name = "Ada L."
        await u.users.update(before)
        inside = await u.users.with_balance("ada")  # read inside the open transaction
        assert inside is not None and inside[0].name == "Ada L."
        # left without commit: rolled back
    async with uow() as u:
        after = await u.users.get("ada")
        assert after is not None and after.name != "Ada L."


async def test_updates_write_only_what_may_change(uow: UnitOfWorkFactory) -> None:
    async with uow() as u:
        await add_user(u, "ada")
        user = await u.users.get("ada")
        assert user is not None
        user.email, user.name = "changed@example.com", "Ada L."
        await u.users.update(user)
        generation = SvgGeneration(
            "g1", "ada", "job-1", "a fox", "minimal", "offline", False, "k", 9, NOW
        )
        await u.generations.add(generation)
        generation.privacy, generation.prompt = True, "changed"
        await u.generations.update(generation)
        family = RefreshTokenFamily("ghost-family", "ada", NOW, NOW + timedelta(days=1), NOW)
        await u.sessions.update_family(family)
        await u.commit()
    async with uow() as u:
        stored = await u.users.get("ada")
        assert stored is not None and (stored.email, stored.name) == ("ada@example.com", "Ada L.")
        kept = await u.generations.get("g1")
        assert kept is not None and (kept.privacy, kept.prompt) == (True, "a fox")
        assert await u.sessions.get_family("ghost-family") is None


async def own_everything(u: UnitOfWork, user_id: str) -> None:
    await add_user(u, user_id, credits=3)
    await u.sessions.add_family(
        RefreshTokenFamily(f"f-{user_id}", user_id, NOW, NOW + timedelta(days=1), NOW)
    )
    await u.sessions.add_token(RefreshToken(f"t-{user_id}", f"f-{user_id}", NOW))
    await u.reset_tokens.add(
        PasswordResetToken(f"r-{user_id}", user_id, NOW, NOW + timedelta(hours=1))
    )
    await u.identities.add(LinkedIdentity("google", f"s-{user_id}", user_id, None, NOW))
    await u.jobs.add(job(f"j-{user_id}", user_id))
    await u.ledger.append(entry(f"c-{user_id}", user_id, -1, CHARGE, f"j-{user_id}"))
    await u.generations.add(
        SvgGeneration(
            f"g-{user_id}",
            user_id,
            f"j-{user_id}",
            "a fox",
            "minimal",
            "offline",
            False,
            "k",
            9,
            NOW,
        )
    )
    await u.notifications.add(
        Notification(
            f"n-{user_id}", user_id, "GENERATION_SUCCEEDED", "Done", "", NOW, f"j-{user_id}"
        )
    )


async def what_remains(u: UnitOfWork, user_id: str) -> dict[str, bool]:
    return {
        "user": await u.users.get(user_id) is not None,
        "session": await u.sessions.get_family(f"f-{user_id}") is not None,
        "refresh token": await u.sessions.get_token(f"t-{user_id}") is not None,
        "reset token": await u.reset_tokens.get(f"r-{user_id}") is not None,
        "identity": await u.identities.get("google", f"s-{user_id}") is not None,
        "job": await u.jobs.get(f"j-{user_id}") is not None,
        "generation": await u.generations.get(f"g-{user_id}") is not None,
        "ledger": bool(await u.ledger.for_job(f"j-{user_id}")),
        "notification": bool(await u.notifications.latest(user_id, limit=5, before=None)),
    }


async def test_deleting_a_user_removes_exactly_what_they_own(uow: UnitOfWorkFactory) -> None:
    async with uow() as u:
        await own_everything(u, "ada")
        await own_everything(u, "bob")
        mail = OutboxMail("m1", "support", MailMessage("ada@example.com", "Hi", "t"), NOW, NOW)
        await u.mail_outbox.add(mail)
        await u.commit()
    async with uow() as u:
        await u.users.delete("ada")
        await u.commit()
    async with uow() as u:
        left_of_ada = await what_remains(u, "ada")
        assert [kind for kind, left in left_of_ada.items() if left] == []
        left_of_bob = await what_remains(u, "bob")
        assert [kind for kind, left in left_of_bob.items() if not left] == []
        assert await u.ledger.balance("bob") == 2
        assert await u.mail_outbox.get("m1") is not None
