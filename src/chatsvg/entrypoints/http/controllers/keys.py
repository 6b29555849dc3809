"""`/api/keys`: the signed-in user's API keys (cookie + CSRF as the rest of /api)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, post
from litestar.di import Provide
from litestar.params import QueryParameter
from litestar.status_codes import HTTP_204_NO_CONTENT

from chatsvg.application.keys.service import ApiKeyService, CreateKey
from chatsvg.application.ports import AccessClaims
from chatsvg.entrypoints.http.deps import Inject, provide_claims
from chatsvg.entrypoints.http.key_schemas import (
    CreatedKeyAnswer,
    CreateKeyBody,
    KeyList,
    KeyStatsEnvelope,
    UsageSummaryEnvelope,
    key_item,
    key_stats,
    parse_expiry,
    usage_summary,
)
from chatsvg.entrypoints.http.openapi import (
    AUTH,
    CSRF,
    INPUT,
    JSON_BODY,
    SIGNED_IN,
    SIGNED_IN_UNSAFE,
    no_body,
    problems,
)
from chatsvg.entrypoints.http.schemas import timestamp
from chatsvg.entrypoints.http.security import NO_STORE

CLAIMS = {"claims": Provide(provide_claims)}


class ApiKeysController(Controller):
    path = "/api/keys"
    tags = ["api keys"]
    dependencies = CLAIMS

    @get(
        "",
        summary="The user's API keys that are neither revoked nor expired, newest first",
        security=SIGNED_IN,
        responses=problems(*AUTH),
    )
    async def list_keys(
        self, claims: AccessClaims, api_keys: Inject[ApiKeyService]
    ) -> Response[KeyList]:
        found = await api_keys.list_keys(claims.user_id)
        return Response(KeyList(keys=[key_item(k) for k in found]), headers=NO_STORE)

    @post(
        "",
        status_code=201,
        summary="Create a key: the whole key is in this answer only",
        description="`key` is `sk_live_` (environment production) or `sk_test_` (test: its jobs "
        "run on the offline model and spend no credits) followed by at least 32 URL-safe "
        "characters. Only a keyed hash is stored. 409 `API_KEY_LIMIT` when the plan's number "
        "of keys is reached.",
        security=SIGNED_IN_UNSAFE,
        responses=problems(*JSON_BODY, *CSRF, *AUTH, "API_KEY_LIMIT"),
    )
    async def create(
        self, claims: AccessClaims, data: CreateKeyBody, api_keys: Inject[ApiKeyService]
    ) -> Response[CreatedKeyAnswer]:
        created = await api_keys.create(
            CreateKey(
                user_id=claims.user_id,
                name=data.name,
                description=data.description,
                environment=data.environment,
                ip_whitelist=data.ip_whitelist,
                expires_at=parse_expiry(data.expires_at),
                scopes=data.scopes,
                custom_rate_limit=data.custom_rate_limit,
            )
        )
        key = created.key
        body = CreatedKeyAnswer(
            id=key.id,
            name=key.name,
            key_prefix=key.key_prefix,
            key=created.token,
            created_at=timestamp(key.created_at),
            warning=created.warning,
        )
        return Response(body, status_code=201, headers=NO_STORE)

    @delete(
        "/{key_id:str}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Revoke a key: it stops working at once",
        security=SIGNED_IN_UNSAFE,
        responses=no_body(HTTP_204_NO_CONTENT, "Revoked.", *INPUT, *CSRF, *AUTH, "NOT_FOUND"),
    )
    async def revoke(
        self, claims: AccessClaims, key_id: str, api_keys: Inject[ApiKeyService]
    ) -> Response[None]:
        await api_keys.revoke(claims.user_id, key_id)
        return Response(None, status_code=HTTP_204_NO_CONTENT)

    @get(
        "/{key_id:str}/stats",
        summary="How a key was used: requests, successes, failures, credits",
        security=SIGNED_IN,
        responses=problems(*INPUT, *AUTH, "NOT_FOUND"),
    )
    async def stats(
        self, claims: AccessClaims, key_id: str, api_keys: Inject[ApiKeyService]
    ) -> Response[KeyStatsEnvelope]:
        totals = await api_keys.stats(claims.user_id, key_id)
        return Response(KeyStatsEnvelope(stats=key_stats(totals)), headers=NO_STORE)

    @get(
        "/usage/summary",
        summary="Every key's use together, optionally between startDate and endDate",
        security=SIGNED_IN,
        responses=problems(*INPUT, *AUTH),
    )
    async def summary(
        self,
        claims: AccessClaims,
        api_keys: Inject[ApiKeyService],
        start_date: Annotated[str | None, QueryParameter(name="startDate")] = None,
        end_date: Annotated[str | None, QueryParameter(name="endDate")] = None,
    ) -> Response[UsageSummaryEnvelope]:
        totals = await api_keys.summary(claims.user_id, start=start_date, end=end_date)
        return Response(UsageSummaryEnvelope(summary=usage_summary(totals)), headers=NO_STORE)
