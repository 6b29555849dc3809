"""Where a provider is configured, the `offline` model (an API test key's jobs) still draws offline."""

from __future__ import annotations

from chatsvg.adapters.generation.routing import OfflineRouting
from chatsvg.application.ports import GenerationRequest
from chatsvg.entrypoints.containers.generation import make_generator
from chatsvg.entrypoints.settings import load_settings
from tests.support.fakes import ScriptedGenerator


def _request(provider_model: str) -> GenerationRequest:
    return GenerationRequest("j", "a fox", "flat", provider_model, provider_model, 1)


async def test_the_offline_model_goes_to_the_offline_generator() -> None:
    provider, offline = ScriptedGenerator("<svg>provider</svg>"), ScriptedGenerator("<svg/>")
    routing = OfflineRouting(provider, offline)
    assert (await routing.generate(_request("offline"))).text == "<svg/>"
    assert (await routing.generate(_request("gpt-4o"))).text == "<svg>provider</svg>"
    assert [r.provider_model for r in offline.requests] == ["offline"]
    assert [r.provider_model for r in provider.requests] == ["gpt-4o"]


async def test_the_configured_provider_is_wrapped_in_the_routing() -> None:
    settings = load_settings({}, secret_key="x" * 32, openai_api_key="sk-test")
    generator = make_generator(settings)
    answer = await generator.generate(_request("offline"))
    assert answer.text.startswith("<svg") and answer.model == "offline"
