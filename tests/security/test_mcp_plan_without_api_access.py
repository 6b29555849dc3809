"""A plan without API access (CHATSVG_PLAN_FREE_API_ACCESS=false) keeps its users off the public
API, and off MCP too: generate_svg through an OAuth grant is the same programmatic access."""

from __future__ import annotations

import pytest

from chatsvg.adapters.window_limits import LimitsWindowLimiter
from chatsvg.application.authorization.server import Caller
from chatsvg.application.mcp.tools import McpTools
from chatsvg.domain.authorization.grants import SCOPES
from chatsvg.domain.credits.plans import default_catalogue
from chatsvg.domain.errors import DomainError
from tests.conftest import Stack


def tools(stack: Stack, *, free_api_access: bool) -> McpTools:
    return McpTools(
        uow=stack.uow,
        generation=stack.generation,
        library=stack.library,
        limiter=LimitsWindowLimiter.in_memory(),
        plans=default_catalogue(free_api_access=free_api_access),
    )


async def test_generate_svg_is_refused_when_the_plan_has_no_api_access(stack: Stack) -> None:
    user = await stack.user()
    caller = Caller(user_id=user, grant_id="g", client_id="c", scopes=SCOPES)
    with pytest.raises(DomainError) as refused:
        await tools(stack, free_api_access=False).generate(
            caller, prompt="a cat", style=None, model=None, privacy=None
        )
    assert refused.value.code == "PLAN_WITHOUT_API_ACCESS"
    async with stack.uow() as uow:
        assert await uow.ledger.balance(user) == 10  # nothing charged
    job = await tools(stack, free_api_access=True).generate(
        caller, prompt="a cat", style=None, model=None, privacy=None
    )
    assert job.id
