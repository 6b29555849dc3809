"""moto's standalone S3 server for tests, and a reverse proxy that can misbehave on request.

Two ways to run moto:

- `start_moto_thread()`: in this process, on a thread. Starts in milliseconds; right for a
  session-scoped fixture. moto keeps its state in module globals, so every server started this
  way in one process shares buckets: give each test its own bucket.
- `start_moto_process()`: `python -m moto.server` as a child process, for tests whose API and
  worker processes all need the same store.

Both disable moto's blanket CORS (by default moto answers every origin on every route), so the
bucket's own CORS rules decide, as on S3.

moto does not check presigned URLs: a tampered signature or an expired link still gets the
object. `PresignedUrlVerifier` checks them the way S3 does (SigV4 query authentication, written
from the AWS specification), and `FaultyProxy` applies it in front of moto. The same proxy
injects 5xx answers and stalls for fault tests.
"""

from __future__ import annotations

import asyncio
import calendar
import collections
import contextlib
import functools
import hashlib
import hmac
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import NamedTuple, Self
from urllib.parse import quote, unquote
from xml.sax.saxutils import escape

import aiohttp
import httpx
from aiohttp import web
from multidict import CIMultiDict

HOST = "127.0.0.1"

# Headers that describe one connection, not the message, and must not be relayed.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


class RunningServer(NamedTuple):
    endpoint_url: str
    stop: Callable[[], None]


def free_port(host: str = HOST) -> int:
    """A port nothing listens on right now (another process may still take it before us)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_serving(
    url: str, *, timeout: float = 30.0, alive: Callable[[], bool] = lambda: True
) -> None:
    """Block until `url` answers HTTP at all; raise if `alive()` turns false or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"server for {url} exited during startup")
        try:
            httpx.get(f"{url}/moto-api/", timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not start within {timeout} s")


def start_moto_thread(host: str = HOST, port: int = 0) -> RunningServer:
    """moto in this process, on a daemon thread; port 0 picks a free port."""
    from moto.moto_server import werkzeug_app
    from moto.server import ThreadedMotoServer

    # The flag is read when moto builds each service's app, lazily on its first request, so it
    # is set for the process: no test here wants the blanket CORS.
    werkzeug_app.DISABLE_GLOBAL_CORS = True  # type: ignore[attr-defined]  # re-imported name
    # One log line per request drowns a failing test's output.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    return RunningServer(f"http://{bound_host}:{bound_port}", _once(server.stop))


def start_moto_process(
    host: str = HOST,
    port: int | None = None,
    *,
    log_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    startup_timeout: float = 30.0,
) -> RunningServer:
    """`python -m moto.server` as a child process, serving once this returns.

    Output goes to `log_path` (appended) or nowhere: a pipe nobody reads would fill up and
    freeze the server. Without a `port`, a free one is chosen, and chosen again if another
    process takes it first.
    """
    child_env = {**os.environ, "MOTO_DISABLE_GLOBAL_CORS": "true", **(env or {})}
    attempts = 1 if port is not None else 3
    for attempt in range(1, attempts + 1):
        chosen = port if port is not None else free_port(host)
        process = _spawn_moto(host, chosen, log_path, child_env)
        url = f"http://{host}:{chosen}"
        try:
            wait_until_serving(
                url, timeout=startup_timeout, alive=functools.partial(_running, process)
            )
        except RuntimeError:
            if attempt == attempts:
                raise
            continue
        except BaseException:
            _terminate(process)
            raise
        return RunningServer(url, _once(functools.partial(_terminate, process)))
    raise AssertionError("unreachable")


def _spawn_moto(
    host: str, port: int, log_path: Path | None, env: Mapping[str, str]
) -> subprocess.Popen[bytes]:
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
        )
    finally:
        if not isinstance(log, int):
            log.close()  # the child holds its own descriptor


def _running(process: subprocess.Popen[bytes]) -> bool:
    return process.poll() is None


def reset_moto(endpoint_url: str) -> None:
    """Forget every bucket and object (the whole moto state of that server)."""
    httpx.post(f"{endpoint_url}/moto-api/reset", timeout=10.0).raise_for_status()


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def _once(stop: Callable[[], None]) -> Callable[[], None]:
    done = threading.Event()

    def stop_once() -> None:
        if not done.is_set():
            done.set()
            stop()

    return stop_once


