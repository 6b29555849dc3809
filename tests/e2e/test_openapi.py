"""The OpenAPI document is complete enough for a generated client to be typed: every route of the
app is in it with a typed success answer (a JSON Struct, or a declared non-JSON media type, or no
body for 204/302), its error answers are the problem+json schema, and the security schemes say
how to call it."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute

from chatsvg.entrypoints.http.app import create_app
from chatsvg.entrypoints.http.security import CSRF_EXEMPT
from tests.e2e.conftest import local_settings

# Routes whose success answer is not JSON, with the media type the document must give.
NON_JSON = {
    ("GET", "/"): "text/html",
    ("GET", "/api/files/{key}"): "image/svg+xml",
    ("GET", "/metrics"): "text/plain",
}
# Routes left out of the document on purpose.
UNDOCUMENTED = {
    "/schema": "the document and its viewer",
    "/playground/": "the playground's static files",
    "/api/auth/playground-session": "the playground page's own helper, not part of the API",
    "/api/auth/playground-admin": "the playground page's own helper, not part of the API",
    "/oauth/": "the OAuth 2.1 authorization server: RFC-defined, described by its metadata",
    "/.well-known/": "the OAuth discovery documents (RFC 8414, RFC 9728)",
}
# Error answers that are not problem documents: readiness answers its checks with 503.
NOT_PROBLEM_ERRORS = {("GET", "/health/ready", "503"), ("GET", "/api/ready", "503")}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _litestar(app: Any) -> Litestar:
    """The Litestar app inside the ASGI wrappers (request context, CORS, Socket.IO router)."""
    inner = app
    for _ in range(10):
        if isinstance(inner, Litestar):
            return inner
        inner = getattr(inner, "_api", None) or getattr(inner, "_app", None)
    raise AssertionError("no Litestar app inside the ASGI app")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Litestar, dict[str, Any]]:
    settings = local_settings(tmp_path_factory.mktemp("openapi"))
    app = create_app(settings)
    api = _litestar(app)
    return app, api, api.openapi_schema.to_schema()


def _operations(api: Litestar) -> list[tuple[str, str, HTTPRouteHandler]]:
    found = []
    for route in api.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                found.append((method, re.sub(r"\{(\w+):[^}]+\}", r"{\1}", route.path), handler))
    return found


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    name = ref.removeprefix("#/components/schemas/")
    resolved: dict[str, Any] = doc["components"]["schemas"][name]
    return resolved


def _assert_typed_object(doc: dict[str, Any], schema: dict[str, Any], where: str) -> None:
    """An object with named, typed members (no empty `{}` schema: that is `Any`)."""
    resolved = _resolve(doc, schema)
    assert resolved.get("type") == "object", f"{where}: not an object schema: {schema}"
    properties = resolved.get("properties")
    assert properties, f"{where}: an object without properties: {schema}"
    for name, member in properties.items():
        assert member, f"{where}: member {name!r} has an empty (any) schema"


def test_every_route_has_a_typed_success_answer(
    built: tuple[Any, Litestar, dict[str, Any]],
) -> None:
    _, api, doc = built
    operations = _operations(api)
    assert len(operations) > 30
    checked = 0
    for method, path, handler in operations:
        if any(path.startswith(prefix) for prefix in UNDOCUMENTED):
            continue
        where = f"{method} {path}"
        operation = doc["paths"].get(path, {}).get(method.lower())
        assert operation is not None, f"{where} ({handler.handler_name}) is not in the document"
        successes = {
            code: answer for code, answer in operation["responses"].items() if code[0] in "23"
        }
        assert successes, f"{where}: no success answer documented"
        for code, answer in successes.items():
            content = answer.get("content")
            if code in ("204", "302"):
                assert not content, f"{where}: {code} documents a body: {content}"
                continue
            assert content, f"{where}: {code} documents no body"
            if (method, path) in NON_JSON:
                (media_type,) = content
                assert media_type.startswith(NON_JSON[method, path]), f"{where}: {media_type}"
                assert content[media_type]["schema"].get("type") == "string"
                continue
            assert list(content) == ["application/json"], f"{where}: {list(content)}"
            _assert_typed_object(doc, content["application/json"]["schema"], f"{where} {code}")
        checked += 1
    assert checked >= 40


def test_errors_are_problem_documents(built: tuple[Any, Litestar, dict[str, Any]]) -> None:
    _, _, doc = built
    problem = doc["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "error", "errorCode"}
    assert set(problem["properties"]) == {
        "type",
        "title",
        "status",
        "detail",
        "error",
        "errorCode",
        "errors",
    }
    errors = 0
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            for code, answer in operation["responses"].items():
                if code[0] not in "45" or (method.upper(), path, code) in NOT_PROBLEM_ERRORS:
                    continue
                where = f"{method.upper()} {path} {code}"
                assert list(answer.get("content", {})) == ["application/problem+json"], where
                schema = answer["content"]["application/problem+json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}, where
                assert "errorCode" in answer["description"], where
                errors += 1
    assert errors > 100


def test_security_schemes_and_who_may_call_what(
    built: tuple[Any, Litestar, dict[str, Any]],
) -> None:
    _, api, doc = built
    schemes = doc["components"]["securitySchemes"]
    assert schemes["cookieAuth"] == {**schemes["cookieAuth"], "type": "apiKey", "in": "cookie"}
    assert schemes["cookieAuth"]["name"] == "token"
    assert schemes["csrfHeader"]["type"] == "apiKey"
    assert (schemes["csrfHeader"]["in"], schemes["csrfHeader"]["name"]) == (
        "header",
        "X-CSRF-Token",
    )
    assert (schemes["bearerAuth"]["type"], schemes["bearerAuth"]["scheme"]) == ("http", "bearer")

    for method, path, handler in _operations(api):
        if any(path.startswith(prefix) for prefix in UNDOCUMENTED):
            continue
        where = f"{method} {path}"
        security = doc["paths"][path][method.lower()].get("security")
        assert security is not None, f"{where}: says nothing about credentials"
        needs_user = "claims" in handler.resolve_dependencies()
        if needs_user:
            assert {} not in security, f"{where} needs a user but is documented as open"
            assert {"cookieAuth": []} in security or {
                "cookieAuth": [],
                "csrfHeader": [],
            } in security, where
            assert {"bearerAuth": []} in security, where
        if path.startswith("/api/admin/"):
            # The admin page sends no CSRF header: its routes check Origin instead (security.py).
            assert security in ([{}], [{"adminSession": []}]), where
            continue
        if path in CSRF_EXEMPT:
            continue  # server-to-server (PayPal's webhook): signed by its sender, no cookies
        if method in UNSAFE and path.startswith("/api/"):
            # With cookies (or none), a browser-reachable change needs the CSRF header.
            for alternative in security:
                if "bearerAuth" not in alternative:
                    assert "csrfHeader" in alternative, f"{where}: {alternative} without CSRF"


async def test_the_served_document_is_the_same(
    built: tuple[Any, Litestar, dict[str, Any]],
) -> None:
    app, _, doc = built
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        response = await http.get("/schema/openapi.json")
    assert response.status_code == 200
    served = response.json()
    assert served["paths"].keys() == doc["paths"].keys()
    assert served["components"]["securitySchemes"] == doc["components"]["securitySchemes"]
    job = served["components"]["schemas"]["Job"]
    assert "errorCode" in job["required"] and "finishedAt" in job["required"]
    assert "svg" not in served["components"]["schemas"]["Generation"]["required"]
