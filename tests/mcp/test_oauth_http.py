"""The authorization server over HTTP, as a browser and an MCP client meet it: registration and
redirect rules, the consent page (signed-out visitors sign in first and come back), CSRF, the
token endpoint's rotation and reuse detection, revocation, and the user's grants."""

from __future__ import annotations

import html
import re
import uuid
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from chatsvg.domain.accounts.auth import hash_token
from chatsvg.domain.authorization.grants import s256
from tests.mcp.conftest import REDIRECT, form_fields
from tests.support.live import ApiClient, LiveServer

VERIFIER = "k" * 43


async def register_client(server: LiveServer, redirect: str = REDIRECT) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url) as http:
        return await http.post(
            "/oauth/register", json={"client_name": "Cursor", "redirect_uris": [redirect]}
        )


def authorize_query(client_id: str, redirect: str = REDIRECT, **extra: str) -> dict[str, str]:
    return {
        "client_id": client_id,
        "redirect_uri": redirect,
        "response_type": "code",
        "state": "st",
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
        **extra,
    }


async def approve(user: ApiClient, client_id: str) -> dict[str, str]:
    page = await user.http.get("/oauth/authorize", params=authorize_query(client_id))
    assert page.status_code == 200, page.text
    fields = {**form_fields(page.text), "decision": "approve"}
    answer = await user.http.post("/oauth/authorize", data=fields)
    assert answer.status_code == 303
    return dict(parse_qsl(urlsplit(answer.headers["location"]).query))


async def token(server: LiveServer, **form: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url) as http:
        return await http.post("/oauth/token", data=form)


