"""`/api/user`: profile, password, credits and ledger, the user's generations, account deletion."""

from __future__ import annotations

from litestar import Controller, Response, delete, get, patch, post
from litestar.di import Provide
from litestar.status_codes import HTTP_204_NO_CONTENT

from chatsvg.application.accounts.auth import AuthService
from chatsvg.application.accounts.lifecycle import AccountService
from chatsvg.application.gallery.library import GenerationLibrary
from chatsvg.application.ports import AccessClaims
from chatsvg.entrypoints.http.deps import Inject, provide_claims
from chatsvg.entrypoints.http.generation_schemas import Generation, generation_json
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
from chatsvg.entrypoints.http.schemas import (
    Balance,
    DeleteAccountBody,
    LedgerPage,
    LibraryPage,
    PasswordBody,
    PrivacyBody,
    ProfileBody,
    UserEnvelope,
    ledger_json,
    library_item_json,
    user_json,
)
from chatsvg.entrypoints.http.security import NO_STORE, WebSecurity


class UserController(Controller):
    path = "/api/user"
    tags = ["user"]
    dependencies = {"claims": Provide(provide_claims)}

    @get("/profile", security=SIGNED_IN, responses=problems(*AUTH))
    async def profile(
        self, claims: AccessClaims, auth: Inject[AuthService]
    ) -> Response[UserEnvelope]:
        account = await auth.account(claims.user_id)
        return Response(UserEnvelope(user=user_json(account)), headers=NO_STORE)

    @patch("/profile", security=SIGNED_IN_UNSAFE, responses=problems(*JSON_BODY, *CSRF, *AUTH))
    async def update_profile(
        self, claims: AccessClaims, data: ProfileBody, auth: Inject[AuthService]
    ) -> Response[UserEnvelope]:
        account = await auth.update_profile(claims.user_id, name=data.name)
        return Response(UserEnvelope(user=user_json(account)), headers=NO_STORE)

    @post(
        "/password",
        status_code=HTTP_204_NO_CONTENT,
        summary="Change the password; every other session is revoked",
        security=SIGNED_IN_UNSAFE,
        responses=no_body(
            HTTP_204_NO_CONTENT, "Changed.", *JSON_BODY, *CSRF, *AUTH, "INVALID_CREDENTIALS"
        ),
    )
    async def change_password(
        self, claims: AccessClaims, data: PasswordBody, auth: Inject[AuthService]
    ) -> None:
        await auth.change_password(
            claims.user_id, claims.session_id, current=data.current_password, new=data.new_password
        )

    @get("/credits", security=SIGNED_IN, responses=problems(*AUTH))
    async def credits(
        self, claims: AccessClaims, library: Inject[GenerationLibrary]
    ) -> Response[Balance]:
        balance = await library.balance(claims.user_id)
        return Response(Balance(balance=balance), headers=NO_STORE)

    @get(
        "/credits/ledger",
        summary="Credit movements, newest first",
        security=SIGNED_IN,
        responses=problems(*INPUT, *AUTH),
    )
    async def ledger(
        self,
        claims: AccessClaims,
        library: Inject[GenerationLibrary],
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Response[LedgerPage]:
        page = await library.ledger(claims.user_id, limit=limit, cursor=cursor)
        return Response(
            LedgerPage(items=[ledger_json(e) for e in page.items], next_cursor=page.next_cursor),
            headers=NO_STORE,
        )

    @get(
        "/generations",
        summary="The user's generations, newest first",
        security=SIGNED_IN,
        responses=problems(*INPUT, *AUTH),
    )
    async def generations(
        self,
        claims: AccessClaims,
        library: Inject[GenerationLibrary],
        limit: int | None = None,
        cursor: str | None = None,
        style: str | None = None,
        model: str | None = None,
        privacy: str | None = None,
    ) -> Response[LibraryPage]:
        page = await library.list_for_user(
            claims.user_id, limit=limit, cursor=cursor, style=style, model=model, privacy=privacy
        )
        body = LibraryPage(
            generations=[library_item_json(i.generation, i.svg_url) for i in page.items],
            next_cursor=page.next_cursor,
        )
        return Response(body, headers=NO_STORE)

    @patch(
        "/generations/{generation_id:str}",
        summary="Make a generation public or private (`svg` is null in this answer)",
        security=SIGNED_IN_UNSAFE,
        responses=problems(*JSON_BODY, *CSRF, *AUTH, "NOT_FOUND"),
    )
    async def set_privacy(
        self,
        claims: AccessClaims,
        generation_id: str,
        data: PrivacyBody,
        library: Inject[GenerationLibrary],
    ) -> Response[Generation]:
        generation = await library.set_privacy(claims.user_id, generation_id, data.privacy)
        return Response(generation_json(generation, None), headers=NO_STORE)

    @delete(
        "/generations/{generation_id:str}",
        status_code=HTTP_204_NO_CONTENT,
        summary="Delete a generation and its stored file",
        security=SIGNED_IN_UNSAFE,
        responses=no_body(HTTP_204_NO_CONTENT, "Deleted.", *INPUT, *CSRF, *AUTH, "NOT_FOUND"),
    )
    async def delete_generation(
        self, claims: AccessClaims, generation_id: str, library: Inject[GenerationLibrary]
    ) -> None:
        await library.delete(claims.user_id, generation_id)

    @delete(
        "/",
        status_code=HTTP_204_NO_CONTENT,
        summary="Delete the account, its sessions and files; clears the session cookies",
        security=SIGNED_IN_UNSAFE,
        responses=no_body(
            HTTP_204_NO_CONTENT, "Deleted.", *JSON_BODY, *CSRF, *AUTH, "INVALID_CREDENTIALS"
        ),
    )
    async def delete_account(
        self,
        claims: AccessClaims,
        data: DeleteAccountBody,
        accounts: Inject[AccountService],
        security: Inject[WebSecurity],
    ) -> Response[None]:
        await accounts.delete_account(claims.user_id, password=data.password)
        return Response(
            None, status_code=HTTP_204_NO_CONTENT, cookies=security.cleared_session_cookies()
        )
