"""The public /v1 API and /api/keys over real HTTP: API.md's "API keys" and "Public API"."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest

from chatsvg.entrypoints.http.key_schemas import V1GenerateBody
from tests.support.live import ApiClient, LiveServer

PROBLEM = "application/problem+json"


async def signed_in(client_factory: Callable[..., ApiClient], email: str) -> ApiClient:
    client = client_factory()
    await client.load_page()
    await client.register(email)
    return client


async def create_key(client: ApiClient, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/keys", {"name": "ci", **body})
    assert response.status_code == 201, response.text
    return dict(response.json())


def v1(server: LiveServer, key: str | None, origin: str | None = None) -> httpx.AsyncClient:
    headers = {"X-API-Key": key} if key else {}
    if origin:
        headers["Origin"] = origin
    return httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30)


def assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert (body["status"], body["errorCode"]) == (status, code)
    assert body["error"] == body["detail"]


async def wait_job(http: httpx.AsyncClient, job_id: str, timeout: float = 40) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = await http.get(f"/v1/svg/job/{job_id}")
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()["job"]
        if job["status"] in ("SUCCEEDED", "FAILED"):
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


async def test_keys_are_created_once_listed_and_limited_by_the_plan(
    client_factory: Callable[..., ApiClient],
) -> None:
    client = await signed_in(client_factory, "keys@example.com")
    created = await create_key(client, description="my app", ipWhitelist=["10.1.0.0/16"])
    assert set(created) == {"id", "name", "keyPrefix", "key", "createdAt", "warning"}
    assert created["key"].startswith("sk_live_") and created["key"].startswith(created["keyPrefix"])
    listed = (await client.get("/api/keys")).json()["keys"]
    assert [k["id"] for k in listed] == [created["id"]]
    item = listed[0]
    assert "key" not in item and created["key"] not in str(item)
    assert item == {
        **item,
        "name": "ci",
        "description": "my app",
        "environment": "production",
        "lastUsedAt": None,
        "expiresAt": None,
        "usageCount": 0,
        "customRateLimit": None,
        "ipWhitelist": ["10.1.0.0/16"],
        "scopes": ["generate:svg", "read:generation"],
    }
    assert_problem(await client.post("/api/keys", {"name": "second"}), 409, "API_KEY_LIMIT")
    # Cookie routes under /api need the CSRF header.
    refused = await client.http.post("/api/keys", json={"name": "x"})
    assert_problem(refused, 403, "CSRF_FAILED")
    assert_problem(await client.post("/api/keys", {"name": ""}), 400, "VALIDATION_ERROR")
    assert_problem(
        await client.post("/api/keys", {"name": "x", "ipWhitelist": ["nope"]}),
        400,
        "VALIDATION_ERROR",
    )
    assert (await client.delete(f"/api/keys/{created['id']}")).status_code == 204
    assert_problem(await client.delete(f"/api/keys/{created['id']}"), 404, "NOT_FOUND")
    assert (await client.get("/api/keys")).json() == {"keys": []}
    anonymous = client_factory()
    assert_problem(await anonymous.get("/api/keys"), 401, "UNAUTHENTICATED")


async def test_missing_unknown_revoked_and_expired_keys_are_401(
    server: LiveServer, client_factory: Callable[..., ApiClient]
) -> None:
    body = {"prompt": "a red fox"}
    for key in (None, "nonsense", "sk_live_" + "x" * 43):
        async with v1(server, key) as http:
            assert_problem(await http.post("/v1/svg/generate", json=body), 401, "API_KEY_INVALID")
            assert_problem(await http.get("/v1/svg/job/abc"), 401, "API_KEY_INVALID")

    client = await signed_in(client_factory, "revoked@example.com")
    created = await create_key(client)
    async with v1(server, created["key"]) as http:
        assert (await http.post("/v1/svg/generate", json=body)).status_code == 202
        assert (await client.delete(f"/api/keys/{created['id']}")).status_code == 204
        assert_problem(await http.post("/v1/svg/generate", json=body), 401, "API_KEY_INVALID")

    expiring = await signed_in(client_factory, "expiring@example.com")
    soon = (datetime.now(UTC) + timedelta(seconds=1.5)).isoformat()
    created = await create_key(expiring, expiresAt=soon)
    async with v1(server, created["key"]) as http:
        assert (await http.get("/v1/svg/job/none")).status_code == 404
        await asyncio.sleep(2)
        assert_problem(await http.get("/v1/svg/job/none"), 401, "API_KEY_INVALID")


async def test_a_disallowed_address_or_a_missing_scope_is_403(
    server: LiveServer, client_factory: Callable[..., ApiClient]
) -> None:
    body = {"prompt": "a red fox"}
    walled = await create_key(
        await signed_in(client_factory, "walled@example.com"), ipWhitelist=["203.0.113.0/24"]
    )
    async with v1(server, walled["key"]) as http:
        assert_problem(await http.post("/v1/svg/generate", json=body), 403, "API_KEY_FORBIDDEN")
    reader = await create_key(
        await signed_in(client_factory, "reader@example.com"),
        scopes=["read:generation"],
        ipWhitelist=["127.0.0.0/8", "::1"],
    )
    async with v1(server, reader["key"]) as http:
        assert_problem(await http.post("/v1/svg/generate", json=body), 403, "API_KEY_FORBIDDEN")
        assert_problem(await http.get("/v1/svg/job/none"), 404, "NOT_FOUND")


async def test_generate_replay_and_follow_a_job_with_its_svg_and_url(
    server: LiveServer, client_factory: Callable[..., ApiClient]
) -> None:
    client = await signed_in(client_factory, "gen@example.com")
    created = await create_key(client)
    async with v1(server, created["key"]) as http:
        body = {"prompt": "a red fox", "style": "flat", "idempotencyKey": "order-1"}
        first = await http.post("/v1/svg/generate", json=body)
        assert first.status_code == 202, first.text
        submitted = first.json()
        assert submitted == {
            "jobId": submitted["jobId"],
            "status": "queued",
            "creditsCharged": True,
            "duplicate": False,
        }
        assert first.headers["location"] == f"/v1/svg/job/{submitted['jobId']}"
        assert int(first.headers["x-ratelimit-limit"]) == 5
        assert first.headers["x-ratelimit-remaining"] == "4"
        assert "x-ratelimit-reset" in first.headers

        replay = await http.post(
            "/v1/svg/generate",
            json={"style": "flat", "prompt": "a red fox"},
            headers={"Idempotency-Key": "order-1"},
        )
        assert replay.status_code == 200, replay.text
        assert (replay.json()["jobId"], replay.json()["duplicate"]) == (submitted["jobId"], True)
        reused = await http.post(
            "/v1/svg/generate", json={"prompt": "a blue fox", "idempotencyKey": "order-1"}
        )
        assert_problem(reused, 422, "IDEMPOTENCY_KEY_REUSED")

        job = await wait_job(http, submitted["jobId"])
        assert job["status"] == "SUCCEEDED", job
        assert set(job) == {
            "id", "status", "prompt", "style", "model", "svg", "url", "errorCode",
            "errorMessage", "createdAt", "finishedAt", "creditsCharged",
        }  # fmt: skip
        assert job["svg"].startswith("<svg") and job["creditsCharged"] is True
        assert (job["prompt"], job["style"], job["errorCode"]) == ("a red fox", "flat", None)
        file = await http.get(job["url"])
        assert file.status_code == 200 and file.content.startswith(b"<svg")
    # One charge for the job and its replay; the job shows in the web app's list too.
    ledger = (await client.get("/api/user/credits/ledger")).json()["items"]
    assert [e["delta"] for e in ledger if e["jobId"] == submitted["jobId"]] == [-1]
    other = await create_key(await signed_in(client_factory, "other@example.com"))
    async with v1(server, other["key"]) as http:
        assert_problem(await http.get(f"/v1/svg/job/{submitted['jobId']}"), 404, "NOT_FOUND")


async def test_402_when_the_balance_cannot_pay_and_a_test_key_spends_nothing(
    server_factory: Callable[..., LiveServer], client_factory: Callable[..., ApiClient]
) -> None:
    server = server_factory(start_credits=0)
    client = client_factory(base=server)
    await client.load_page()
    await client.register("broke@example.com")
    live = await create_key(client)
    async with v1(server, live["key"]) as http:
        refused = await http.post("/v1/svg/generate", json={"prompt": "a red fox"})
        assert_problem(refused, 402, "INSUFFICIENT_CREDITS")
        assert "x-ratelimit-limit" in refused.headers
    assert (await client.delete(f"/api/keys/{live['id']}")).status_code == 204
    test = await create_key(client, environment="test")
    assert test["key"].startswith("sk_test_")
    async with v1(server, test["key"]) as http:
        answer = await http.post(
            "/v1/svg/generate", json={"prompt": "a red fox", "model": "gpt-4o"}
        )
        assert answer.status_code == 202, answer.text
        assert answer.json()["creditsCharged"] is False
        job = await wait_job(http, answer.json()["jobId"])
    assert (job["status"], job["model"], job["creditsCharged"]) == ("SUCCEEDED", "offline", False)
    assert (await client.get("/api/user/credits")).json()["balance"] == 0


async def test_429_past_the_plans_rate_and_usage_stats_add_up(
    server: LiveServer, client_factory: Callable[..., ApiClient]
) -> None:
    client = await signed_in(client_factory, "busy@example.com")
    created = await create_key(client)
    async with v1(server, created["key"]) as http:
        for n in range(5):  # FREE: 5 generations a minute
            answer = await http.post("/v1/svg/generate", json={"prompt": f"fox {n}"})
            assert answer.status_code == 202, answer.text
        refused = await http.post("/v1/svg/generate", json={"prompt": "one more"})
        assert_problem(refused, 429, "RATE_LIMITED")
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.headers["x-ratelimit-remaining"] == "0"
        assert (await http.get("/v1/svg/job/missing")).status_code == 404
        bad = await http.post(
            "/v1/svg/generate", content=b"{", headers={"Content-Type": "application/json"}
        )
        assert_problem(bad, 400, "VALIDATION_ERROR")
    stats = (await client.get(f"/api/keys/{created['id']}/stats")).json()["stats"]
    assert stats == {
        "totalRequests": 8,
        "successfulRequests": 5,
        "failedRequests": 3,
        "totalCreditsUsed": 5,
        "successRate": 62.5,
    }
    summary = (await client.get("/api/keys/usage/summary")).json()["summary"]
    assert {k: summary[k] for k in stats} == stats
    assert isinstance(summary["averageLatencyMs"], int) and summary["averageLatencyMs"] >= 0
    today = datetime.now(UTC).date().isoformat()
    ranged = await client.get(f"/api/keys/usage/summary?startDate={today}&endDate={today}")
    assert ranged.json()["summary"]["totalRequests"] == 8
    listed = (await client.get("/api/keys")).json()["keys"][0]
    assert listed["usageCount"] == 8 and listed["lastUsedAt"] is not None
    assert_problem(
        await client.get("/api/keys/usage/summary?startDate=soon"), 400, "VALIDATION_ERROR"
    )


async def test_v1_answers_any_origin_without_credentials(
    server: LiveServer, client_factory: Callable[..., ApiClient]
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        preflight = await http.options(
            "/v1/svg/generate",
            headers={
                "Origin": "https://someone.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type, x-api-key",
            },
        )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "x-api-key" in preflight.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in preflight.headers
    created = await create_key(await signed_in(client_factory, "cors@example.com"))
    async with v1(server, created["key"], origin="https://someone.example") as http:
        answer = await http.post("/v1/svg/generate", json={"prompt": "a fox"})
    assert answer.status_code == 202
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "x-ratelimit-remaining" in answer.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-credentials" not in answer.headers


async def test_the_public_api_has_its_own_openapi_document(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        doc = (await http.get("/v1/openapi.json")).json()
        full = (await http.get("/schema/openapi.json")).json()
    assert set(doc["paths"]) == {"/v1/svg/generate", "/v1/svg/job/{job_id}", "/v1/openapi.json"}
    scheme = doc["components"]["securitySchemes"]["apiKeyAuth"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "X-API-Key")
    generate = doc["paths"]["/v1/svg/generate"]["post"]
    assert generate["security"] == [{"apiKeyAuth": []}]
    # The request body is documented by hand (the key is checked before the body is read): it
    # names exactly the members the decoder takes, and requires exactly the ones it requires.
    body = generate["requestBody"]["content"]["application/json"]["schema"]
    members = msgspec.structs.fields(V1GenerateBody)
    assert set(body["properties"]) == {m.encode_name for m in members}
    assert set(body["required"]) == {m.encode_name for m in members if m.required}
    assert {"401", "402", "403", "422", "429"} <= set(generate["responses"])
    assert "/v1/svg/generate" in full["paths"]


async def test_a_key_revoked_on_one_api_process_fails_on_another_at_once(
    stack_kind: str,
    server_factory: Callable[..., LiveServer],
    client_factory: Callable[..., ApiClient],
) -> None:
    if stack_kind != "real":
        pytest.skip("two API processes share a database on the real stack only")
    first, second = server_factory(), server_factory()
    client = client_factory(base=first)
    await client.load_page()
    await client.register("two@example.com")
    created = await create_key(client)
    async with v1(second, created["key"]) as http:
        assert (await http.get("/v1/svg/job/none")).status_code == 404
        assert (await client.delete(f"/api/keys/{created['id']}")).status_code == 204
        assert_problem(await http.get("/v1/svg/job/none"), 401, "API_KEY_INVALID")


async def test_variants_are_one_job_charged_as_one(
    server: LiveServer, client_factory: Callable[..., ApiClient]
) -> None:
    client = await signed_in(client_factory, "variants@example.com")
    created = await create_key(client)
    async with v1(server, created["key"]) as http:
        assert_problem(
            await http.post("/v1/svg/generate", json={"prompt": "a fox", "n": 5}),
            400,
            "VALIDATION_ERROR",
        )
        answer = await http.post("/v1/svg/generate", json={"prompt": "a fox", "n": 2})
        assert answer.status_code == 202, answer.text
        job = await wait_job(http, answer.json()["jobId"])
    assert job["status"] == "SUCCEEDED" and job["svg"].startswith("<svg")
    ledger = (await client.get("/api/user/credits/ledger")).json()["items"]
    assert [e["delta"] for e in ledger if e["jobId"] == job["id"]] == [-2]
    stats = (await client.get(f"/api/keys/{created['id']}/stats")).json()["stats"]
    assert stats["totalCreditsUsed"] == 2
