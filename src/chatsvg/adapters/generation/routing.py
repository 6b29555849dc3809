"""One model port over two generators: requests for the built-in `offline` model (an API test
key's jobs, or a client naming it) go to the offline generator even where a provider is configured;
every other model goes to the provider."""

from __future__ import annotations

from chatsvg.application.ports import GenerationRequest, ModelAnswer, SvgGenerator

OFFLINE_MODEL = "offline"


class OfflineRouting:
    def __init__(self, provider: SvgGenerator, offline: SvgGenerator) -> None:
        self._provider = provider
        self._offline = offline

    async def generate(self, request: GenerationRequest) -> ModelAnswer:
        if request.provider_model == OFFLINE_MODEL:
            return await self._offline.generate(request)
        return await self._provider.generate(request)
