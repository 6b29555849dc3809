"""The API's short memory of live sessions: what it trusts, for how long, and what it forgets."""

from __future__ import annotations

import pytest

from chatsvg.application.accounts.sessions import LiveSessionCache


class Ticker:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_remembered_session_is_live_for_its_owner_until_the_ttl() -> None:
    tick = Ticker()
    cache = LiveSessionCache(10, monotonic=tick)
    assert not cache.is_live("s1", "u1")
    cache.remember("s1", "u1")
    assert cache.is_live("s1", "u1")
    assert not cache.is_live("s1", "someone-else")
    tick.now += 9.9
    assert cache.is_live("s1", "u1")
    tick.now += 0.2
    assert not cache.is_live("s1", "u1")
    assert len(cache) == 0  # expired entries leave on lookup


def test_forgetting_ends_trust_at_once_and_a_late_read_cannot_revive_it() -> None:
    tick = Ticker()
    cache = LiveSessionCache(10, monotonic=tick)
    cache.remember("s1", "u1")
    cache.remember("s2", "u1")
    cache.forget(["s1"])
    assert not cache.is_live("s1", "u1")
    assert cache.is_live("s2", "u1")
    # A request that read the session row just before the revocation reports it live afterwards.
    cache.remember("s1", "u1")
    assert not cache.is_live("s1", "u1")
    tick.now += 61  # long after: a revoked session never comes back, but the tombstone may go
    cache.remember("s1", "u1")
    assert cache.is_live("s1", "u1")


def test_clear_drops_every_live_session_but_keeps_revocations() -> None:
    cache = LiveSessionCache(10, monotonic=Ticker())
    cache.remember("s1", "u1")
    cache.forget(["s2"])
    cache.clear()
    assert not cache.is_live("s1", "u1")
    cache.remember("s2", "u1")
    assert not cache.is_live("s2", "u1")


def test_the_cache_is_bounded() -> None:
    tick = Ticker()
    cache = LiveSessionCache(10, max_entries=100, monotonic=tick)
    for i in range(1000):
        cache.remember(f"s{i}", "u")
    assert len(cache) <= 100
    assert cache.is_live("s999", "u")  # the newest stay
    for i in range(1000):
        cache.forget([f"r{i}"])
    assert len(cache._revoked) <= 100


def test_a_zero_ttl_is_refused() -> None:
    with pytest.raises(ValueError):
        LiveSessionCache(0)
