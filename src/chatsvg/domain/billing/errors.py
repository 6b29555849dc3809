"""Billing's errors, each with its stable code (statuses in entrypoints/http/problems.py)."""

from __future__ import annotations

from chatsvg.domain.errors import DomainError


class BillingDisabled(DomainError):
    code = "BILLING_DISABLED"  # 503
    default_message = "PayPal billing is not enabled"


class NoSubscription(DomainError):
    code = "NO_SUBSCRIPTION"  # 400
    default_message = "You have no PayPal subscription to cancel."


class InvalidWebhook(DomainError):
    code = "INVALID_WEBHOOK"  # 400
    default_message = "The webhook could not be verified."


class BillingUnavailable(DomainError):
    code = "BILLING_UNAVAILABLE"  # 503
    default_message = "PayPal could not be reached; try again in a moment."
