"""The process's Prometheus registry and the metrics every part of the service records into it."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_LATENCY = Histogram(
    "chatsvg_http_request_duration_seconds",
    "HTTP request latency by route template",
    ["method", "route", "status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)
FIGURES_COMPUTED = Counter(
    "chatsvg_figures_computed",
    "Times this process computed the database-wide figures (jobs, credits, queue depth)",
    registry=REGISTRY,
)
MODEL_LATENCY = Histogram(
    "chatsvg_model_request_duration_seconds",
    "Model call latency",
    ["model", "outcome"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60),
    registry=REGISTRY,
)
MODEL_ERRORS = Counter(
    "chatsvg_model_errors_total",
    "Model call failures by error code",
    ["model", "code"],
    registry=REGISTRY,
)
