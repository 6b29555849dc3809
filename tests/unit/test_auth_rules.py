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
from chatsvg.domain.accounts.users import check_password, normalise_email, normalise_name
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
