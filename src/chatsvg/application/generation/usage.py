"""A model answer's usage as the job records it: tokens and latency as the model reported them,
and the estimated cost by the operator's price table; and the meter of an attempt's calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from chatsvg.application.ports import GenerationFault, GenerationRequest, ModelAnswer
from chatsvg.domain.generation.jobs import GenerationJob
from chatsvg.domain.generation.usage import JobUsage, PriceTable


def job_usage(answer: ModelAnswer, prices: PriceTable, *, repaired: bool = False) -> JobUsage:
    """`repaired`: this answer was a repair of an earlier, unusable one."""
    return JobUsage(
        model=answer.model,
        prompt_tokens=answer.prompt_tokens,
        completion_tokens=answer.completion_tokens,
        latency_ms=answer.latency_ms,
        repaired=repaired,
        cost_usd=prices.cost(answer.model, answer.prompt_tokens, answer.completion_tokens),
    )


class UsageMeter:
    """What one attempt's model calls used, every one of them: usable answers, unusable ones,
    repairs (a call with `request.repair` marks the usage `repaired`, whether or not it mended
    the drawing) and the answers behind a fault (`GenerationFault.spent`: a refusal, no SVG in
    it). `usage` is None until a model answered. A call that got no answer (timeout, a 5xx, a
    variant cancelled when another failed) is not known to have used anything."""

    def __init__(self, prices: PriceTable) -> None:
        self._prices = prices
        self.usage: JobUsage | None = None

    def add(self, answer: ModelAnswer, *, repaired: bool = False) -> None:
        used = job_usage(answer, self._prices, repaired=repaired)
        self.usage = used if self.usage is None else self.usage.plus(used)

    def record_on(self, job: GenerationJob) -> None:
        """Add what the attempt used to the job's record (nothing when no model answered)."""
        if self.usage is not None:
            job.record_usage(self.usage)

    def metered(
        self, ask: Callable[[GenerationRequest], Awaitable[ModelAnswer]]
    ) -> Callable[[GenerationRequest], Awaitable[ModelAnswer]]:
        """`ask`, with each answer it gets counted here."""

        async def call(request: GenerationRequest) -> ModelAnswer:
            try:
                answer = await ask(request)
            except GenerationFault as fault:
                if fault.spent is not None:
                    self.add(fault.spent, repaired=request.repair is not None)
                raise
            self.add(answer, repaired=request.repair is not None)
            return answer

        return call
