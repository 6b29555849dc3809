"""The plan catalogue from the settings (CHATSVG_PLAN_*; defaults are the contract's figures)."""

from __future__ import annotations

from chatsvg.domain.credits.plans import PlanCatalogue, RateLimits, default_catalogue
from chatsvg.entrypoints.settings import Settings, SettingsError


def _limit(value: int) -> int | None:
    """A negative figure is unlimited (null in GET /api/plans)."""
    return None if value < 0 else value


def parse_plan_rates(text: str, name: str) -> RateLimits:
    """'per-minute/per-hour/per-day', e.g. 5/50/200; a negative part (or 'unlimited') is no limit."""
    parts = [p.strip().lower() for p in text.split("/")]
    try:
        if len(parts) != 3:
            raise ValueError
        values = [None if p == "unlimited" else _limit(int(p)) for p in parts]
    except ValueError:
        raise SettingsError(
            f"{name} is written PER_MINUTE/PER_HOUR/PER_DAY, e.g. 5/50/200; got {text!r}."
        ) from None
    return RateLimits(values[0], values[1], values[2])


def build_plan_catalogue(settings: Settings) -> PlanCatalogue:
    if settings.plan_window_days < 1:
        raise SettingsError("CHATSVG_PLAN_WINDOW_DAYS must be at least 1.")
    return default_catalogue(
        start_credits=settings.start_credits,
        supporter_price=settings.plan_supporter_price,
        supporter_credits=settings.plan_supporter_credits,
        supporter_refill=settings.plan_supporter_refill,
        refill_days=settings.plan_window_days,
        free_generations=_limit(settings.plan_free_generations),
        supporter_generations=_limit(settings.plan_supporter_generations),
        free_api_keys=_limit(settings.plan_free_api_keys),
        supporter_api_keys=_limit(settings.plan_supporter_api_keys),
        free_api_access=settings.plan_free_api_access,
        supporter_api_access=settings.plan_supporter_api_access,
        free_rates=parse_plan_rates(
            settings.plan_free_rate_limits, "CHATSVG_PLAN_FREE_RATE_LIMITS"
        ),
        supporter_rates=parse_plan_rates(
            settings.plan_supporter_rate_limits, "CHATSVG_PLAN_SUPPORTER_RATE_LIMITS"
        ),
        window_days=settings.plan_window_days,
        quotas=settings.plan_quotas,
    )


def check_billing_settings(settings: Settings) -> list[str]:
    """At start-up: the plan figures parse (SettingsError if not), PayPal's id and secret come
    together, and what billing on still lacks is said (warnings)."""
    build_plan_catalogue(settings)
    if bool(settings.paypal_client_id) != bool(settings.paypal_client_secret):
        raise SettingsError(
            "PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET must be set together (billing is off with "
            "only one of them)."
        )
    if not settings.paypal_client_id:
        return []
    warnings = []
    if not settings.paypal_webhook_id:
        warnings.append(
            "billing is on but PAYPAL_WEBHOOK_ID is not set: every PayPal webhook is refused"
        )
    if not settings.paypal_supporter_plan_id:
        warnings.append(
            "billing is on but PAYPAL_SUPPORTER_PLAN_ID is not set: nobody can subscribe"
        )
    return warnings
