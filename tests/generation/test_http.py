"""Variants and refinement over real HTTP, on the embedded (local mode) server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import local_settings
from tests.e2e.test_http_contract import assert_problem
from tests.support.live import ApiClient, LiveServer, free_port, start_server


@pytest.fixture
def server(tmp_path: Any) -> Iterator[LiveServer]:
    port = free_port()
    live = start_server(local_settings(tmp_path, public_url=f"http://127.0.0.1:{port}"), port)
    yield live
    live.stop()


@pytest.fixture
async def clients(server: LiveServer) -> AsyncIterator[tuple[ApiClient, ApiClient]]:
    ada, eve = ApiClient(server.url), ApiClient(server.url)
    await ada.register("ada@example.com")
    await eve.register("eve@example.com")
    yield ada, eve
    await ada.aclose()
    await eve.aclose()


async def test_n_drawings_in_one_job_listed_with_their_image_urls(
    server: LiveServer, clients: tuple[ApiClient, ApiClient]
) -> None:
    ada, _ = clients
    submit = await ada.post("/api/svg/generate-svg", {"prompt": "a fox and a moon", "n": 3})
    assert submit.status_code == 202, submit.text
    job = submit.json()["job"]
    assert job["generations"] == [] and job["generationId"] is None
    done = await ada.wait_job(job["id"])
    assert done["credits"] == 7
    answer = done["job"]
    assert answer["status"] == "SUCCEEDED"
    links = answer["generations"]
    assert (
        len(links) == 3 and links[0]["id"] == answer["generationId"] == answer["generation"]["id"]
    )
    assert len({link["id"] for link in links}) == 3
    for link in links:
        assert link["svgUrl"] == f"{server.url}/api/svg/{link['id']}/image"
        image = await ada.get(link["svgUrl"])
        assert image.status_code == 302
        async with httpx.AsyncClient() as anonymous:
            file = await anonymous.get(image.headers["location"])
        assert file.status_code == 200 and file.text.startswith("<svg")
    listed = (await ada.get("/api/svg/generation-jobs")).json()["jobs"]
    assert listed[0]["generations"] == links
    ledger = (await ada.get("/api/user/credits/ledger")).json()["items"]
    assert [(i["delta"], i["reason"]) for i in ledger if i["jobId"] == job["id"]] == [
        (-3, "GENERATION_CHARGE")
    ]


@pytest.mark.parametrize("n", [0, 5, "two", 1.5])
async def test_a_bad_n_is_refused(clients: tuple[ApiClient, ApiClient], n: object) -> None:
    ada, _ = clients
    response = await ada.post("/api/svg/generate-svg", {"prompt": "a fox", "n": n})
    assert_problem(response, 400, "VALIDATION_ERROR")


async def test_the_web_clients_request_is_answered_as_before_with_one_generation(
    clients: tuple[ApiClient, ApiClient],
) -> None:
    ada, _ = clients
    job = (await ada.post("/api/svg/generate-svg", {"prompt": "a red fox"})).json()["job"]
    done = (await ada.wait_job(job["id"]))["job"]
    assert [g["id"] for g in done["generations"]] == [done["generationId"]]
    assert done["generation"]["parentId"] is None


async def test_refine_makes_a_child_generation_shown_in_the_history(
    clients: tuple[ApiClient, ApiClient],
) -> None:
    ada, eve = clients
    first = (await ada.post("/api/svg/generate-svg", {"prompt": "a red fox"})).json()["job"]
    parent_id = (await ada.wait_job(first["id"]))["job"]["generationId"]

    headers = {"Idempotency-Key": "refine-1"}
    body = {"instruction": "make the fox orange"}
    refined = await ada.post(f"/api/svg/{parent_id}/refine", body, headers=headers)
    assert refined.status_code == 202, refined.text
    assert refined.json()["duplicate"] is False
    job = refined.json()["job"]
    assert refined.headers["location"] == f"/api/svg/generation-jobs/{job['id']}"
    assert job["prompt"] == "make the fox orange"
    again = await ada.post(f"/api/svg/{parent_id}/refine", body, headers=headers)
    assert again.json()["duplicate"] is True and again.json()["job"]["id"] == job["id"]
    other = await ada.post(
        f"/api/svg/{parent_id}/refine", {"instruction": "bluer"}, headers=headers
    )
    assert_problem(other, 422, "IDEMPOTENCY_KEY_REUSED")

    done = (await ada.wait_job(job["id"]))["job"]
    assert done["status"] == "SUCCEEDED"
    assert done["generation"]["parentId"] == parent_id
    history = (await ada.get("/api/user/generations")).json()["generations"]
    assert {(g["id"], g["parentId"]) for g in history} == {
        (parent_id, None),
        (done["generationId"], parent_id),
    }

    assert_problem(
        await eve.post(f"/api/svg/{parent_id}/refine", {"instruction": "mine now"}),
        404,
        "NOT_FOUND",
    )
    assert_problem(await ada.post("/api/svg/nope/refine", {"instruction": "x"}), 404, "NOT_FOUND")
    assert_problem(
        await ada.post(f"/api/svg/{parent_id}/refine", {"instruction": " "}),
        400,
        "VALIDATION_ERROR",
    )
    assert_problem(
        await ada.post(f"/api/svg/{parent_id}/refine", {"instruction": "x" * 1001}),
        400,
        "VALIDATION_ERROR",
    )
    assert_problem(await ada.post(f"/api/svg/{parent_id}/refine", {}), 400, "VALIDATION_ERROR")
