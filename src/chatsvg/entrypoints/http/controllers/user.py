"""`/api/user`: profile, password, credits and ledger, the user's generations, account deletion."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import Provide
from litestar.status_codes import HTTP_204_NO_CONTENT

from chatsvg.application.ports import AccessClaims
from chatsvg.entrypoints.http.deps import provide_claims, services
from chatsvg.entrypoints.http.schemas import (
    DeleteAccountBody,
    PasswordBody,
    PrivacyBody,
    ProfileBody,
    generation_json,
    ledger_json,
    library_item_json,
    user_json,
)

Req = Request[Any, Any, Any]
NO_STORE = {"Cache-Control": "no-store"}


class UserController(Controller):
    path = "/api/user"
    tags = ["user"]
    dependencies = {"claims": Provide(provide_claims)}

    @get("/profile")
    async def profile(self, request: Req, claims: AccessClaims) -> Response[Any]:
        account = await services(request).auth.account(claims.user_id)
        return Response({"user": user_json(account)}, headers=NO_STORE)

    @patch("/profile")
    async def update_profile(
        self, request: Req, claims: AccessClaims, data: ProfileBody
    ) -> Response[Any]:
        account = await services(request).auth.update_profile(claims.user_id, name=data.name)
        return Response({"user": user_json(account)}, headers=NO_STORE)

    @post("/password", status_code=HTTP_204_NO_CONTENT)
    async def change_password(self, request: Req, claims: AccessClaims, data: PasswordBody) -> None:
        await services(request).auth.change_password(
            claims.user_id, claims.session_id, current=data.current_password, new=data.new_password
        )

    @get("/credits")
    async def credits(self, request: Req, claims: AccessClaims) -> Response[Any]:
        return Response(
            {"balance": await services(request).library.balance(claims.user_id)}, headers=NO_STORE
        )

    @get("/credits/ledger")
    async def ledger(
        self,
        request: Req,
        claims: AccessClaims,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Response[Any]:
        page = await services(request).library.ledger(claims.user_id, limit=limit, cursor=cursor)
        return Response(
            {"items": [ledger_json(e) for e in page.items], "nextCursor": page.next_cursor},
            headers=NO_STORE,
        )

    @get("/generations")
    async def generations(
        self,
        request: Req,
        claims: AccessClaims,
        limit: int | None = None,
        cursor: str | None = None,
        style: str | None = None,
        model: str | None = None,
        privacy: str | None = None,
    ) -> Response[Any]:
        page = await services(request).library.list_for_user(
            claims.user_id, limit=limit, cursor=cursor, style=style, model=model, privacy=privacy
        )
        body = {
            "generations": [library_item_json(i.generation, i.svg_url) for i in page.items],
            "nextCursor": page.next_cursor,
        }
        return Response(body, headers=NO_STORE)

    @patch("/generations/{generation_id:str}")
    async def set_privacy(
        self, request: Req, claims: AccessClaims, generation_id: str, data: PrivacyBody
    ) -> Response[Any]:
        generation = await services(request).library.set_privacy(
            claims.user_id, generation_id, data.privacy
        )
        return Response(generation_json(generation, None), headers=NO_STORE)

    @delete("/generations/{generation_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def delete_generation(
        self, request: Req, claims: AccessClaims, generation_id: str
    ) -> None:
        await services(request).library.delete(claims.user_id, generation_id)

    @delete("/", status_code=HTTP_204_NO_CONTENT)
    async def delete_account(
        self, request: Req, claims: AccessClaims, data: DeleteAccountBody
    ) -> Response[None]:
        s = services(request)
        await s.extras["accounts"].delete_account(claims.user_id, password=data.password)
        return Response(
            None, status_code=HTTP_204_NO_CONTENT, cookies=s.security.cleared_session_cookies()
        )