@dataclass(frozen=True)
class S3Error:
    status: int
    code: str
    message: str


class PresignedUrlVerifier:
    """Accepts a request with query-string SigV4 authentication only if S3 would.

    `credentials` maps access key ids to secret keys; `clock` returns epoch seconds.
    """

    ALGORITHM = "AWS4-HMAC-SHA256"
    MAX_EXPIRES = 7 * 24 * 3600  # S3's ceiling for X-Amz-Expires

    def __init__(
        self, credentials: Mapping[str, str], *, clock: Callable[[], float] = time.time
    ) -> None:
        self._credentials = dict(credentials)
        self._clock = clock

    def check(
        self, method: str, host: str, raw_path: str, raw_query: str, headers: Mapping[str, str]
    ) -> S3Error | None:
        """None when the request is authentic and unexpired, else the error S3 would answer."""
        pairs = _query_pairs(raw_query)
        params = dict(pairs)
        required = (
            "X-Amz-Algorithm",
            "X-Amz-Credential",
            "X-Amz-Date",
            "X-Amz-Expires",
            "X-Amz-SignedHeaders",
            "X-Amz-Signature",
        )
        missing = [name for name in required if name not in params]
        if missing or params["X-Amz-Algorithm"] != self.ALGORITHM:
            return S3Error(
                400,
                "AuthorizationQueryParametersError",
                f"missing or wrong: {missing or 'X-Amz-Algorithm'}",
            )
        access_key, _, scope = params["X-Amz-Credential"].partition("/")
        scope_parts = scope.split("/")
        amz_date = params["X-Amz-Date"]
        if (
            len(scope_parts) != 4
            or scope_parts[3] != "aws4_request"
            or scope_parts[0] != amz_date[:8]
        ):
            return S3Error(400, "AuthorizationQueryParametersError", "malformed credential scope")
        try:
            signed_at = calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
            expires = int(params["X-Amz-Expires"])
        except ValueError:
            return S3Error(400, "AuthorizationQueryParametersError", "malformed date or expiry")
        if not 1 <= expires <= self.MAX_EXPIRES:
            return S3Error(400, "AuthorizationQueryParametersError", "X-Amz-Expires out of range")
        secret = self._credentials.get(access_key)
        if secret is None:
            return S3Error(403, "InvalidAccessKeyId", "unknown access key")
        if self._clock() > signed_at + expires:
            return S3Error(403, "AccessDenied", "Request has expired")

        signed_headers = params["X-Amz-SignedHeaders"].split(";")
        lowered = {name.lower(): value for name, value in headers.items()}
        lowered["host"] = host
        if "host" not in signed_headers or any(name not in lowered for name in signed_headers):
            return S3Error(403, "AccessDenied", "a signed header is absent")
        canonical_headers = "".join(
            f"{name}:{' '.join(lowered[name].split())}\n" for name in signed_headers
        )
        canonical_query = "&".join(
            f"{quote(name, safe='')}={quote(value, safe='')}"
            for name, value in sorted(pairs)
            if name != "X-Amz-Signature"
        )
        canonical_request = "\n".join(
            [
                method,
                quote(unquote(raw_path), safe="/"),
                canonical_query,
                canonical_headers,
                params["X-Amz-SignedHeaders"],
                "UNSIGNED-PAYLOAD",
            ]
        )
        string_to_sign = "\n".join(
            [
                self.ALGORITHM,
                amz_date,
                scope,
                hashlib.sha256(canonical_request.encode()).hexdigest(),
            ]
        )
        key = f"AWS4{secret}".encode()
        for part in scope_parts:
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, params["X-Amz-Signature"]):
            return S3Error(
                403, "SignatureDoesNotMatch", "The request signature we calculated does not match"
            )
        return None


def _query_pairs(raw_query: str) -> list[tuple[str, str]]:
    # Not parse_qsl: SigV4 encodes a space as %20, and a literal "+" must stay a "+".
    pairs = []
    for part in raw_query.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((unquote(name), unquote(value)))
    return pairs


@dataclass
class _Fault:
    kind: str  # "fail" or "stall"
    method: str | None
    status: int = 503
    seconds: float = 0.0


