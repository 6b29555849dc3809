"""docs/examples/generate.py, run as a developer would run it, against a live server."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.support.live import ApiClient, LiveServer

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "generate.py"


def _run(server: LiveServer, key: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CHATSVG_API_KEY": key, "CHATSVG_API_URL": server.url}
    return subprocess.run(
        [sys.executable, str(EXAMPLE), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_the_example_generates_an_svg_file(
    server: LiveServer, client_factory: Callable[..., ApiClient], tmp_path: Path
) -> None:
    client = client_factory()
    await client.load_page()
    await client.register("example@example.com")
    created = await client.post("/api/keys", {"name": "example"})
    key = created.json()["key"]
    out = tmp_path / "fox.svg"
    done = await asyncio.to_thread(
        _run, server, key, "a red fox", "--style", "flat", "-o", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert out.read_text().startswith("<svg")
    assert "wrote" in done.stderr

    refused = await asyncio.to_thread(_run, server, "sk_live_" + "x" * 43, "a fox")
    assert refused.returncode != 0
    assert "401 API_KEY_INVALID" in refused.stderr
