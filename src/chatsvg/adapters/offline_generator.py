"""The offline model: draws what the prompt names, with no network and no API key.

A thin entry point over `chatsvg.adapters.offline` (the library of subjects, the prompt parser,
the layout and the styles). The same prompt and style always give the same picture; different
prompts give different ones. It is what local mode and test keys show.
"""

from __future__ import annotations

import asyncio

from chatsvg.adapters.offline import render
from chatsvg.application.ports import GenerationRequest, ModelAnswer

__all__ = ["OfflineSvgGenerator", "render"]


class OfflineSvgGenerator:
    name = "offline"

    def __init__(self, delay_seconds: float = 0.0) -> None:
        self._delay = delay_seconds

    async def generate(self, request: GenerationRequest) -> ModelAnswer:
        """The drawing; no tokens are counted and nothing is paid, so the usage is zeros."""
        if self._delay:
            await asyncio.sleep(self._delay)
        # A refinement draws the first prompt with the change asked for; a variant, other jitter.
        prompt = (
            f"{request.previous_prompt}, {request.prompt}"
            if request.previous_prompt
            else request.prompt
        )
        return ModelAnswer(render(prompt, request.style, request.variant), "offline")
