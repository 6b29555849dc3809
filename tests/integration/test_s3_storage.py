"""S3ObjectStorage against moto's S3 server over real HTTP, with browsers played by plain httpx.

Browsers reach the store through a `FaultyProxy` carrying a `PresignedUrlVerifier`, because
moto itself serves a presigned URL whatever its signature or age; the verifier answers the way
S3 does. The storage's `public_endpoint_url` points at that proxy, as it would point at a public
S3 host while the API talks to a private one.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError

from chatsvg.adapters.storage.content_disposition import content_disposition
from chatsvg.adapters.storage.s3 import S3ObjectStorage
from chatsvg.application.gallery.library import download_filename
from chatsvg.domain.generation.generations import SvgGeneration
from tests.support.moto_server import (
    FaultyProxy,
    PresignedUrlVerifier,
    start_moto_process,
    start_moto_thread,
)

ACCESS_KEY = "chatsvg-test"
SECRET_KEY = "chatsvg-test-secret"
WEB_ORIGIN = "https://app.chatsvg.test"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4"/></svg>'


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    server = start_moto_thread()
    yield server.endpoint_url
    server.stop()


@pytest.fixture(scope="session")
def public_host(moto_url: str) -> Iterator[FaultyProxy]:
    """The host browsers are given, checking presigned URLs as S3 would."""
    with FaultyProxy(moto_url, verifier=PresignedUrlVerifier({ACCESS_KEY: SECRET_KEY})) as proxy:
        yield proxy


@pytest.fixture
def faulty(moto_url: str) -> Iterator[FaultyProxy]:
    with FaultyProxy(moto_url) as proxy:
        yield proxy


@pytest.fixture
def raw_s3(moto_url: str) -> BaseClient:
    """A plain client to look at what the adapter left in the bucket."""
    return boto3.client(
        "s3",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(s3={"addressing_style": "path"}),
    )


def new_bucket() -> str:
    # moto's state is per process and the server lives for the session: a bucket per test.
    return f"chatsvg-{uuid.uuid4().hex[:16]}"


def make_storage(endpoint_url: str, bucket: str | None = None, **options: Any) -> S3ObjectStorage:
    return S3ObjectStorage(
        bucket or new_bucket(),
        endpoint_url=endpoint_url,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
        **options,
    )


@pytest.fixture
async def storage(moto_url: str, public_host: FaultyProxy) -> AsyncIterator[S3ObjectStorage]:
    store = make_storage(
        moto_url, public_endpoint_url=public_host.url, web_origins=[WEB_ORIGIN], create_bucket=True
    )
    await store.ensure_bucket()
    yield store
    store.close()


@pytest.fixture
async def browser() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield client


def error_code(response: httpx.Response) -> str:
    return response.text.split("<Code>")[1].split("</Code>")[0] if "<Code>" in response.text else ""


# --- the port's operations --------------------------------------------------------------


async def test_put_get_exists_delete_round_trip(storage: S3ObjectStorage) -> None:
    key = "users/u1/jobs/j1.svg"
    assert not await storage.exists(key)

    await storage.put(key, SVG, "image/svg+xml")

    assert await storage.exists(key)
    assert await storage.get(key) == SVG
    await storage.delete(key)
    assert not await storage.exists(key)
    assert await storage.get(key) is None


async def test_get_of_a_missing_key_is_none(storage: S3ObjectStorage) -> None:
    assert await storage.get("users/nobody/nothing.svg") is None


async def test_delete_is_idempotent(storage: S3ObjectStorage) -> None:
    await storage.put("k.svg", SVG, "image/svg+xml")
    await storage.delete("k.svg")
    await storage.delete("k.svg")
    await storage.delete("never-existed.svg")


async def test_put_replaces_the_object(storage: S3ObjectStorage) -> None:
    await storage.put("k.svg", SVG, "image/svg+xml")
    await storage.put("k.svg", b"<svg/>", "image/svg+xml")
    assert await storage.get("k.svg") == b"<svg/>"


async def test_stored_object_downloads_even_without_overrides(
    storage: S3ObjectStorage, raw_s3: BaseClient
) -> None:
    await storage.put("k.svg", SVG, "image/svg+xml")

    head = raw_s3.head_object(Bucket=storage.bucket, Key="k.svg")

    assert head["ContentType"] == "image/svg+xml"
    assert head["ContentDisposition"] == "attachment"
    assert head["CacheControl"].startswith("private")
    assert head["ContentLength"] == len(SVG)


async def test_a_missing_bucket_is_an_error_not_a_missing_key(moto_url: str) -> None:
    store = make_storage(moto_url)
    try:
        with pytest.raises(ClientError) as raised:
            await store.get("k.svg")
        assert raised.value.response["Error"]["Code"] == "NoSuchBucket"
        with pytest.raises(ClientError):
            await store.put("k.svg", SVG, "image/svg+xml")
        with pytest.raises(ClientError):
            await store.ping()
    finally:
        store.close()


async def test_ping_answers_for_an_existing_bucket(storage: S3ObjectStorage) -> None:
    await storage.ping()


# --- the bucket --------------------------------------------------------------------------


async def test_ensure_bucket_creates_once_and_sets_cors(moto_url: str, raw_s3: BaseClient) -> None:
    store = make_storage(
        moto_url, web_origins=[WEB_ORIGIN, "http://localhost:5173"], create_bucket=True
    )
    try:
        await store.ensure_bucket()
        await store.ensure_bucket()  # every process runs it at startup

        [rule] = raw_s3.get_bucket_cors(Bucket=store.bucket)["CORSRules"]
        assert rule["AllowedOrigins"] == [WEB_ORIGIN, "http://localhost:5173"]
        assert sorted(rule["AllowedMethods"]) == ["GET", "HEAD"]
        assert "Content-Disposition" in rule["ExposeHeaders"]
    finally:
        store.close()


async def test_ensure_bucket_without_permission_to_create_fails_on_a_missing_bucket(
    moto_url: str,
) -> None:
    store = make_storage(moto_url, create_bucket=False)
    try:
        with pytest.raises(ClientError):
            await store.ensure_bucket()
    finally:
        store.close()


async def test_ensure_bucket_in_another_region(moto_url: str, raw_s3: BaseClient) -> None:
    store = make_storage(moto_url, region="eu-west-1", create_bucket=True)
    try:
        await store.ensure_bucket()
        location = raw_s3.get_bucket_location(Bucket=store.bucket)["LocationConstraint"]
        assert location == "eu-west-1"
    finally:
        store.close()


# --- what browsers get -------------------------------------------------------------------


async def test_download_url_serves_the_svg_as_an_attachment(
    storage: S3ObjectStorage, public_host: FaultyProxy, browser: httpx.AsyncClient
) -> None:
    await storage.put("users/u1/j1.svg", SVG, "image/svg+xml")

    url = await storage.signed_url(
        "users/u1/j1.svg", expires_in=300, filename="red-circle-abc123.svg"
    )
    response = await browser.get(url)

    assert url.startswith(f"{public_host.url}/")
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["300"]
    assert response.status_code == 200, response.text
    assert response.content == SVG
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.headers["content-disposition"] == 'attachment; filename="red-circle-abc123.svg"'
    assert response.headers["cache-control"] == "private, max-age=300"


async def test_download_url_keeps_a_non_ascii_filename(
    storage: S3ObjectStorage, browser: httpx.AsyncClient
) -> None:
    await storage.put("k.svg", SVG, "image/svg+xml")

    url = await storage.signed_url("k.svg", expires_in=60, filename="café-☕.svg")
    response = await browser.get(url)

    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"cafe-.svg\"; filename*=UTF-8''caf%C3%A9-%E2%98%95.svg"
    )


async def test_a_prompt_in_any_script_names_the_download(
    storage: S3ObjectStorage, browser: httpx.AsyncClient
) -> None:
    generation = SvgGeneration(
        id="1a2b3c4d-0000",
        user_id="u1",
        job_id="j1",
        prompt="Café ☕ au lait",
        style="flat",
        model="offline",
        privacy=True,
        storage_key="k.svg",
        size_bytes=len(SVG),
        created_at=datetime.now(UTC),
    )
    await storage.put("k.svg", SVG, "image/svg+xml")

    filename = download_filename(generation)
    download = await browser.get(
        await storage.signed_url("k.svg", expires_in=60, filename=filename)
    )
    image = await browser.get(
        await storage.signed_url("k.svg", expires_in=60, filename=filename, attachment=False)
    )

    assert filename == "café-au-lait-1a2b3c4d.svg"
    fallback_and_utf8 = (
        "filename=\"cafe-au-lait-1a2b3c4d.svg\"; filename*=UTF-8''caf%C3%A9-au-lait-1a2b3c4d.svg"
    )
    assert download.status_code == 200, download.text
    assert download.headers["content-disposition"] == f"attachment; {fallback_and_utf8}"
    assert image.headers["content-disposition"] == f"inline; {fallback_and_utf8}"


async def test_inline_url_is_for_img_tags(
    storage: S3ObjectStorage, browser: httpx.AsyncClient
) -> None:
    await storage.put("k.svg", SVG, "image/svg+xml")

    url = await storage.signed_url("k.svg", expires_in=900, filename="k.svg", attachment=False)
    response = await browser.get(url)

    assert response.status_code == 200, response.text
    assert response.content == SVG
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.headers["content-disposition"] == 'inline; filename="k.svg"'


async def test_without_a_public_endpoint_the_url_points_at_the_api_endpoint(
    moto_url: str, browser: httpx.AsyncClient
) -> None:
    store = make_storage(moto_url, create_bucket=True)
    try:
        await store.ensure_bucket()
        await store.put("k.svg", SVG, "image/svg+xml")

        url = await store.signed_url("k.svg", expires_in=60, filename="k.svg")
        response = await browser.get(url)

        assert url.startswith(f"{moto_url}/{store.bucket}/k.svg?")
        assert response.status_code == 200
        assert response.content == SVG
        assert response.headers["content-disposition"] == 'attachment; filename="k.svg"'
    finally:
        store.close()


async def test_download_url_expires(storage: S3ObjectStorage, browser: httpx.AsyncClient) -> None:
    await storage.put("k.svg", SVG, "image/svg+xml")

    url = await storage.signed_url("k.svg", expires_in=1, filename="k.svg")
    await asyncio.sleep(2.1)  # X-Amz-Date has whole seconds: 2 s is past any rounding
    response = await browser.get(url)

    assert response.status_code == 403
    assert "Request has expired" in response.text


async def test_a_tampered_signature_is_refused(
    storage: S3ObjectStorage, browser: httpx.AsyncClient
) -> None:
    await storage.put("k.svg", SVG, "image/svg+xml")
    url = await storage.signed_url("k.svg", expires_in=60, filename="k.svg")
    signature = parse_qs(urlsplit(url).query)["X-Amz-Signature"][0]
    forged = "0" * len(signature) if signature[0] != "0" else "1" * len(signature)

    response = await browser.get(url.replace(signature, forged))

    assert response.status_code == 403
    assert error_code(response) == "SignatureDoesNotMatch"


async def test_the_overrides_are_signed_so_an_attachment_cannot_be_made_inline(
    storage: S3ObjectStorage, browser: httpx.AsyncClient
) -> None:
    await storage.put("k.svg", SVG, "image/svg+xml")
    url = await storage.signed_url("k.svg", expires_in=60, filename="k.svg")
    assert "response-content-disposition=attachment" in url

    response = await browser.get(
        url.replace(
            "response-content-disposition=attachment", "response-content-disposition=inline"
        )
    )

    assert response.status_code == 403
    assert error_code(response) == "SignatureDoesNotMatch"


async def test_a_url_signed_for_the_api_host_does_not_work_on_the_public_host(
    moto_url: str, public_host: FaultyProxy, browser: httpx.AsyncClient
) -> None:
    # Why public_endpoint_url exists: the signature covers the host.
    store = make_storage(moto_url, create_bucket=True)
    try:
        await store.ensure_bucket()
        await store.put("k.svg", SVG, "image/svg+xml")
        url = await store.signed_url("k.svg", expires_in=60, filename="k.svg")

        response = await browser.get(url.replace(moto_url, public_host.url))

        assert response.status_code == 403
        assert error_code(response) == "SignatureDoesNotMatch"
    finally:
        store.close()


async def test_cors_lets_the_web_origins_fetch_a_download(
    storage: S3ObjectStorage, browser: httpx.AsyncClient
) -> None:
    # moto applies the bucket's CORS rules on GET and on preflights once its blanket CORS is off
    # (the support module turns it off), so this checks the rules ensure_bucket wrote.
    await storage.put("k.svg", SVG, "image/svg+xml")
    url = await storage.signed_url("k.svg", expires_in=60, filename="k.svg")

    allowed = await browser.get(url, headers={"Origin": WEB_ORIGIN})
    foreign = await browser.get(url, headers={"Origin": "https://evil.test"})
    preflight = await browser.options(
        url, headers={"Origin": WEB_ORIGIN, "Access-Control-Request-Method": "GET"}
    )

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == WEB_ORIGIN
    assert "Content-Disposition" in allowed.headers["access-control-expose-headers"]
    assert "access-control-allow-credentials" not in allowed.headers
    assert foreign.status_code == 200  # S3 serves the object; the browser withholds it
    assert "access-control-allow-origin" not in foreign.headers
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == WEB_ORIGIN


# --- faults ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 503])
@pytest.mark.parametrize("operation", ["put", "get", "exists", "delete", "ping", "ensure_bucket"])
async def test_server_errors_propagate(faulty: FaultyProxy, operation: str, status: int) -> None:
    store = make_storage(faulty.url, max_attempts=1, create_bucket=True)
    try:
        await store.ensure_bucket()
        await store.put("k.svg", SVG, "image/svg+xml")
        faulty.fail_next(1, status)

        calls = {
            "put": lambda: store.put("k.svg", SVG, "image/svg+xml"),
            "get": lambda: store.get("k.svg"),
            "exists": lambda: store.exists("k.svg"),
            "delete": lambda: store.delete("k.svg"),
            "ping": store.ping,
            "ensure_bucket": store.ensure_bucket,
        }
        with pytest.raises(ClientError) as raised:
            await calls[operation]()

        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
        assert faulty.faults_served == 1
    finally:
        store.close()


async def test_transient_server_errors_are_retried(faulty: FaultyProxy) -> None:
    store = make_storage(faulty.url, max_attempts=3, create_bucket=True)
    try:
        await store.ensure_bucket()
        faulty.reset()
        faulty.fail_next(2, 500, method="PUT")

        await store.put("k.svg", SVG, "image/svg+xml")

        assert faulty.faults_served == 2
        assert faulty.requests == 3
        assert await store.get("k.svg") == SVG
    finally:
        store.close()


async def test_retries_give_up_after_max_attempts(faulty: FaultyProxy) -> None:
    store = make_storage(faulty.url, max_attempts=2, create_bucket=True)
    try:
        await store.ensure_bucket()
        faulty.fail_next(5, 500, method="GET")

        with pytest.raises(ClientError):
            await store.get("k.svg")

        assert faulty.faults_served == 2
    finally:
        store.close()


async def test_a_stalled_store_times_out(faulty: FaultyProxy) -> None:
    store = make_storage(faulty.url, max_attempts=1, read_timeout=0.3, create_bucket=True)
    try:
        await store.ensure_bucket()
        faulty.stall_next(1, 3.0)

        started = time.monotonic()
        with pytest.raises(ReadTimeoutError):
            await store.exists("k.svg")

        assert time.monotonic() - started < 2.0
    finally:
        store.close()


async def test_a_slow_store_does_not_block_the_event_loop(faulty: FaultyProxy) -> None:
    store = make_storage(faulty.url, create_bucket=True)
    try:
        await store.ensure_bucket()
        faulty.stall_next(1, 0.5)
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        await store.put("k.svg", SVG, "image/svg+xml")
        ticker.cancel()

        assert ticks > 20
    finally:
        store.close()


# --- load --------------------------------------------------------------------------------


async def test_a_hundred_parallel_puts(faulty: FaultyProxy) -> None:
    store = make_storage(faulty.url, create_bucket=True)
    try:
        await store.ensure_bucket()
        faulty.reset()
        bodies = {
            f"users/u{i % 7}/jobs/{i}.svg": SVG.replace(b'r="4"', f'r="{i}"'.encode())
            for i in range(100)
        }

        await asyncio.gather(
            *(store.put(key, body, "image/svg+xml") for key, body in bodies.items())
        )
        fetched = await asyncio.gather(*(store.get(key) for key in bodies))

        assert fetched == list(bodies.values())
        # More than asyncio's default thread pool (cpu+4) at once: the adapter's own pool works.
        assert faulty.max_in_flight > 8
    finally:
        store.close()


# --- the moto process helper -------------------------------------------------------------


def test_moto_as_a_separate_process() -> None:
    server = start_moto_process()
    try:
        client = boto3.client(
            "s3",
            endpoint_url=server.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )
        client.create_bucket(Bucket="separate-process")
        assert [b["Name"] for b in client.list_buckets()["Buckets"]] == ["separate-process"]
    finally:
        server.stop()
    with pytest.raises(httpx.TransportError):
        httpx.get(server.endpoint_url, timeout=1.0)


# --- Content-Disposition -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("circle.svg", 'attachment; filename="circle.svg"'),
        ("café.svg", "attachment; filename=\"cafe.svg\"; filename*=UTF-8''caf%C3%A9.svg"),
        (
            "日本.svg",
            "attachment; filename=\"chatsvg.svg\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.svg",
        ),
        ('a"b;c.svg', "attachment; filename=\"a_b_c.svg\"; filename*=UTF-8''a%22b%3Bc.svg"),
        ("x\r\nSet-Cookie: a=b.svg", 'attachment; filename="xSet-Cookie: a=b.svg"'),
        ("../../etc/passwd.svg", 'attachment; filename="_.._etc_passwd.svg"'),
        ("\u202egvs.exe", 'attachment; filename="gvs.exe"'),
        (
            "日本-1a2b3c4d.svg",
            'attachment; filename="1a2b3c4d.svg"; '
            "filename*=UTF-8''%E6%97%A5%E6%9C%AC-1a2b3c4d.svg",
        ),
        ("cafe\u0301.svg", "attachment; filename=\"cafe.svg\"; filename*=UTF-8''caf%C3%A9.svg"),
        ("", 'attachment; filename="chatsvg.svg"'),
    ],
)
def test_content_disposition(filename: str, expected: str) -> None:
    assert content_disposition(filename) == expected


def test_content_disposition_inline() -> None:
    assert content_disposition("a.svg", attachment=False) == 'inline; filename="a.svg"'


async def test_uploads_are_sent_whole_without_waiting_for_100_continue(
    storage: S3ObjectStorage,
) -> None:
    sent: list[dict[str, str]] = []

    def record(request: object, **_: object) -> None:
        sent.append(dict(request.headers))  # type: ignore[attr-defined]

    storage._client.meta.events.register("before-send.s3.PutObject", record)
    # A put goes through boto3 only from another event loop than the first put's (the signed puts
    # on the loop, test_s3_signed_puts.py, never send Expect either).
    await storage.put("users/u1/jobs/j0.svg", b"<svg/>", "image/svg+xml")
    assert sent == []
    put = storage.put("users/u1/jobs/j1.svg", b"<svg/>", "image/svg+xml")
    await asyncio.to_thread(asyncio.run, put)
    assert len(sent) == 1
    assert "Expect" not in sent[0]
    assert await storage.get("users/u1/jobs/j1.svg") == b"<svg/>"
