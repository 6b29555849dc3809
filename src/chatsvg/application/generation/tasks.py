"""The `generate` task: one attempt at a job, named by its id.

Submission, the reaper and the admin requeue enqueue it; the worker (Dramatiq in production, the
in-process queue locally) runs it. The attempt's answer is the handler's answer: None when the job
needs nothing more, or the delay before the next attempt, which `TaskRegistry.run` enqueues.
"""

from __future__ import annotations

from chatsvg.application.generation.processor import JobProcessor
from chatsvg.application.ports import TaskPayload
from chatsvg.application.tasks import TaskHandler

GENERATE = "generate"


def generate_task(processor: JobProcessor) -> TaskHandler:
    async def generate(payload: TaskPayload) -> float | None:
        if not isinstance(payload, str):
            raise TypeError(f"generate takes a job id, not {type(payload).__name__}")
        return await processor.process(payload)

    return generate
