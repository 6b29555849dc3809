"""A drawing's file name comes from its prompt, in any script: the download's Content-Disposition
carries it as RFC 8187 UTF-8 (`filename*`) beside a plain ASCII `filename`, the same whoever
serves the file (the API's /api/files route, or S3 through presigned response overrides)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import httpx
import pytest

from tests.support.live import ApiClient, LiveServer

PROMPT = "Café ☕ au lait"


def expected(disposition: str, generation_id: str) -> str:
    name = f"café-au-lait-{generation_id[:8]}.svg"
    return (
        f'{disposition}; filename="cafe-au-lait-{generation_id[:8]}.svg"; '
        f"filename*=UTF-8''{quote(name, safe='')}"
    )


async def _generated(client: ApiClient) -> str:
    await client.register("cafe@example.com")
    job = (await client.post("/api/svg/generate-svg", {"prompt": PROMPT})).json()["job"]
    done = await client.wait_job(job["id"])
    assert done["job"]["status"] == "SUCCEEDED", done
    return str(done["job"]["generationId"])


async def _check_downloads(client: ApiClient, generation_id: str) -> None:
    url = (await client.get(f"/api/svg/{generation_id}/download")).json()["downloadUrl"]
    listed = (await client.get("/api/user/generations")).json()["generations"]
    async with httpx.AsyncClient() as anonymous:  # the signed URL is the credential
        download = await anonymous.get(url)
        assert download.status_code == 200, download.text
        assert download.headers["content-disposition"] == expected("attachment", generation_id)
        image = await anonymous.get(listed[0]["svgUrl"])
        assert image.status_code == 200, image.text
        assert image.headers["content-disposition"] == expected("inline", generation_id)


async def test_a_non_ascii_prompt_names_the_downloaded_file(client: ApiClient) -> None:
    """Local disk (embedded) or S3 (real), both served by the API's signed /api/files URLs."""
    await _check_downloads(client, await _generated(client))


async def test_s3_presigned_urls_name_the_file_the_same_way(
    stack_kind: str, server_factory: Callable[..., LiveServer]
) -> None:
    if stack_kind != "real":
        pytest.skip("presigned S3 URLs need the real stack's S3 (moto's server)")
    server = server_factory(s3_direct_urls=True)
    client = ApiClient(server.url)
    try:
        generation_id = await _generated(client)
        url = (await client.get(f"/api/svg/{generation_id}/download")).json()["downloadUrl"]
        assert "X-Amz-Signature=" in url  # S3's own URL, not the API's
        await _check_downloads(client, generation_id)
    finally:
        await client.aclose()
