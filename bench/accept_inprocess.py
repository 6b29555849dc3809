"""The accept path's cost in process: no HTTP server, no load generator, nothing else on the loop.

    .venv/bin/python bench/accept_inprocess.py [--requests 2000] [--rounds 3] [--routes ...]
    .venv/bin/python bench/accept_inprocess.py --callgrind --requests 100 --rounds 2 [--ab B.py]

The production app (`create_app` on production settings: Postgres, Redis, moto's S3) is driven by
direct ASGI calls, one request at a time, with 50 users' bearer tokens; so is
`bench/bare_app.py`'s one-SELECT route. The figure is this process's CPU per request
(`time.process_time`), median of the rounds, so the ratio leaves out uvicorn and httptools, which
both sides pay alike (about 0.4 ms a request on this machine: bench/accept_path.py measures with
them).

CPU time on this shared 2-core machine moves by ±15 % between rounds of the same code;
`--callgrind` counts instructions instead (valgrind, start-up not counted), which repeat to
within 1 % and are what the seventh round of docs/performance.md compared changes by. `--ab
FILE` loads a module with `apply()` and `revert()` and measures each route without it (A) and
with it (B) in turn, in the same process. `--profile FILE` writes a cProfile of generate-svg
(`--profile-route current_user` for that route).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import glob
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import emit_result, print_table, register_users, running_stack

UNDER_CALLGRIND = "CHATSVG_BENCH_UNDER_CALLGRIND"


def _scope(method: str, path: str, token: str, body: bytes) -> dict[str, Any]:
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"user-agent", b"chatsvg-bench"),
        (b"authorization", b"Bearer " + token.encode()),
    ]
    if body:
        headers += [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def call(app: Any, method: str, path: str, token: str, body: bytes = b"") -> int:
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(_scope(method, path, token, body), receive, send)
    return status


async def lifespan(app: Any) -> tuple[asyncio.Task[None], asyncio.Queue[dict[str, Any]]]:
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started = asyncio.Event()

    async def receive() -> dict[str, Any]:
        return await inbox.get()

    async def send(message: dict[str, Any]) -> None:
        if message["type"].startswith("lifespan.startup"):
            started.set()
            if message["type"].endswith("failed"):
                raise RuntimeError(message.get("message"))

    task = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    )
    await inbox.put({"type": "lifespan.startup"})
    await started.wait()
    return task, inbox


async def measure(
    app: Any,
    method: str,
    path: str,
    tokens: list[str],
    count: int,
    body: bytes,
    profile: cProfile.Profile | None = None,
) -> float:
    for i in range(min(200, count)):  # warm-up: pools, caches, statement caches
        assert await call(app, method, path, tokens[i % len(tokens)], body) in (200, 201, 202)
    grind = _callgrind_dump() if os.environ.get(UNDER_CALLGRIND) else None
    started = time.process_time()
    if profile is not None:
        profile.enable()
    for i in range(count):
        status = await call(app, method, path, tokens[i % len(tokens)], body)
        if status not in (200, 201, 202):
            raise RuntimeError(f"{method} {path}: {status}")
    if profile is not None:
        profile.disable()
    if grind is not None:
        # Instructions per request, in millions, read from the dump of this loop alone.
        return _callgrind_dump() / count / 1e6
    return 1000 * (time.process_time() - started) / count


def _callgrind_dump() -> int:
    """Under callgrind: dump (and so reset) its counters; the instructions counted since the last
    dump."""
    before = set(glob.glob(f"callgrind.out.{os.getpid()}*"))
    subprocess.run(["callgrind_control", "-d", str(os.getpid())], check=True, capture_output=True)
    new = sorted(set(glob.glob(f"callgrind.out.{os.getpid()}*")) - before, key=os.path.getmtime)
    with open(new[-1]) as dump:
        for line in dump:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    return 0


async def run(args: argparse.Namespace, stack: Any, tokens: list[str]) -> dict[str, float]:
    if True:
        import bare_app

        from chatsvg.entrypoints.http.app import create_app
        from chatsvg.entrypoints.logs import configure_logging

        app = create_app(stack.settings)
        body = json.dumps({"prompt": "a lighthouse at dusk", "style": "flat"}).encode()
        task, inbox = await lifespan(app)
        bare = bare_app.make_app()
        bare_task, bare_inbox = await lifespan(bare)
        # As `chatsvg serve` does (stderr goes to a file); after the bare app, whose default
        # logging config would otherwise put its queue handler on the root logger.
        configure_logging(stack.settings)
        samples: dict[str, list[float]] = {}
        profile = cProfile.Profile(time.process_time) if args.profile else None
        routes = {
            "bare": (bare, "POST", "/bare/select", b""),
            "generate": (app, "POST", "/api/svg/generate-svg", body),
            "current_user": (app, "GET", "/api/auth/current-user", b""),
        }
        variant = _variant(args.ab) if args.ab else None
        if os.environ.get(UNDER_CALLGRIND):  # start-up was not counted: count from here
            subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True)
        for round_ in range(args.rounds):
            for toggle in [False, True] if variant else [False]:
                if variant:
                    (variant.apply if toggle else variant.revert)()
                for name in args.routes.split(","):
                    target, method, path, payload = routes[name]
                    cpu = await measure(
                        target,
                        method,
                        path,
                        tokens,
                        args.requests,
                        payload,
                        profile if round_ == 0 and name == args.profile_route else None,
                    )
                    label = f"{name} (B)" if toggle else name
                    samples.setdefault(label, []).append(cpu)
        figures = {label: statistics.median(values) for label, values in samples.items()}
        print("every round:", {k: [round(v, 3) for v in values] for k, values in samples.items()})
        if profile is not None:
            profile.dump_stats(args.profile)
        await inbox.put({"type": "lifespan.shutdown"})
        await bare_inbox.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(asyncio.gather(task, bare_task, return_exceptions=True), 30)
    return figures


def _variant(path: str) -> Any:
    spec = importlib.util.spec_from_file_location("variant_b", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--routes", default="bare,generate,current_user")
    parser.add_argument("--profile", default="", help="write a cProfile of one route here")
    parser.add_argument("--profile-route", default="generate", help="the route --profile covers")
    parser.add_argument(
        "--ab", default="", help="a Python file with apply() and revert(): B measured after A"
    )
    parser.add_argument(
        "--callgrind",
        action="store_true",
        help="count instructions under valgrind instead of CPU time (slow, repeatable)",
    )
    args = parser.parse_args()
    if args.callgrind and not os.environ.get(UNDER_CALLGRIND):
        work = Path(tempfile.mkdtemp(prefix="chatsvg-bench-callgrind-"))
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            sys.executable,
            str(Path(__file__).resolve()),
            *sys.argv[1:],
        ]
        print(f"(callgrind dumps in {work})", flush=True)
        raise SystemExit(
            subprocess.run(command, cwd=work, env={**os.environ, UNDER_CALLGRIND: "1"}).returncode
        )
    import uvloop

    with running_stack("inprocess", model_latency=2.0) as stack:
        api = stack.api()
        tokens = asyncio.run(register_users(api.url, 50))
        api.stop()
        os.environ.update(stack.env)
        with open(stack.work / "inprocess.log", "w") as log:  # the app's log lines go here
            saved = os.dup(2)
            os.dup2(log.fileno(), 2)
            try:
                figures = uvloop.run(run(args, stack, tokens))
            finally:
                os.dup2(saved, 2)
    bare = figures.get("bare", 1.0)
    unit = "M instructions/request" if os.environ.get(UNDER_CALLGRIND) else "CPU ms/request"
    print_table(
        f"In process, one request at a time, median of {args.rounds} rounds of {args.requests}",
        ["route", unit, "x bare"],
        [[name, f"{value:.3f}", f"{value / bare:.2f}"] for name, value in figures.items()],
    )
    emit_result("accept_inprocess", {k: v for k, v in figures.items()})


if __name__ == "__main__":
    main()
