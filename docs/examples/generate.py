#!/usr/bin/env python3
"""Generate an SVG with the ChatSVG public API, using only the Python standard library.

    CHATSVG_API_KEY=sk_live_... python generate.py "a red fox in a forest" --style flat -o fox.svg

Create the key on the web app's API-keys page (or the playground's "API keys" panel). A test key
(`sk_test_...`) works the same way, runs on the offline model and spends no credits.

Environment: CHATSVG_API_KEY (required), CHATSVG_API_URL (default http://127.0.0.1:8000).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from typing import Any


def call(method: str, url: str, key: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """One request; a problem+json answer is raised as SystemExit with its errorCode."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - http(s) only, checked in main
    request.add_header("X-API-Key", key)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return json.load(response)  # type: ignore[no-any-return]
    except urllib.error.HTTPError as error:
        try:
            problem = json.load(error)
        except ValueError:
            problem = {}
        code = problem.get("errorCode", "HTTP_ERROR")
        detail = problem.get("detail", error.reason)
        retry = error.headers.get("Retry-After")
        hint = f" (retry after {retry} s)" if retry else ""
        raise SystemExit(f"{error.code} {code}: {detail}{hint}") from None


def generate(base: str, key: str, prompt: str, style: str | None, timeout: float) -> dict[str, Any]:
    body: dict[str, Any] = {"prompt": prompt, "idempotencyKey": str(uuid.uuid4())}
    if style:
        body["style"] = style
    # The idempotency key makes a retry of this request (after a timeout, say) safe: the same
    # key and body answer the same job, charged once.
    submitted = call("POST", f"{base}/v1/svg/generate", key, body)
    job_id = submitted["jobId"]
    print(f"job {job_id}: {submitted['status']}", file=sys.stderr)
    deadline = time.monotonic() + timeout
    delay = 0.5
    while time.monotonic() < deadline:
        job = call("GET", f"{base}/v1/svg/job/{job_id}", key)["job"]
        if job["status"] in ("SUCCEEDED", "FAILED"):
            return job
        time.sleep(delay)
        delay = min(delay * 1.5, 5.0)
    raise SystemExit(f"job {job_id} did not finish within {timeout:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("prompt", help="what to draw")
    parser.add_argument("--style", help="outline, filled, minimal, flat, line-art, ...")
    parser.add_argument("-o", "--output", help="write the SVG here (default: standard output)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait")
    args = parser.parse_args(argv)

    key = os.environ.get("CHATSVG_API_KEY")
    if not key:
        parser.error("set CHATSVG_API_KEY to your API key")
    base = os.environ.get("CHATSVG_API_URL", "http://127.0.0.1:8000").rstrip("/")
    if not base.startswith(("http://", "https://")):
        parser.error("CHATSVG_API_URL must be an http:// or https:// URL")

    job = generate(base, key, args.prompt, args.style, args.timeout)
    if job["status"] == "FAILED":
        print(f"failed: {job['errorCode']}: {job['errorMessage']}", file=sys.stderr)
        return 1
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(job["svg"])
        print(f"wrote {args.output} (download link, valid minutes: {job['url']})", file=sys.stderr)
    else:
        sys.stdout.write(job["svg"] + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