ERROR_CODES = {
    500: "InternalError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


class FaultyProxy:
    """An HTTP reverse proxy to `upstream` on its own thread and event loop, so sync and async
    tests, and other processes, can all call through it.

    `fail_next(n, status)` makes the next n requests answer `status` with an S3-style error
    body without reaching upstream; `stall_next(n, seconds)` holds the next n requests before
    forwarding them. Both can be limited to one HTTP method. With a `verifier`, requests that
    carry a presigned query are checked like S3 checks them.
    """

    def __init__(
        self,
        upstream: str,
        *,
        host: str = HOST,
        port: int = 0,
        verifier: PresignedUrlVerifier | None = None,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.verifier = verifier
        self._host = host
        self._port = port
        self._faults: collections.deque[_Fault] = collections.deque()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._closing: asyncio.Event | None = None
        self.url = ""
        self.requests = 0
        self.faults_served = 0
        self.in_flight = 0
        self.max_in_flight = 0

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> str:
        """Start serving; returns the proxy's base URL."""
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="faulty-proxy", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), loop).result(timeout=10)
        return self.url

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._loop = self._thread = None
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()

    def fail_next(self, n: int, status: int = 503, *, method: str | None = None) -> None:
        with self._lock:
            self._faults.extend(_Fault("fail", method, status=status) for _ in range(n))

    def stall_next(self, n: int, seconds: float, *, method: str | None = None) -> None:
        with self._lock:
            self._faults.extend(_Fault("stall", method, seconds=seconds) for _ in range(n))

    def reset(self) -> None:
        """Drop pending faults and zero the counters."""
        with self._lock:
            self._faults.clear()
            self.requests = self.faults_served = self.max_in_flight = 0

    @property
    def pending_faults(self) -> int:
        with self._lock:
            return len(self._faults)

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method is None or fault.method.upper() == method:
                    self._faults.remove(fault)
                    return fault
        return None

    async def _serve(self) -> None:
        self._closing = asyncio.Event()
        # Unlimited connections: a concurrency test must measure the client, not this proxy.
        connector = aiohttp.TCPConnector(limit=0)
        self._session = aiohttp.ClientSession(
            connector=connector, auto_decompress=False, timeout=aiohttp.ClientTimeout(total=60)
        )
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        await web.SockSite(self._runner, sock).start()
        bound_host, bound_port = sock.getsockname()[:2]
        self.url = f"http://{bound_host}:{bound_port}"

    async def _shutdown(self) -> None:
        if self._closing is not None:
            self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._answer(request)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        fault = self._take_fault(request.method)
        if fault is not None and fault.kind == "fail":
            self.faults_served += 1
            return _error_response(
                request,
                S3Error(
                    fault.status, ERROR_CODES.get(fault.status, "InjectedFault"), "injected fault"
                ),
            )
        if fault is not None and fault.kind == "stall":
            assert self._closing is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), fault.seconds)

        path, _, query = request.raw_path.partition("?")
        # A preflight is never signed: S3 answers it from the bucket's CORS rules alone.
        if (
            self.verifier is not None
            and "X-Amz-Signature=" in query
            and request.method != "OPTIONS"
        ):
            error = self.verifier.check(request.method, request.host, path, query, request.headers)
            if error is not None:
                return _error_response(request, error)

        assert self._session is not None
        headers = CIMultiDict(
            (k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP
        )
        async with self._session.request(
            request.method,
            f"{self.upstream}{request.raw_path}",
            headers=headers,
            data=body or None,
            allow_redirects=False,
            # Relay the request as it came: no headers of the proxy's own.
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
        ) as upstream:
            payload = await upstream.read()
            relayed = CIMultiDict(
                (k, v)
                for k, v in upstream.headers.items()
                if k.lower() not in HOP_BY_HOP | {"content-length"}
            )
            if request.method == "HEAD":
                # A HEAD answer has no body but must keep the object's length.
                if "Content-Length" in upstream.headers:
                    relayed["Content-Length"] = upstream.headers["Content-Length"]
                return web.Response(status=upstream.status, headers=relayed)
            return web.Response(status=upstream.status, headers=relayed, body=payload)


def _error_response(request: web.Request, error: S3Error) -> web.Response:
    if request.method == "HEAD":
        return web.Response(status=error.status)
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{error.code}</Code><Message>{escape(error.message)}</Message>"
        "<RequestId>faulty-proxy</RequestId></Error>"
    )
    return web.Response(status=error.status, body=xml.encode(), content_type="application/xml")
