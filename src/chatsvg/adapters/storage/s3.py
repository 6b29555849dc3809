"""Object storage on S3 or any S3-compatible store, with presigned, expiring download URLs.

What S3 can put on a download, and what it cannot:

- S3 serves an object with the system metadata stored at upload (`Content-Type`,
  `Content-Disposition`, `Cache-Control`, ...) and lets a presigned GET override exactly six of
  them: `response-content-type`, `-content-disposition`, `-cache-control`, `-content-language`,
  `-content-encoding`, `-expires`. The overrides are part of the signed query, so a holder of
  the URL cannot turn an attachment into an inline document without breaking the signature.
- S3 cannot send arbitrary response headers: `X-Content-Type-Options: nosniff` and
  `Content-Security-Policy` are not possible from the bucket itself (user metadata comes back
  as `x-amz-meta-*`, which browsers ignore). What stands in for them here: the stored and the
  overridden type is exactly `image/svg+xml`, downloads are `attachment` (the browser saves
  the file instead of rendering it on the storage origin), the SVG was sanitized before upload,
  and the storage origin is not the app's origin, so a document rendered there has no access
  to the app's cookies or storage. Deployments that need the two headers literally put a CDN
  response-headers policy (e.g. CloudFront) in front of the bucket; `public_endpoint_url` is
  the place to point browsers at such a host.
- Cross-origin `fetch` of a URL works through the bucket CORS configuration that
  `ensure_bucket` writes for the web origins.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import boto3
from botocore import handlers
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError

from chatsvg.adapters.storage.content_disposition import content_disposition
from chatsvg.adapters.storage.s3_put import SignedPuts

SVG_CONTENT_TYPE = "image/svg+xml"
# The stored fallback, seen only by a request without overrides: browsers get their caching
# rules from the presigned URL, which knows how long the link is valid.
STORED_CACHE_CONTROL = "private, no-cache"

T = TypeVar("T")


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


# Building a client reads S3's service model from disk, which is slow (docs/performance.md);
# clients made from one session share the parsed model. Making clients is not thread-safe, using
# them is.
_session_lock = threading.Lock()
_session: boto3.session.Session | None = None


def _make_client(
    endpoint_url: str | None,
    *,
    pool: int,
    region_name: str,
    aws_access_key_id: str | None,
    aws_secret_access_key: str | None,
    connect_timeout: float,
    read_timeout: float,
    max_attempts: int,
) -> BaseClient:
    global _session
    options: dict[str, Any] = {}
    if endpoint_url:
        # S3-compatible stores rarely have wildcard DNS for virtual-hosted buckets, and many
        # reject the checksum headers newer botocore sends by default.
        options["s3"] = {"addressing_style": "path"}
        options["request_checksum_calculation"] = "when_required"
        options["response_checksum_validation"] = "when_required"
    config = Config(
        signature_version="s3v4",
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        max_pool_connections=pool,
        tcp_keepalive=True,
        user_agent_extra="chatsvg",
        **options,
    )
    with _session_lock:
        if _session is None:
            _session = boto3.session.Session()
        return _session.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region_name,
            aws_access_key_id=aws_access_key_id,
            aws_secret_access_key=aws_secret_access_key,
            config=config,
        )


class S3ObjectStorage:
    """Satisfies `ObjectStorage`. boto3 is blocking, so every call runs on the adapter's own
    thread pool, sized like the connection pool: the default `to_thread` pool holds only
    cpu+4 threads and is shared with password hashing, which would cap S3 concurrency and let
    slow storage starve logins."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        public_endpoint_url: str | None = None,
        web_origins: Sequence[str] = (),
        create_bucket: bool = False,
        max_pool_connections: int = 50,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        max_attempts: int = 3,
    ) -> None:
        self.bucket = bucket
        self.region = region
        self.web_origins = list(web_origins)
        self.create_bucket = create_bucket

        def client(endpoint: str | None, pool: int) -> BaseClient:
            return _make_client(
                endpoint,
                pool=pool,
                region_name=region,
                aws_access_key_id=access_key_id,
                aws_secret_access_key=secret_access_key,
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                max_attempts=max_attempts,
            )

        self._client = client(endpoint_url, max_pool_connections)
        # botocore sends every PutObject with `Expect: 100-continue` and holds the body back until
        # the server answers "100 Continue": one more round trip per upload, worth it for large
        # bodies that a refusal would waste, not for an SVG of a few kilobytes.
        self._client.meta.events.unregister("before-call.s3", handlers.add_expect_header)
        # Signatures cover the Host header, so a URL meant for browsers must be signed for the
        # host the browsers will call, which may differ from the one the API reaches (a
        # container hostname, a private endpoint).
        self._presigner = client(public_endpoint_url, 1) if public_endpoint_url else self._client
        self._executor = ThreadPoolExecutor(
            max_workers=max_pool_connections, thread_name_prefix="s3"
        )
        # Puts (a worker's one call per drawing) skip boto3: signed here, sent on the loop.
        self._puts = SignedPuts(
            self._client,
            bucket,
            region=region,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_attempts=max_attempts,
            max_connections=max_pool_connections,
        )

    async def _run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        # Carry the caller's context (log bindings) into the thread, as to_thread does.
        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        return await loop.run_in_executor(self._executor, call)

    async def put(self, key: str, data: bytes, content_type: str = SVG_CONTENT_TYPE) -> None:
        if self._puts.available():
            headers = {
                "Content-Type": content_type,
                "Cache-Control": STORED_CACHE_CONTROL,
                # Stored as well as overridden: a URL signed without overrides still downloads
                # instead of rendering on the storage origin.
                "Content-Disposition": "attachment",
            }
            if self._puts.needs_refresh_off_loop():
                request = await self._run(self._puts.signed_request, key, data, headers)
            else:
                request = self._puts.signed_request(key, data, headers)
            await self._puts.put(request)
            return
        await self._run(
            self._client.put_object,
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            CacheControl=STORED_CACHE_CONTROL,
            # Stored as well as overridden: a URL signed without overrides still downloads
            # instead of rendering on the storage origin.
            ContentDisposition="attachment",
        )

    async def get(self, key: str) -> bytes | None:
        def read() -> bytes | None:
            try:
                response = self._client.get_object(Bucket=self.bucket, Key=key)
            except ClientError as error:
                # Only a missing key is an answer; a missing bucket or a denied read is a fault.
                if _error_code(error) == "NoSuchKey":
                    return None
                raise
            body: bytes = response["Body"].read()
            return body

        return await self._run(read)

    async def delete(self, key: str) -> None:
        def remove() -> None:
            try:
                self._client.delete_object(Bucket=self.bucket, Key=key)
            except ClientError as error:
                # S3 itself answers 204 for a missing key; some compatible stores answer 404.
                if _error_code(error) != "NoSuchKey":
                    raise

        await self._run(remove)

    async def keys(self, prefix: str = "generations/") -> list[str]:
        """Every stored key under `prefix` (for `chatsvg admin gc`)."""

        def list_all() -> list[str]:
            paginator = self._client.get_paginator("list_objects_v2")
            return [
                item["Key"]
                for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix)
                for item in page.get("Contents", [])
            ]

        return await self._run(list_all)

    async def exists(self, key: str) -> bool:
        def head() -> bool:
            try:
                self._client.head_object(Bucket=self.bucket, Key=key)
            except ClientError as error:
                # HEAD has no body, so a 404 cannot tell a missing key from a missing bucket.
                # On AWS a missing key is 403 unless the role may s3:ListBucket: grant it.
                if _status(error) == 404:
                    return False
                raise
            return True

        return await self._run(head)

    async def signed_url(
        self, key: str, *, expires_in: int, filename: str, attachment: bool = True
    ) -> str:
        params = {
            "Bucket": self.bucket,
            "Key": key,
            "ResponseContentType": SVG_CONTENT_TYPE,
            "ResponseContentDisposition": content_disposition(filename, attachment=attachment),
            # Private, so no shared cache keeps a private drawing; no longer than the link
            # itself is valid.
            "ResponseCacheControl": f"private, max-age={expires_in}",
        }
        # Presigning is local computation, but refreshable credentials (assumed roles, IMDS)
        # may fetch over the network on the way, so it stays off the event loop too.
        url: str = await self._run(
            self._presigner.generate_presigned_url,
            "get_object",
            Params=params,
            ExpiresIn=expires_in,
        )
        return url

    async def ping(self) -> None:
        await self._run(self._client.head_bucket, Bucket=self.bucket)

    async def ensure_bucket(self) -> None:
        """Create the bucket when allowed and missing, and give it the CORS rules that let the web
        origins fetch downloads without credentials. Replaces any CORS rules already there."""

        def ensure() -> None:
            try:
                self._client.head_bucket(Bucket=self.bucket)
            except ClientError as error:
                if _status(error) != 404 or not self.create_bucket:
                    raise
                self._create()
            if self.web_origins:
                self._client.put_bucket_cors(
                    Bucket=self.bucket,
                    CORSConfiguration={
                        "CORSRules": [
                            {
                                "AllowedOrigins": self.web_origins,
                                "AllowedMethods": ["GET", "HEAD"],
                                "AllowedHeaders": ["*"],
                                # Not CORS-safelisted: without this the web app cannot read
                                # the filename from a fetched download.
                                "ExposeHeaders": ["Content-Disposition", "Content-Length", "ETag"],
                                "MaxAgeSeconds": 3600,
                            }
                        ]
                    },
                )

        await self._run(ensure)

    def _create(self) -> None:
        kwargs: dict[str, Any] = {"Bucket": self.bucket}
        # us-east-1 is the one region that rejects an explicit location constraint.
        if self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            self._client.create_bucket(**kwargs)
        except ClientError as error:
            # Several processes start at once; whoever loses the race finds the bucket there.
            if _error_code(error) != "BucketAlreadyOwnedByYou":
                raise

    async def aclose(self) -> None:
        """Close the puts' HTTP session (on the loop that made it), then the rest."""
        await self._puts.aclose()
        self.close()

    def close(self) -> None:
        self._puts.close_now()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._client.close()
        if self._presigner is not self._client:
            self._presigner.close()
