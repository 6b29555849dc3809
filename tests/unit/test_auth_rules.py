from datetime import UTC, datetime, timedelta

import pytest

from chatsvg.domain.accounts.auth import (
    REMEMBER_ME_LIFETIME,
    SESSION_LIFETIME,
    RefreshDecision,
    RefreshToken,
    RefreshTokenFamily,
    hash_token,
    judge_refresh,
)
from chatsvg.domain.accounts.users import User, check_password, normalise_email, normalise_name
from chatsvg.domain.errors import Unauthenticated, ValidationFailed

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def family(remember: bool = False) -> RefreshTokenFamily:
    return RefreshTokenFamily.start(
        family_id="f",
        user_id="u",
        now=NOW,
        remember_me=remember,
        user_agent="ua",
        ip_address="1.2.3.4",
    )


def test_family_lifetimes() -> None:
    assert family().expires_at == NOW + SESSION_LIFETIME
    assert family(remember=True).expires_at == NOW + REMEMBER_ME_LIFETIME


def test_fresh_token_rotates_and_spent_token_revokes_the_family() -> None:
    f = family()
    assert judge_refresh(RefreshToken("h", "f", NOW), f, NOW) == RefreshDecision.ROTATE
    assert (
        judge_refresh(RefreshToken("h", "f", NOW, spent_at=NOW), f, NOW)
        == RefreshDecision.REVOKE_FAMILY
    )


@pytest.mark.parametrize(
    "when", [NOW + SESSION_LIFETIME, NOW + SESSION_LIFETIME + timedelta(seconds=1)]
)
def test_expired_or_revoked_families_are_unauthenticated(when: datetime) -> None:
    with pytest.raises(Unauthenticated):
        judge_refresh(RefreshToken("h", "f", NOW), family(), when)
    revoked = family()
    revoked.revoke(NOW)
    with pytest.raises(Unauthenticated):
        judge_refresh(RefreshToken("h", "f", NOW), revoked, NOW)


def test_unknown_token_is_unauthenticated() -> None:
    with pytest.raises(Unauthenticated):
        judge_refresh(None, None, NOW)


def test_token_hash_is_stable_and_not_the_token() -> None:
    assert hash_token("abc") == hash_token("abc") != "abc"
    assert len(hash_token("abc")) == 64


def test_account_field_rules() -> None:
    assert normalise_email("  Ada@Example.COM ") == "ada@example.com"
    for bad in ["", "no-at", "a@b", "a b@c.d", "x" * 250 + "@e.com"]:
        with pytest.raises(ValidationFailed):
            normalise_email(bad)
    with pytest.raises(ValidationFailed):
        check_password("short")
    with pytest.raises(ValidationFailed):
        check_password("x" * 129)
    assert normalise_name("  Ada   Lovelace ") == "Ada Lovelace"
    with pytest.raises(ValidationFailed):
        normalise_name("   ")


def user(verified: bool = False) -> User:
    return User.open(
        user_id="u",
        email="ada@example.com",
        name="Ada",
        password_hash="h",
        now=NOW,
        email_verified=verified,
    )


def test_a_new_account_starts_on_the_free_plan() -> None:
    u = user()
    assert (u.plan, u.created_at, u.avatar, u.email_verified) == ("FREE", NOW, None, False)


def test_renaming_normalises_and_refuses_an_empty_name() -> None:
    u = user()
    u.rename("  Ada   Lovelace ")
    assert u.name == "Ada Lovelace"
    with pytest.raises(ValidationFailed):
        u.rename("   ")
    assert u.name == "Ada Lovelace"


def test_a_reset_password_proves_the_address() -> None:
    u = user()
    u.reset_password("new-hash")
    assert (u.password_hash, u.email_verified) == ("new-hash", True)


def test_a_provider_vouching_for_an_unproven_address_drops_the_password() -> None:
    unproven = user()
    assert unproven.prove_email_by_provider() is True
    assert (unproven.password_hash, unproven.email_verified) == (None, True)
    proven = user(verified=True)
    assert proven.prove_email_by_provider() is False
    assert proven.password_hash == "h"


def test_a_provider_picture_is_taken_only_when_there_is_none() -> None:
    u = user()
    u.adopt_avatar("https://pics.example/1.png")
    u.adopt_avatar("https://pics.example/2.png")
    assert u.avatar == "https://pics.example/1.png"


def test_a_refresh_records_when_and_from_where_the_session_was_used() -> None:
    f = family()
    later = NOW + timedelta(hours=1)
    f.record_use(later, user_agent="x" * 600, ip_address=None)
    assert (f.last_used_at, len(f.user_agent or ""), f.ip_address) == (later, 512, "1.2.3.4")
