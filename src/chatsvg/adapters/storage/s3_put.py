"""PutObject without boto3's per-call machinery: the request signed with botocore's own SigV4
signer for S3 and sent on an aiohttp session of the caller's event loop.

boto3's `put_object` costs about 1.2 ms of CPU per call on this machine (parameter validation,
serialisation, the event hooks, endpoint rules, urllib3), runs on a thread and holds the GIL
against the event loop meanwhile; it was the largest single part of a worker's CPU per job
(docs/performance.md). A PUT of a few kilobytes needs none of that: the URL of the object is
known (the client's own endpoint and addressing style, read once), the signature is botocore's
`S3SigV4Auth` over the same headers `put_object` sends, and the retries follow botocore's
standard mode (the same attempts, the same transient statuses and error codes, jittered
exponential backoff), so a put behaves as before when S3 falters: an error once the attempts
are spent, which the worker records as STORAGE_UNAVAILABLE and retries the job.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Mapping
from urllib.parse import quote, urlsplit

import aiohttp
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.client import BaseClient
from botocore.credentials import ReadOnlyCredentials, RefreshableCredentials
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

# botocore's standard retry mode: what it retries (botocore/retries/standard.py).
RETRYABLE_STATUS = frozenset({500, 502, 503, 504})
RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
    }
)
MAX_BACKOFF_SECONDS = 20.0
_CODE = re.compile(rb"<Code>([^<]{1,100})</Code>")


def _refused(status: int, code: str, message: str) -> ClientError:
    """S3's answer as boto3 raises it, so callers see the same error either way."""
    return ClientError(
        {
            "Error": {"Code": code or str(status), "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "PutObject",
    )


def _object_base_url(client: BaseClient, bucket: str) -> str:
    """The URL of the bucket's objects (ending in '/'), as the client addresses them (its endpoint,
    path or virtual-hosted style, region): read from a presigned URL for a known key."""
    marker = "chatsvg-probe-key"
    url = client.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": marker}, ExpiresIn=60
    )
    parts = urlsplit(url)
    if not parts.path.endswith("/" + marker):
        raise ValueError(f"unexpected object URL for bucket {bucket!r}: {parts.path}")
    return f"{parts.scheme}://{parts.netloc}{parts.path[: -len(marker)]}"


class SignedPuts:
    """PutObject on the event loop that calls it (one aiohttp session, made on first use, for that
    loop). `available()` says whether a put from the running loop can go this way; the caller
    falls back to boto3 otherwise (another loop than the session's)."""

    def __init__(
        self,
        client: BaseClient,
        bucket: str,
        *,
        region: str,
        connect_timeout: float,
        read_timeout: float,
        max_attempts: int,
        max_connections: int,
    ) -> None:
        self._client = client
        self._bucket = bucket
        self._region = region
        self._timeout = aiohttp.ClientTimeout(sock_connect=connect_timeout, sock_read=read_timeout)
        self._max_attempts = max(1, max_attempts)
        self._max_connections = max_connections
        self._base_url: str | None = None
        self._http: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing: asyncio.Task[None] | None = None

    def available(self) -> bool:
        return self._loop is None or self._loop is asyncio.get_running_loop()

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._loop = asyncio.get_running_loop()
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections),
                timeout=self._timeout,
                auto_decompress=False,
                skip_auto_headers=("Content-Type",),
            )
        return self._http

    def _credentials(self) -> ReadOnlyCredentials | None:
        credentials = self._client._request_signer._credentials  # the client's own, as it signs
        if credentials is None:
            return None
        frozen: ReadOnlyCredentials = credentials.get_frozen_credentials()
        return frozen

    def needs_refresh_off_loop(self) -> bool:
        """Refreshable credentials (assumed roles, IMDS) may fetch over the network when read."""
        credentials = self._client._request_signer._credentials
        return isinstance(credentials, RefreshableCredentials) and credentials.refresh_needed()

    def signed_request(self, key: str, data: bytes, headers: Mapping[str, str]) -> AWSRequest:
        """The PUT, signed (blocking only when credentials must be refreshed)."""
        if self._base_url is None:
            self._base_url = _object_base_url(self._client, self._bucket)
        url = self._base_url + quote(key, safe="/~")
        request = AWSRequest(method="PUT", url=url, data=data, headers=dict(headers))
        credentials = self._credentials()
        if credentials is not None:  # anonymous access sends no signature, as boto3 would
            request.context["payload_signing_enabled"] = True
            S3SigV4Auth(credentials, "s3", self._region).add_auth(request)
        return request

    async def put(self, request: AWSRequest) -> None:
        """Send a signed PUT and retry as botocore's standard mode does. Raises what boto3 would:
        ClientError for an answer (with its status and code), ReadTimeoutError or
        EndpointConnectionError when S3 could not be reached."""
        http = self._session()
        headers = {name: str(value) for name, value in request.headers.items()}
        body = request.data
        attempt = 0
        while True:
            attempt += 1
            failure: Exception
            status, code = 0, ""
            try:
                async with http.put(request.url, data=body, headers=headers) as response:
                    payload = await response.read()
                    if 200 <= response.status < 300:
                        return
                    status = response.status
                    found = _CODE.search(payload)
                    code = found.group(1).decode("utf-8", "replace") if found else ""
                    failure = _refused(status, code, f"S3 PutObject answered {status} {code}")
            except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
                failure = ReadTimeoutError(endpoint_url=request.url, error=exc)
            except (aiohttp.ClientError, OSError) as exc:
                failure = EndpointConnectionError(endpoint_url=request.url, error=exc)
            transient = status == 0 or status in RETRYABLE_STATUS or code in RETRYABLE_CODES
            if not transient or attempt >= self._max_attempts:
                raise failure
            await asyncio.sleep(min(random.random() * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS))

    async def aclose(self) -> None:
        http, self._http = self._http, None
        if http is not None and not http.closed:
            await http.close()

    def close_now(self) -> None:
        """Close the session from a synchronous close: on its own loop, wherever that runs."""
        http, loop, self._http = self._http, self._loop, None
        if http is None or http.closed or loop is None:
            return
        if loop.is_closed():  # its connections went with the loop
            http.detach()
            return
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._closing = loop.create_task(http.close())
        elif loop.is_running():
            asyncio.run_coroutine_threadsafe(http.close(), loop)
        else:
            loop.run_until_complete(http.close())
