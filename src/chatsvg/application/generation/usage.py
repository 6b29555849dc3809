"""A model answer's usage as the job records it: tokens and latency as the model reported them,
and the estimated cost by the operator's price table."""

from __future__ import annotations

from chatsvg.application.ports import ModelAnswer
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
