"""The OAuth 2.1 authorization server's machine endpoints (issue 26): discovery, dynamic client
registration, the token and revocation endpoints, and the signed-in user's granted apps.

RFC shapes, not the `/api` conventions: snake_case JSON, form-encoded token and revocation
requests, and errors as RFC 6749 JSON (`{error, error_description}`) rather than problem
documents. `/api/oauth/grants` is a normal `/api` route (cookie + CSRF, problem documents).
The browser side (the consent page and the sign-in on the way) is in `consent.py`.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.di import Provide
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from chatsvg.application.authorization.server import AuthorizationServer, GrantView
from chatsvg.application.ports import AccessClaims
from chatsvg.domain.authorization.grants import InvalidRequest, OAuthProblem, UnsupportedGrantType
from chatsvg.entrypoints.http.deps import Inject, provide_claims
from chatsvg.entrypoints.http.oauth_metadata import (
    AS_METADATA_PATH,
    RESOURCE_METADATA_PATH,
    resource_metadata,
    server_metadata,
)
from chatsvg.entrypoints.http.openapi import (
    AUTH,
    CSRF,
    INPUT,
    SIGNED_IN,
    SIGNED_IN_UNSAFE,
    no_body,
    problems,
)
from chatsvg.entrypoints.http.schemas import Answer, timestamp
from chatsvg.entrypoints.http.security import NO_STORE as PRIVATE
from chatsvg.entrypoints.http.security import WebSecurity
from chatsvg.entrypoints.settings import Settings

Req = Request[Any, Any, Any]
NO_STORE = {**PRIVATE, "Pragma": "no-cache"}  # RFC 6749 5.1: token answers
# Discovery documents are public and carry no credentials: any origin may read them.
PUBLIC = {"Cache-Control": "public, max-age=300"}  # CORS `*`: open_cors.py
FORM = "application/x-www-form-urlencoded"


def oauth_error(_: Req, exc: OAuthProblem) -> Response[Any]:
    """RFC 6749 section 5.2 (and RFC 7591 section 3.2.2 for registration)."""
    headers = dict(NO_STORE)
    if exc.status == 401:
        headers["WWW-Authenticate"] = f'Bearer error="{exc.error}"'
    return Response(
        {"error": exc.error, "error_description": exc.description},
        status_code=exc.status,
        headers=headers,
    )


async def no_request_check(_: Req) -> None:
    """These endpoints take form posts from clients that are not browsers: the app's JSON
    content-type rule and the CSRF check of `/api` do not apply (neither uses cookies)."""
    return None


async def read_form(request: Req) -> dict[str, str]:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != FORM:
        raise InvalidRequest(f"Send the parameters as {FORM}.")
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


class AuthorizationServerController(Controller):
    path = "/"
    include_in_schema = False  # RFC-defined endpoints, described by the metadata they publish
    before_request = no_request_check  # type: ignore[assignment]  # Litestar calls it unbound
    exception_handlers = {OAuthProblem: oauth_error}

    @get(AS_METADATA_PATH, name="oauth:metadata")
    async def metadata(self, settings: Inject[Settings]) -> Response[Any]:
        return Response(server_metadata(settings.public_url), headers=PUBLIC)

    @get([RESOURCE_METADATA_PATH, RESOURCE_METADATA_PATH + "/mcp"], name="oauth:resource")
    async def resource(self, settings: Inject[Settings]) -> Response[Any]:
        return Response(resource_metadata(settings.public_url), headers=PUBLIC)

    @post("/oauth/register", status_code=HTTP_201_CREATED, name="oauth:register")
    async def register(
        self,
        request: Req,
        authorization: Inject[AuthorizationServer],
        security: Inject[WebSecurity],
    ) -> Any:
        try:
            body = msgspec.json.decode(await request.body())
        except msgspec.DecodeError:
            raise InvalidRequest("The registration must be a JSON object.") from None
        client = await authorization.register(body, requester=security.client_ip(request))
        answer = {
            "client_id": client.id,
            "client_id_issued_at": int(client.created_at.timestamp()),
            "client_name": client.name,
            "redirect_uris": client.redirect_uris,
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        }
        if client.client_uri:
            answer["client_uri"] = client.client_uri
        return Response(answer, status_code=HTTP_201_CREATED, headers=NO_STORE)

    @post("/oauth/token", status_code=HTTP_200_OK, name="oauth:token")
    async def token(self, request: Req, authorization: Inject[AuthorizationServer]) -> Any:
        form = await read_form(request)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            issued = await authorization.exchange_code(
                client_id=form.get("client_id"),
                code=form.get("code"),
                redirect_uri=form.get("redirect_uri"),
                code_verifier=form.get("code_verifier"),
            )
        elif grant_type == "refresh_token":
            issued = await authorization.refresh(
                client_id=form.get("client_id"), refresh_token=form.get("refresh_token")
            )
        else:
            raise UnsupportedGrantType("grant_type must be authorization_code or refresh_token.")
        return Response(
            {
                "access_token": issued.access_token,
                "token_type": "Bearer",
                "expires_in": issued.expires_in,
                "refresh_token": issued.refresh_token,
                "scope": issued.scope,
            },
            headers=NO_STORE,
        )

    @post("/oauth/revoke", status_code=HTTP_200_OK, name="oauth:revoke")
    async def revoke(self, request: Req, authorization: Inject[AuthorizationServer]) -> Any:
        form = await read_form(request)
        await authorization.revoke(token=form.get("token"), client_id=form.get("client_id"))
        return Response(b"", headers=NO_STORE)


class GrantJson(Answer):
    id: str
    client_id: str
    client_name: str
    client_uri: str | None
    scopes: list[str]
    created_at: str
    last_used_at: str
    expires_at: str


class GrantList(Answer):
    grants: list[GrantJson]


def grant_json(view: GrantView) -> GrantJson:
    return GrantJson(
        id=view.id,
        client_id=view.client_id,
        client_name=view.client_name,
        client_uri=view.client_uri,
        scopes=view.scope.split(),
        created_at=timestamp(view.created_at),
        last_used_at=timestamp(view.last_used_at),
        expires_at=timestamp(view.expires_at),
    )


class GrantsController(Controller):
    """The apps (MCP clients) the signed-in user has granted access, and revoking one."""

    path = "/api/oauth/grants"
    tags = ["oauth"]
    dependencies = {"claims": Provide(provide_claims)}

    @get(
        "/",
        summary="The applications the user granted access through OAuth (MCP clients)",
        security=SIGNED_IN,
        responses=problems(*AUTH),
    )
    async def list_grants(
        self, claims: AccessClaims, authorization: Inject[AuthorizationServer]
    ) -> Response[GrantList]:
        views = await authorization.grants(claims.user_id)
        return Response(
            GrantList(grants=[grant_json(v) for v in views]), headers={"Cache-Control": "no-store"}
        )

    @delete(
        "/{grant_id:str}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Revoke a granted application: its tokens stop working at once",
        security=SIGNED_IN_UNSAFE,
        responses=no_body(204, "Revoked", *INPUT, *CSRF, *AUTH, "NOT_FOUND"),
    )
    async def revoke_grant(
        self, grant_id: str, claims: AccessClaims, authorization: Inject[AuthorizationServer]
    ) -> None:
        await authorization.revoke_grant(claims.user_id, grant_id)
