"""S3ObjectStorage.put without boto3 (adapters/storage/s3_put.py), checked on the wire.

moto accepts any signature, so these puts go to a recording server that checks SigV4 header
authentication the way S3 does (written from the AWS specification, not from botocore) and can
answer with faults. The round trips through moto itself are in test_s3_storage.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

import pytest
from aiohttp import web
from botocore.exceptions import ClientError, EndpointConnectionError

from chatsvg.adapters.storage import s3_put
from chatsvg.adapters.storage.s3 import STORED_CACHE_CONTROL, S3ObjectStorage
from tests.support.moto_server import free_port

ACCESS_KEY = "chatsvg-test"
SECRET_KEY = "chatsvg-test-secret"
BUCKET = "chatsvg-signed"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle r="4"/></svg>'


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    verdict: str  # "ok" or the error code S3 would answer


@dataclass
class Recorder:
    """Records each request, checks its signature, and answers `faults` first (status, code)."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    faults: list[tuple[int, str]] = field(default_factory=list)


def verify_sigv4(method: str, raw_path: str, headers: dict[str, str], body: bytes) -> str:
    """ "ok", or the code S3 answers for a request whose header signature does not hold."""
    lowered = {name.lower(): value for name, value in headers.items()}
    authorization = lowered.get("authorization", "")
    algorithm, _, rest = authorization.partition(" ")
    if algorithm != "AWS4-HMAC-SHA256":
        return "AccessDenied"
    fields = dict(part.strip().split("=", 1) for part in rest.split(","))
    access_key, _, scope = fields["Credential"].partition("/")
    if access_key != ACCESS_KEY:
        return "InvalidAccessKeyId"
    signed = fields["SignedHeaders"].split(";")
    if "host" not in signed or any(name not in lowered for name in signed):
        return "AccessDenied"
    payload_hash = lowered.get("x-amz-content-sha256", "")
    if payload_hash != hashlib.sha256(body).hexdigest():
        return "XAmzContentSHA256Mismatch"
    canonical_request = "\n".join(
        [
            method,
            quote(unquote(raw_path), safe="/~"),
            "",
            "".join(f"{name}:{' '.join(lowered[name].split())}\n" for name in signed),
            fields["SignedHeaders"],
            payload_hash,
        ]
    )
    string_to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            lowered["x-amz-date"],
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    key = f"AWS4{SECRET_KEY}".encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return "ok" if hmac.compare_digest(expected, fields["Signature"]) else "SignatureDoesNotMatch"


def error(status: int, code: str) -> web.Response:
    body = f"<Error><Code>{code}</Code><Message>{code}</Message></Error>"
    return web.Response(status=status, text=body, content_type="application/xml")


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    state = Recorder()

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        verdict = verify_sigv4(request.method, request.raw_path, dict(request.headers), body)
        state.received.append(
            Received(request.method, request.raw_path, dict(request.headers), body, verdict)
        )
        if state.faults:
            return error(*state.faults.pop(0))
        if verdict != "ok":
            return error(403, verdict)
        return web.Response(status=200)

    app = web.Application()
    app.router.add_route("PUT", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    state.url = f"http://127.0.0.1:{port}"
    yield state
    await runner.cleanup()


def make_storage(endpoint_url: str, *, secret: str = SECRET_KEY, **options: Any) -> S3ObjectStorage:
    return S3ObjectStorage(
        BUCKET,
        endpoint_url=endpoint_url,
        access_key_id=ACCESS_KEY,
        secret_access_key=secret,
        **options,
    )


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(s3_put.random, "random", lambda: 0.0)


async def test_a_put_carries_a_signature_s3_accepts_and_the_object_headers(
    recorder: Recorder,
) -> None:
    store = make_storage(recorder.url)
    try:
        await store.put("users/u 1/jobs/é~j1.svg", SVG, "image/svg+xml")
    finally:
        await store.aclose()

    [put] = recorder.received
    assert put.verdict == "ok"
    assert put.method == "PUT"
    assert unquote(put.path) == f"/{BUCKET}/users/u 1/jobs/é~j1.svg"
    assert put.body == SVG  # sent whole, without waiting for a 100 Continue
    assert "Expect" not in put.headers
    assert put.headers["Content-Type"] == "image/svg+xml"
    assert put.headers["Cache-Control"] == STORED_CACHE_CONTROL
    assert put.headers["Content-Disposition"] == "attachment"


async def test_a_signature_made_with_another_secret_is_refused_and_not_retried(
    recorder: Recorder,
) -> None:
    store = make_storage(recorder.url, secret="not-the-secret")
    try:
        with pytest.raises(ClientError) as raised:
            await store.put("k.svg", SVG, "image/svg+xml")
    finally:
        await store.aclose()

    assert raised.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert len(recorder.received) == 1


async def test_transient_answers_are_retried_until_the_attempts_run_out(
    recorder: Recorder,
) -> None:
    store = make_storage(recorder.url, max_attempts=3)
    try:
        recorder.faults = [(503, "SlowDown"), (500, "InternalError")]
        await store.put("k.svg", SVG, "image/svg+xml")
        assert len(recorder.received) == 3

        recorder.received.clear()
        recorder.faults = [(503, "ServiceUnavailable")] * 5
        with pytest.raises(ClientError) as raised:
            await store.put("k.svg", SVG, "image/svg+xml")
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert len(recorder.received) == 3
    finally:
        await store.aclose()


async def test_a_refusal_that_is_not_transient_is_not_retried(recorder: Recorder) -> None:
    store = make_storage(recorder.url, max_attempts=3)
    try:
        recorder.faults = [(403, "AccessDenied")]
        with pytest.raises(ClientError) as raised:
            await store.put("k.svg", SVG, "image/svg+xml")
    finally:
        await store.aclose()

    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    assert len(recorder.received) == 1


async def test_an_unreachable_store_is_an_endpoint_connection_error() -> None:
    store = make_storage(f"http://127.0.0.1:{free_port()}", max_attempts=2)
    try:
        with pytest.raises(EndpointConnectionError):
            await store.put("k.svg", SVG, "image/svg+xml")
    finally:
        await store.aclose()


async def test_a_put_from_another_event_loop_goes_through_boto3(recorder: Recorder) -> None:
    store = make_storage(recorder.url)
    try:
        await store.put("first.svg", SVG, "image/svg+xml")  # the session is this loop's
        failures: list[BaseException] = []

        def elsewhere() -> None:
            try:
                asyncio.run(store.put("second.svg", SVG, "image/svg+xml"))
            except BaseException as exc:  # pragma: no cover - reported below
                failures.append(exc)

        thread = threading.Thread(target=elsewhere)
        thread.start()
        await asyncio.to_thread(thread.join)
        assert failures == []
    finally:
        await store.aclose()

    first, second = recorder.received
    assert first.verdict == second.verdict == "ok"
    assert "Botocore" not in first.headers.get("User-Agent", "")
    assert "Botocore" in second.headers.get("User-Agent", "")
