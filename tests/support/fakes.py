"""Test doubles that behave (fakes), not mocks: they implement the ports for real, in memory."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from chatsvg.adapters.offline_generator import render
from chatsvg.application.ports import GenerationFault, GenerationRequest

Outcome = str | GenerationFault | Exception | Callable[[GenerationRequest], str]


class ScriptedGenerator:
    """Answers from a script of outcomes (SVG text, a fault to raise, or a function), then the offline picture."""

    def __init__(self, *script: Outcome) -> None:
        self.script: deque[Outcome] = deque(script)
        self.requests: list[GenerationRequest] = []

    async def generate(self, request: GenerationRequest) -> str:
        self.requests.append(request)
        if not self.script:
            return render(request.prompt, request.style)
        outcome = self.script.popleft()
        if isinstance(outcome, BaseException):
            raise outcome
        if callable(outcome):
            return outcome(request)
        return outcome


@dataclass
class RecordingQueue:
    """A queue that only remembers: tests drive the processor by hand, step by step."""

    messages: list[tuple[str, float]] = field(default_factory=list)
    fail: bool = False

    async def enqueue(self, job_id: str, *, delay_seconds: float = 0.0) -> None:
        if self.fail:
            raise ConnectionError("queue down")
        self.messages.append((job_id, delay_seconds))

    async def ping(self) -> None:
        if self.fail:
            raise ConnectionError("queue down")

    def take(self) -> list[str]:
        ids = [m[0] for m in self.messages]
        self.messages.clear()
        return ids


def transient(code: str = "PROVIDER_UNAVAILABLE") -> GenerationFault:
    return GenerationFault(code, "temporarily unavailable", transient=True)


def permanent(code: str = "PROVIDER_REFUSED") -> GenerationFault:
    return GenerationFault(code, "refused", transient=False)
