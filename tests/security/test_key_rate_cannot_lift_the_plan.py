"""A key's own rate (customRateLimit, chosen by its owner at creation) may only tighten the plan's
API rates: a FREE user giving a key 100000 a minute still gets the plan's 5 a minute, counted
per user across all their keys."""

from __future__ import annotations

import pytest

from chatsvg.domain.errors import RateLimited
from tests.conftest import Stack
from tests.keys.test_keys_behaviour import new_key, public


async def test_a_keys_own_rate_never_lifts_the_plans_rate(stack: Stack) -> None:
    user = await stack.user()
    api = public(stack)
    caller = await api.authenticate(await new_key(stack, user, custom_rate_limit=100_000))
    decisions = [await api.admit_generation(caller) for _ in range(5)]  # FREE: 5 a minute
    assert decisions[-1].remaining == 0 and decisions[-1].limit == 5
    with pytest.raises(RateLimited):
        await api.admit_generation(caller)
