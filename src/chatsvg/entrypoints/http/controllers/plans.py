"""GET /api/plans: the plans on offer, for anyone (no credentials needed)."""

from __future__ import annotations

from litestar import Response, get

from chatsvg.application.billing.service import BillingService
from chatsvg.application.plans import PlanBook
from chatsvg.entrypoints.http.deps import Inject
from chatsvg.entrypoints.http.openapi import ANYONE, problems
from chatsvg.entrypoints.http.plan_schemas import PlansEnvelope, plans_json


@get(
    "/api/plans",
    tags=["plans"],
    summary="The plans with their price and limits (null: unlimited); whether billing is on",
    security=ANYONE,
    responses=problems(),
)
async def list_plans(
    plan_book: Inject[PlanBook], billing: Inject[BillingService]
) -> Response[PlansEnvelope]:
    return Response(
        plans_json(plan_book.plans(), billing_enabled=billing.enabled),
        headers={"Cache-Control": "public, max-age=300"},
    )
