"""GET /api/plans: the plans on offer, for anyone (no credentials needed)."""

from __future__ import annotations

from litestar import Response, get

from chatsvg.application.plans import PlanBook
from chatsvg.entrypoints.http.deps import Inject
from chatsvg.entrypoints.http.openapi import ANYONE, problems
from chatsvg.entrypoints.http.plan_schemas import PlansEnvelope, plans_json


@get(
    "/api/plans",
    tags=["plans"],
    summary="The plans (FREE, SUPPORTER) with their price and limits; null means unlimited",
    security=ANYONE,
    responses=problems(),
)
async def list_plans(plan_book: Inject[PlanBook]) -> Response[PlansEnvelope]:
    return Response(plans_json(plan_book.plans()), headers={"Cache-Control": "public, max-age=300"})
