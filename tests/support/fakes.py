"""Test doubles that behave (fakes), not mocks: they implement the ports for real, in memory."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from chatsvg.adapters.offline_generator import render
from chatsvg.application.generation.tasks import GENERATE
from chatsvg.application.ports import GenerationFault, GenerationRequest, ModelAnswer, TaskPayload

Outcome = (
    str
    | ModelAnswer
    | GenerationFault
    | Exception
    | Callable[[GenerationRequest], str | ModelAnswer]
)


class ScriptedGenerator:
    """Answers from a script of outcomes (SVG text, an answer with its usage, a fault to raise, or
    a function), then the offline picture. Bare text is answered as the request's model with no
    usage (zeros), as the offline model does."""

    def __init__(self, *script: Outcome) -> None:
        self.script: deque[Outcome] = deque(script)
        self.requests: list[GenerationRequest] = []

    async def generate(self, request: GenerationRequest) -> ModelAnswer:
        self.requests.append(request)
        if not self.script:
            return ModelAnswer(render(request.prompt, request.style), request.provider_model)
        outcome = self.script.popleft()
        if isinstance(outcome, BaseException):
            raise outcome
        if callable(outcome):
            outcome = outcome(request)
        if isinstance(outcome, ModelAnswer):
            return outcome
        return ModelAnswer(outcome, request.provider_model)


@dataclass
class RecordingQueue:
    """A task queue that only remembers: tests run the handlers by hand, step by step
    (`Stack.drain` runs them all through the task registry)."""

    sent: list[tuple[str, TaskPayload, float]] = field(default_factory=list)
    fail: bool = False

    async def enqueue(self, task: str, payload: TaskPayload, *, delay_seconds: float = 0.0) -> None:
        if self.fail:
            raise ConnectionError("queue down")
        self.sent.append((task, payload, delay_seconds))

    async def ping(self) -> None:
        if self.fail:
            raise ConnectionError("queue down")

    @property
    def messages(self) -> list[tuple[TaskPayload, float]]:
        """The `generate` tasks waiting: (job id, delay)."""
        return [(payload, delay) for task, payload, delay in self.sent if task == GENERATE]

    def take(self) -> list[str]:
        """Remove the waiting `generate` tasks; their job ids."""
        ids = [str(payload) for payload, _ in self.messages]
        self.sent = [entry for entry in self.sent if entry[0] != GENERATE]
        return ids

    def take_all(self) -> list[tuple[str, TaskPayload]]:
        """Remove every waiting task; (name, payload) in the order they were sent."""
        taken = [(task, payload) for task, payload, _ in self.sent]
        self.sent.clear()
        return taken


def transient(code: str = "PROVIDER_UNAVAILABLE") -> GenerationFault:
    return GenerationFault(code, "temporarily unavailable", transient=True)


def permanent(code: str = "PROVIDER_REFUSED") -> GenerationFault:
    return GenerationFault(code, "refused", transient=False)
