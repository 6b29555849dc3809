"""The public gallery follows privacy changes and deletes at once, cache or not, and private
generations are never reachable through a public URL."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.e2e.test_http_contract import assert_problem
from tests.support.live import ApiClient, LiveServer


async def gallery_ids(anonymous: httpx.AsyncClient, **params: str) -> list[str]:
    response = await anonymous.get("/api/svg/public", params=params)
    assert response.status_code == 200
    return [g["id"] for g in response.json()["publicGenerations"]]


async def test_gallery_follows_privacy_and_deletes(
    server: LiveServer, client_factory: Callable[..., ApiClient]
) -> None:
    owner = client_factory()
    await owner.register("gallery@example.com")
    public_job = (
        await owner.post(
            "/api/svg/generate-svg", {"prompt": "a public comet", "privacy": False, "style": "flat"}
        )
    ).json()["job"]
    private_job = (await owner.post("/api/svg/generate-svg", {"prompt": "a private diary"})).json()[
        "job"
    ]
    public_id = (await owner.wait_job(public_job["id"]))["job"]["generationId"]
    private_id = (await owner.wait_job(private_job["id"]))["job"]["generationId"]

    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        assert await gallery_ids(anonymous) == [public_id]
        assert await gallery_ids(anonymous) == [public_id]  # served from the cache now
        assert await gallery_ids(anonymous, style="flat") == [public_id]
        assert await gallery_ids(anonymous, style="outline") == []
        item = (await anonymous.get("/api/svg/public")).json()["publicGenerations"][0]
        assert (
            set(item) >= {"id", "prompt", "style", "model", "createdAt", "svgUrl"}
            and "userId" not in item
        )
        image = await anonymous.get(item["svgUrl"], follow_redirects=True)
        assert image.status_code == 200 and image.headers["content-type"].startswith(
            "image/svg+xml"
        )
        assert (await anonymous.get(f"/api/svg/{public_id}/source")).status_code == 200

        # The private one is reachable through no public URL.
        assert_problem(await anonymous.get(f"/api/svg/{private_id}/source"), 404, "NOT_FOUND")
        assert_problem(await anonymous.get(f"/api/svg/{private_id}/image"), 404, "NOT_FOUND")

        # Making it private withdraws it at once, from the cached first page too.
        patched = await owner.patch(f"/api/user/generations/{public_id}", {"privacy": True})
        assert patched.status_code == 200 and patched.json()["privacy"] is True
        assert await gallery_ids(anonymous) == []
        assert await gallery_ids(anonymous, style="flat") == []
        assert_problem(await anonymous.get(item["svgUrl"]), 404, "NOT_FOUND")

        await owner.patch(f"/api/user/generations/{public_id}", {"privacy": False})
        assert await gallery_ids(anonymous) == [public_id]
        assert (await owner.delete(f"/api/user/generations/{public_id}")).status_code == 204
        assert await gallery_ids(anonymous) == []

        mine = (await owner.get("/api/user/generations", params={"privacy": "private"})).json()[
            "generations"
        ]
        assert [g["id"] for g in mine] == [private_id]


async def test_gallery_pages_with_a_cursor(
    server: LiveServer, client_factory: Callable[..., ApiClient]
) -> None:
    owner = client_factory()
    await owner.register("pages@example.com")
    ids = []
    for i in range(3):
        job = (
            await owner.post("/api/svg/generate-svg", {"prompt": f"public {i}", "privacy": False})
        ).json()["job"]
        ids.append((await owner.wait_job(job["id"]))["job"]["generationId"])
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        first = (await anonymous.get("/api/svg/public", params={"limit": "2"})).json()
        second = (
            await anonymous.get(
                "/api/svg/public", params={"limit": "2", "cursor": first["nextCursor"]}
            )
        ).json()
    assert [g["id"] for g in first["publicGenerations"] + second["publicGenerations"]] == ids[::-1]
    assert second["nextCursor"] is None
