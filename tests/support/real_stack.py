"""The production adapters, running for real on this machine: Postgres, Redis, moto's S3 server,
the fake OpenAI server, and `chatsvg worker` as separate OS processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from chatsvg.entrypoints.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REDIS_DB_URL = os.environ.get("CHATSVG_TEST_REDIS", "redis://127.0.0.1:6379/14")
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
SECRET = "real-stack-test-secret-" + "x" * 24


@dataclass
class RealServices:
    postgres_url: str
    redis_url: str
    s3_endpoint: str
    openai_base_url: str

    def settings_values(self, **overrides: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "mode": "production",
            "secret_key": SECRET,
            "cookie_secure": False,  # plain http on 127.0.0.1 in tests
            "database_url": self.postgres_url,
            "redis_url": self.redis_url,
            "s3_bucket": f"chatsvg-{uuid.uuid4().hex[:12]}",
            "s3_endpoint_url": self.s3_endpoint,
            "s3_create_bucket": True,
            "openai_api_key": "sk-test",
            "openai_base_url": self.openai_base_url,
            "web_origins": ("http://localhost:5173", "http://127.0.0.1:5173"),
            "playground": False,
            "metrics_port": 0,
            # Every process computes the database-wide metrics figures in turn; keep them fresh.
            "metrics_interval_seconds": 0.5,
            "plan_quotas": False,  # load and chaos runs submit more than a plan's window allows
        }
        values.update(overrides)
        return values


def flush_redis(url: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes another process load the same settings."""
    env: dict[str, str] = {}
    for field in Settings.__struct_fields__:
        value = getattr(settings, field)
        if value is None:
            continue
        if isinstance(value, tuple):
            value = ",".join(value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        env[f"CHATSVG_{field.upper()}"] = str(value)
    return env


class WorkerProcess:
    def __init__(
        self, settings: Settings, *, threads: int = 16, log_path: Path | None = None
    ) -> None:
        env = {
            **os.environ,
            **AWS_ENV,
            **settings_env(settings),
            "PYTHONPATH": str(PROJECT_ROOT / "src"),
        }
        self.log_path = log_path
        log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "chatsvg.entrypoints.cli", "worker", "--threads", str(threads)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if "worker ready" in line:
                return
            if not line and self.process.poll() is not None:
                break
        self.stop()
        raise RuntimeError(f"worker did not start; see {log_path}")

    def stop(self, timeout: float = 30) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(5)
