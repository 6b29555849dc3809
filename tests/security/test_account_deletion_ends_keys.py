"""Deleting an account ends its API keys at once (memory, SQLite, Postgres): the key answers
API_KEY_INVALID and no key row is left."""

from __future__ import annotations

import pytest

from chatsvg.domain.keys.keys import ApiKeyInvalid
from tests.conftest import Stack
from tests.keys.test_keys_behaviour import new_key, public


async def test_a_deleted_accounts_keys_stop_at_once(stack: Stack) -> None:
    user = await stack.user()
    token = await new_key(stack, user)
    caller = await public(stack).authenticate(token)
    await stack.container.accounts.lifecycle().delete_account(user, password="correct horse")
    with pytest.raises(ApiKeyInvalid):
        await public(stack).authenticate(token)
    async with stack.uow() as uow:
        assert await uow.api_keys.get(caller.key.id) is None