async def issued_tokens(server: LiveServer, user: ApiClient) -> tuple[str, dict[str, str]]:
    client_id = (await register_client(server)).json()["client_id"]
    code = (await approve(user, client_id))["code"]
    answer = await token(
        server,
        grant_type="authorization_code",
        code=code,
        client_id=client_id,
        redirect_uri=REDIRECT,
        code_verifier=VERIFIER,
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    return client_id, answer.json()


@pytest.mark.parametrize(
    "redirect", ["http://attacker.example/cb", "ftp://x.example/cb", "https://x.example/#f"]
)
async def test_registration_refuses_redirects_outside_the_rules(
    server: LiveServer, redirect: str
) -> None:
    answer = await register_client(server, redirect)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_redirect_uri"


async def test_registration_answers_rfc7591(server: LiveServer) -> None:
    answer = await register_client(server, "https://claude.ai/api/mcp/auth_callback")
    assert answer.status_code == 201
    body = answer.json()
    assert body["redirect_uris"] == ["https://claude.ai/api/mcp/auth_callback"]
    assert body["token_endpoint_auth_method"] == "none" and "client_secret" not in body
    async with httpx.AsyncClient(base_url=server.url) as http:
        bad = await http.post(
            "/oauth/register", content=b"{", headers={"content-type": "application/json"}
        )
        secret = await http.post(
            "/oauth/register",
            json={"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "client_secret_basic"},
        )
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_request"
    # A client asking for a secret is registered public all the same, and told so (RFC 7591 3.2.1).
    assert secret.status_code == 201 and secret.json()["token_endpoint_auth_method"] == "none"
    assert "client_secret" not in secret.json()


async def test_authorization_refuses_an_unregistered_redirect_without_redirecting(
    server: LiveServer, user: ApiClient
) -> None:
    client_id = (await register_client(server)).json()["client_id"]
    for redirect in ("http://attacker.example/cb", "http://127.0.0.1:33418/other"):
        page = await user.http.get(
            "/oauth/authorize", params=authorize_query(client_id, redirect=redirect)
        )
        assert page.status_code == 400 and "location" not in page.headers
        assert "cannot be authorized" in page.text
    # Without PKCE the error goes back to the client's registered URI, through a link the user
    # follows (never an automatic redirect: tests/security/test_authorize_is_no_open_redirect.py).
    no_pkce = authorize_query(client_id)
    del no_pkce["code_challenge"]
    page = await user.http.get("/oauth/authorize", params=no_pkce)
    assert page.status_code == 400 and "location" not in page.headers
    back = html.unescape(re.findall(r'href="(http://127[^"]+)"', page.text)[0])
    assert back.startswith(REDIRECT + "?")
    assert dict(parse_qsl(urlsplit(back).query))["error"] == "invalid_request"


async def test_a_signed_out_visitor_signs_in_and_comes_back_to_the_consent_page(
    server: LiveServer,
) -> None:
    email = f"carol-{uuid.uuid4().hex[:8]}@example.com"
    setup = ApiClient(server.url)
    await setup.register(email)
    await setup.aclose()
    client_id = (await register_client(server)).json()["client_id"]
    async with httpx.AsyncClient(base_url=server.url) as browser:
        first = await browser.get("/oauth/authorize", params=authorize_query(client_id))
        assert first.status_code == 303
        assert first.headers["location"].startswith("/oauth/sign-in?next=")
        sign_in = await browser.get(first.headers["location"])
        assert sign_in.status_code == 200 and "Sign in to ChatSVG" in sign_in.text
        fields = form_fields(sign_in.text)
        wrong = await browser.post(
            "/oauth/sign-in", data={**fields, "email": email, "password": "wrong password"}
        )
        assert wrong.status_code == 401 and "Invalid" in wrong.text
        fields = form_fields(wrong.text)
        signed_in = await browser.post(
            "/oauth/sign-in", data={**fields, "email": email, "password": "correct horse"}
        )
        assert signed_in.status_code == 303
        back = signed_in.headers["location"]
        assert back == "/oauth/authorize?" + urlencode(authorize_query(client_id))
        consent = await browser.get(back)
        assert consent.status_code == 200
        assert (
            "Cursor" in consent.text and "127.0.0.1:33418" in consent.text and email in consent.text
        )
        assert "frame-ancestors 'none'" in consent.headers["content-security-policy"]
        # A sign-in form may only send the visitor back to an authorization page.
        elsewhere = await browser.get("/oauth/sign-in", params={"next": "https://evil.example/"})
        assert form_fields(elsewhere.text)["next"] == "/oauth/authorize"


async def test_the_consent_form_needs_its_csrf_token_and_deny_says_so(
    server: LiveServer, user: ApiClient
) -> None:
    client_id = (await register_client(server)).json()["client_id"]
    page = await user.http.get("/oauth/authorize", params=authorize_query(client_id))
    fields = form_fields(page.text)
    forged = {k: v for k, v in fields.items() if k != "csrf_token"} | {"decision": "approve"}
    assert (await user.http.post("/oauth/authorize", data=forged)).status_code == 403
    cross_site = await user.http.post(
        "/oauth/authorize",
        data={**fields, "decision": "approve"},
        headers={"Origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403
    denied = await user.http.post("/oauth/authorize", data={**fields, "decision": "deny"})
    assert denied.status_code == 303
    answer = dict(parse_qsl(urlsplit(denied.headers["location"]).query))
    assert answer["error"] == "access_denied" and answer["state"] == "st" and "code" not in answer
    assert (await user.get("/api/oauth/grants")).json()["grants"] == []


async def test_refresh_rotation_and_reuse_detection_over_http(
    server: LiveServer, user: ApiClient
) -> None:
    client_id, first = await issued_tokens(server, user)
    assert first["token_type"] == "Bearer" and first["access_token"].startswith("csat_")
    second = await token(
        server,
        grant_type="refresh_token",
        refresh_token=first["refresh_token"],
        client_id=client_id,
    )
    assert second.status_code == 200
    reused = await token(
        server,
        grant_type="refresh_token",
        refresh_token=first["refresh_token"],
        client_id=client_id,
    )
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    newest = await token(
        server,
        grant_type="refresh_token",
        refresh_token=second.json()["refresh_token"],
        client_id=client_id,
    )
    assert newest.status_code == 400  # the whole grant went, its newest token included
    async with httpx.AsyncClient() as http:
        call = await http.post(
            f"{server.url}/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
            headers={"Authorization": f"Bearer {second.json()['access_token']}"},
        )
    assert call.status_code == 401


async def test_token_endpoint_errors_are_rfc6749_json(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        json_body = await http.post("/oauth/token", json={"grant_type": "authorization_code"})
        unknown = await http.post("/oauth/token", data={"grant_type": "password"})
        no_client = await http.post("/oauth/token", data={"grant_type": "refresh_token"})
    assert json_body.status_code == 400 and json_body.json()["error"] == "invalid_request"
    assert unknown.json()["error"] == "unsupported_grant_type"
    assert no_client.status_code == 401 and no_client.json()["error"] == "invalid_client"


async def test_revocation_and_the_users_grants(
    server: LiveServer, user: ApiClient, other_user: ApiClient
) -> None:
    client_id, issued = await issued_tokens(server, user)
    (grant,) = (await user.get("/api/oauth/grants")).json()["grants"]
    assert set(grant) == {
        "id",
        "clientId",
        "clientName",
        "clientUri",
        "scopes",
        "createdAt",
        "lastUsedAt",
        "expiresAt",
    }
    assert (await other_user.delete(f"/api/oauth/grants/{grant['id']}")).status_code == 404
    async with httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.get("/api/oauth/grants")).status_code == 401
        revoked = await http.post(
            "/oauth/revoke", data={"token": issued["refresh_token"], "client_id": client_id}
        )
        again = await http.post("/oauth/revoke", data={"token": "csrt_nothing"})
    assert revoked.status_code == 200 and again.status_code == 200
    assert (await user.get("/api/oauth/grants")).json()["grants"] == []


async def test_tokens_and_codes_are_stored_hashed(server: LiveServer, user: ApiClient) -> None:
    _, issued = await issued_tokens(server, user)

    async def stored() -> tuple[object, object]:
        async with server.container.infrastructure.uow()() as uow:
            raw = await uow.authz_grants.get_token(issued["access_token"])
            hashed = await uow.authz_grants.get_token(hash_token(issued["access_token"]))
        return raw, hashed

    raw, hashed = server.call(stored())
    assert raw is None and hashed is not None
    # And the database file holds no token in the clear.
    data = b"".join(p.read_bytes() for p in server.settings.data_path.glob("*.db*"))
    for secret in (issued["access_token"], issued["refresh_token"]):
        assert secret.encode() not in data
    assert re.fullmatch(r"csrt_[A-Za-z0-9_-]{43}", issued["refresh_token"])


async def test_cors_is_open_where_no_cookie_is_read_and_closed_on_the_consent_page(
    server: LiveServer,
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        for path in ("/mcp", "/oauth/token", "/oauth/register"):
            preflight = await http.options(
                path,
                headers={
                    "Origin": "https://inspector.example",
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "authorization, mcp-protocol-version",
                },
            )
            assert preflight.status_code == 204, path
            assert preflight.headers["access-control-allow-origin"] == "*"
            assert "access-control-allow-credentials" not in preflight.headers
            assert "Mcp-Protocol-Version" in preflight.headers["access-control-allow-headers"]
        unauthorized = await http.post("/mcp", json={}, headers={"Origin": "https://x.example"})
        assert unauthorized.headers.get_list("access-control-allow-origin") == ["*"]
        assert "WWW-Authenticate" in unauthorized.headers["access-control-expose-headers"]
        metadata = await http.get(
            "/.well-known/oauth-authorization-server", headers={"Origin": "http://localhost:5173"}
        )
        assert metadata.headers.get_list("access-control-allow-origin") == ["*"]
        consent = await http.get("/oauth/authorize", headers={"Origin": "https://x.example"})
        assert "access-control-allow-origin" not in consent.headers
