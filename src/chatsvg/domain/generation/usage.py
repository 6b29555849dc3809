"""What a job's model calls used: the model that answered, tokens, latency, whether the answer
needed a repair, and what it cost by the operator's price table (USD per million tokens)."""

from __future__ import annotations

from dataclasses import dataclass, field

# Input/output prices, USD per million tokens, of the models the catalogue knows by default
# (public list prices when written; `CHATSVG_MODEL_PRICES` overrides and extends them).
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-5.2": (1.75, 14.0),
    "gpt-5-mini": (0.25, 2.0),
    "gpt-4o": (2.5, 10.0),
    "offline": (0.0, 0.0),
}


@dataclass(frozen=True)
class ModelPrice:
    input_per_million: float
    output_per_million: float


@dataclass(frozen=True)
class PriceTable:
    """USD per million input/output tokens by model name. A dated snapshot the provider answers
    with (`gpt-4o-2024-08-06`) is priced as the longest listed name it starts with; a model that
    is not listed costs nothing (and is visible as such in the metrics)."""

    prices: dict[str, ModelPrice] = field(default_factory=dict)

    @classmethod
    def of(cls, prices: dict[str, tuple[float, float]]) -> PriceTable:
        return cls({name: ModelPrice(i, o) for name, (i, o) in prices.items()})

    def price(self, model: str) -> ModelPrice | None:
        if model in self.prices:
            return self.prices[model]
        matches = [name for name in self.prices if model.startswith(name)]
        return self.prices[max(matches, key=len)] if matches else None

    def cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> float:
        price = self.price(model)
        if price is None:
            return 0.0
        return (
            prompt_tokens * price.input_per_million + completion_tokens * price.output_per_million
        ) / 1_000_000


@dataclass(frozen=True)
class JobUsage:
    """A job's model usage. Each recorded answer adds to it (`plus`): tokens, latency and cost
    are the job's totals, `model` the last model that answered, `repaired` whether any answer
    needed a repair."""

    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    repaired: bool = False
    cost_usd: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def plus(self, other: JobUsage) -> JobUsage:
        return JobUsage(
            model=other.model,
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            latency_ms=self.latency_ms + other.latency_ms,
            repaired=self.repaired or other.repaired,
            cost_usd=self.cost_usd + other.cost_usd,
        )
