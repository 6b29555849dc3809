"""Operations: metrics, request ids, structured logs, and the admin CLI."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.faults.test_fault_injection import drop_postgres_connections
from tests.support.live import ApiClient, LiveServer, free_port
from tests.support.real_stack import RealServices

ROOT = Path(__file__).resolve().parents[2]


def serve_process(env: dict[str, str], port: int, stderr: Any) -> subprocess.Popen[bytes]:
    """`chatsvg serve` as its own OS process, returned once /health/live answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "chatsvg.entrypoints.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/live").status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("chatsvg serve did not start")


def register_and_submit(
    http: httpx.Client, email: str, prompt: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    csrf = http.get("/api/csrf").json()["csrfToken"]
    h = {"X-CSRF-Token": csrf}
    http.post(
        "/api/auth/register",
        json={"email": email, "password": "correct horse", "name": "N", "agreedToTerms": True},
        headers=h,
    )
    job: dict[str, Any] = http.post(
        "/api/svg/generate-svg", json={"prompt": prompt}, headers={**h, **(headers or {})}
    ).json()["job"]
    return job


async def wait_for_metric(client: ApiClient, line: str, timeout: float = 10) -> str:
    """Scrape until `line` appears (the database-wide figures are computed on an interval)."""
    deadline = time.monotonic() + timeout
    while True:
        text = (await client.get("/metrics")).text
        if line in text or time.monotonic() > deadline:
            return text
        await asyncio.sleep(0.1)


async def test_metrics_report_requests_jobs_credits_and_model_calls(
    server_factory: Callable[..., LiveServer],
) -> None:
    server = server_factory(metrics_interval_seconds=0.2)
    client = ApiClient(server.url)
    try:
        await client.load_page()
        await client.register("metrics@example.com")
        job = (await client.post("/api/svg/generate-svg", {"prompt": "measured"})).json()["job"]
        await client.wait_job(job["id"])
        text = await wait_for_metric(client, 'chatsvg_jobs{status="SUCCEEDED"} 1.0')
    finally:
        await client.aclose()
    assert (
        'chatsvg_http_request_duration_seconds_count{method="POST",route="/api/svg/generate-svg",status="202"}'
        in text
    )
    routes = set(re.findall(r'route="([^"]+)"', text))
    assert "/api/svg/generation-jobs/{job_id}" in routes, routes  # templates, not raw paths
    assert not any(job["id"] in r for r in routes)
    assert 'chatsvg_jobs{status="SUCCEEDED"} 1.0' in text
    assert 'chatsvg_credits_total{reason="GENERATION_CHARGE"} 1.0' in text
    assert "chatsvg_queue_depth 0.0" in text


async def test_every_response_carries_a_request_id(client: ApiClient) -> None:
    fresh = await client.get("/api/csrf")
    assert len(fresh.headers["x-request-id"]) >= 8
    echoed = await client.get("/api/csrf", headers={"X-Request-ID": "trace-abc-12345"})
    assert echoed.headers["x-request-id"] == "trace-abc-12345"
    hostile = await client.get("/api/csrf", headers={"X-Request-ID": "bad id; <script>"})
    assert hostile.headers["x-request-id"] != "bad id; <script>"


def test_json_logs_correlate_requests_and_jobs(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "CHATSVG_DATA_DIR": str(tmp_path),
        "CHATSVG_LOG_JSON": "true",
        "CHATSVG_ARGON2_TIME_COST": "1",
        "CHATSVG_ARGON2_MEMORY_KIB": "1024",
    }
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        process = serve_process(env, port, log)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
                job = register_and_submit(
                    http, "log@example.com", "logged", {"X-Request-ID": "req-correlate-1"}
                )
                time.sleep(1.0)
        finally:
            process.terminate()
            process.wait(20)
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    requests = [entry for entry in lines if entry.get("event") == "request"]
    assert any(
        e.get("request_id") == "req-correlate-1" and e.get("route") == "/api/svg/generate-svg"
        for e in requests
    )
    assert all(
        {"timestamp", "level", "request_id", "status", "duration_ms"} <= set(e) for e in requests
    )
    assert any(e.get("event") == "job succeeded" and e.get("job_id") == job["id"] for e in lines)


def test_admin_cli_grants_credits_lists_stuck_jobs_and_revokes_sessions(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "CHATSVG_DATA_DIR": str(tmp_path),
        "CHATSVG_ARGON2_TIME_COST": "1",
        "CHATSVG_ARGON2_MEMORY_KIB": "1024",
    }

    def chatsvg(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "chatsvg.entrypoints.cli", *args],
            cwd=ROOT,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert chatsvg("migrate").returncode == 0
    created = chatsvg(
        "admin",
        "create-user",
        "--email",
        "op@example.com",
        "--password-stdin",
        "--name",
        "Op",
        stdin="correct horse\n",
    )
    assert created.returncode == 0, created.stdout + created.stderr
    granted = chatsvg("admin", "grant-credits", "--email", "op@example.com", "5")
    assert "balance 15" in granted.stdout
    too_much = chatsvg("admin", "revoke-credits", "--email", "op@example.com", "50")
    assert too_much.returncode == 1 and "below zero" in too_much.stderr
    revoked = chatsvg("admin", "revoke-credits", "--email", "op@example.com", "3")
    assert "balance 12" in revoked.stdout
    assert "0 stuck job(s)" in chatsvg("admin", "stuck-jobs").stdout
    assert (
        "revoked 0 session(s)"
        in chatsvg("admin", "revoke-sessions", "--email", "op@example.com").stdout
    )
    assert "0 orphaned artifact(s)" in chatsvg("admin", "gc").stdout
    unknown = chatsvg("admin", "grant-credits", "--email", "nobody@example.com", "1")
    assert unknown.returncode == 1


def test_the_metrics_named_in_the_deploy_docs_exist() -> None:
    from chatsvg.entrypoints import worker  # noqa: F401  (registers the worker's own metrics)
    from chatsvg.entrypoints.observability import ClusterSnapshot, render_metrics

    docs = (ROOT / "docs" / "deploy.md").read_text()
    section = docs[docs.index("## Logs and metrics") :]
    section = section[: section.index("\n## ", 5)]
    named = set(re.findall(r"`(chatsvg_[a-z_]+)`", section))
    assert len(named) >= 7
    body, _ = render_metrics(ClusterSnapshot(jobs={"QUEUED": 1}, credits={}, queue_depth=1))
    exported = set(re.findall(r"^# TYPE (\S+) ", body.decode(), re.M))
    # prometheus_client reports counters without their _total suffix.
    exported |= {f"{name}_total" for name in exported}
    assert named <= exported, named - exported


def test_sigterm_lets_the_running_job_and_request_finish(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "CHATSVG_DATA_DIR": str(tmp_path),
        "CHATSVG_OFFLINE_DELAY_SECONDS": "1.5",
        "CHATSVG_ARGON2_TIME_COST": "1",
        "CHATSVG_ARGON2_MEMORY_KIB": "1024",
    }
    process = serve_process(env, port, subprocess.DEVNULL)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
            job = register_and_submit(http, "term@example.com", "finish me")
            time.sleep(0.3)  # the embedded worker has picked it up
            process.send_signal(signal.SIGTERM)
            # uvicorn re-raises the captured SIGTERM after its graceful shutdown, hence -15.
            assert process.wait(30) in (0, -signal.SIGTERM)
    finally:
        if process.poll() is None:
            process.kill()
    import sqlite3

    with sqlite3.connect(tmp_path / "chatsvg.db") as db:
        status, charged = db.execute(
            "SELECT status, charged FROM generation_jobs WHERE id = ?", (job["id"],)
        ).fetchone()
    assert status == "SUCCEEDED" and charged == 1


def test_the_sanitize_command_filters_stdin_to_stdout(tmp_path: Path) -> None:
    hostile = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4" onload="alert(1)"><script>alert(2)</script><rect width="4" height="4"/></svg>'
    run = subprocess.run(
        [sys.executable, "-m", "chatsvg.entrypoints.cli", "sanitize"],
        input=hostile,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0 and "<rect" in run.stdout
    assert "script" not in run.stdout and "onload" not in run.stdout
    source = tmp_path / "in.svg"
    source.write_text("this is not an svg")
    refused = subprocess.run(
        [sys.executable, "-m", "chatsvg.entrypoints.cli", "sanitize", str(source)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2 and "rejected" in refused.stderr


@pytest.mark.real
async def test_a_dropped_database_connection_is_a_503_then_the_api_recovers(
    real_services: RealServices, server_factory: Callable[..., LiveServer], stack_kind: str
) -> None:
    if stack_kind != "real":
        pytest.skip("the embedded stack has no database server to drop")
    server = server_factory(worker=False, db_ping_idle_seconds=3600)
    client = ApiClient(server.url)
    try:
        await client.register("dropped@example.com")
        assert (await client.get("/api/user/generations")).status_code == 200
        dropped = await drop_postgres_connections(real_services.postgres_url)
        assert dropped >= 1
        answers = [(await client.get("/api/user/generations")) for _ in range(3)]
        # The API's connections were in use a moment ago, so none is pinged: the first request
        # meets a dead one. It is a retryable 503, never a 500, and the pool replaces the rest.
        assert [r.status_code for r in answers] == [503, 200, 200]
        failed = answers[0]
        assert failed.headers["content-type"].startswith("application/problem+json")
        assert failed.json()["errorCode"] == "SERVICE_UNAVAILABLE"
        assert failed.headers["retry-after"] == "1"
    finally:
        await client.aclose()
