"""`/api/paypal`: subscribe, cancel, status, and PayPal's webhook. Every route answers 503
BILLING_DISABLED while billing is off (no PayPal client id and secret)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide

from chatsvg.application.accounts.auth import AuthService
from chatsvg.application.billing.service import BillingService
from chatsvg.application.ports import AccessClaims
from chatsvg.domain.billing.errors import BillingDisabled
from chatsvg.entrypoints.http.deps import Inject, provide_claims
from chatsvg.entrypoints.http.openapi import (
    ANYONE,
    AUTH,
    CSRF,
    SIGNED_IN,
    SIGNED_IN_UNSAFE,
    problems,
)
from chatsvg.entrypoints.http.plan_schemas import (
    BillingStatusJson,
    Ok,
    SubscriptionCreated,
    billing_status_json,
)
from chatsvg.entrypoints.http.security import NO_STORE

OFF = ("BILLING_DISABLED", "BILLING_UNAVAILABLE")


async def billing_claims(
    request: Request[Any, Any, Any], auth: Inject[AuthService], billing: Inject[BillingService]
) -> AccessClaims:
    """The signed-in user, once billing is known to be on: while it is off every route answers
    503 BILLING_DISABLED, signed in or not."""
    if not billing.enabled:
        raise BillingDisabled()
    return await provide_claims(request, auth)


class PayPalController(Controller):
    path = "/api/paypal"
    tags = ["billing"]

    @post(
        "/create-subscription",
        status_code=201,
        dependencies={"claims": Provide(billing_claims)},
        summary="Start a SUPPORTER subscription; the buyer approves it at `approveUrl`",
        security=SIGNED_IN_UNSAFE,
        responses=problems(*CSRF, *AUTH, *OFF),
    )
    async def create_subscription(
        self, claims: AccessClaims, billing: Inject[BillingService]
    ) -> Response[SubscriptionCreated]:
        created = await billing.subscribe(claims.user_id)
        return Response(
            SubscriptionCreated(
                subscription_id=created.id, status=created.status, approve_url=created.approve_url
            ),
            status_code=201,
            headers=NO_STORE,
        )

    @post(
        "/subscription/cancel",
        status_code=200,
        dependencies={"claims": Provide(billing_claims)},
        summary="Cancel the subscription at PayPal; the plan ends with PayPal's event",
        security=SIGNED_IN_UNSAFE,
        responses=problems(*CSRF, *AUTH, *OFF, "NO_SUBSCRIPTION"),
    )
    async def cancel(self, claims: AccessClaims, billing: Inject[BillingService]) -> Ok:
        await billing.cancel(claims.user_id)
        return Ok(ok=True)

    @get(
        "/status",
        dependencies={"claims": Provide(billing_claims)},
        summary="The plan, the balance and the PayPal subscription (with PayPal's view of it)",
        security=SIGNED_IN,
        responses=problems(*AUTH, *OFF),
    )
    async def status(
        self, claims: AccessClaims, billing: Inject[BillingService]
    ) -> Response[BillingStatusJson]:
        status = await billing.status(claims.user_id)
        return Response(billing_status_json(status), headers=NO_STORE)

    @post(
        "/webhook",
        status_code=200,
        summary="PayPal's webhook: verified with PayPal, recorded once per event, handled by a task",
        security=ANYONE,
        responses=problems("INVALID_WEBHOOK", "VALIDATION_ERROR", *OFF),
    )
    async def webhook(self, request: Request[Any, Any, Any], billing: Inject[BillingService]) -> Ok:
        body = await request.body()
        await billing.receive(dict(request.headers), body)
        return Ok(ok=True)
