"""The playground's Refine, variants and live drafts, in real Chromium against the real server.

- Refine: a finished drawing's card takes an instruction, POSTs `/api/svg/{id}/refine` with the
  CSRF token and an idempotency key; the new job's card appears at once, names the drawing it
  changes, finishes live, and its generation records the parent.
- Variants: "Drawings" (n, 1-4) makes one job of n drawings; its card shows every one, and the
  drawing picked is the one shown, downloaded and refined.
- Drafts: with a streaming model (the fake OpenAI server), the drawing forms on the card from
  `generation-job:draft` (an <img> of a blob: URL, never markup), is replaced by the stored result
  on success, and a draft that arrives after the job ended is ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from chatsvg.adapters.realtime.sockets import user_room
from tests.browser.conftest import ARTIFACTS, Tab
from tests.browser.test_playground import (
    card_by_id,
    csrf_of,
    job_card,
    noisy_console,
    open_playground,
    sign_up,
    submit,
    unique_email,
    wait_image,
    wait_status,
)
from tests.support.fake_openai import FakeOpenAIProcess, running_process
from tests.support.live import LiveServer

pytestmark = pytest.mark.browser

Servers = Callable[..., LiveServer]
Tabs = Callable[[], Tab]


def refine(tab: Tab, parent_job: str, instruction: str) -> str:
    """Refine the drawing a card shows; returns the new job's id (its card is there at once)."""
    page = tab.page
    card = card_by_id(page, parent_job)
    card.get_by_role("button", name="Refine", exact=True).click()
    box = card.get_by_role("textbox", name="What should change?")
    expect(box).to_be_focused()
    box.fill(instruction)
    with page.expect_request(re.compile(r"/api/svg/[^/]+/refine$")) as sent:
        card.get_by_role("button", name="Send refinement").click()
    request = sent.value
    assert request.method == "POST"
    assert request.headers["x-csrf-token"] == csrf_of(tab)
    assert len(request.headers["idempotency-key"]) == 32
    assert request.post_data_json == {"instruction": instruction}
    new_card = job_card(page, instruction)
    expect(new_card).to_have_count(1)
    job_id = new_card.get_attribute("data-job-id")
    assert job_id and job_id != parent_job
    expect(card.locator("form.job-refine")).to_be_hidden()
    return job_id


def test_refine_a_finished_drawing(servers: Servers, tabs: Tabs) -> None:
    server = servers()
    tab = tabs()
    page = tab.page
    open_playground(tab, server)
    sign_up(page, unique_email("refine"))

    first = submit(page, "A red fox under the moon")
    card = wait_status(page, first, "SUCCEEDED")
    wait_image(page, card.locator("img.job-image"))
    parent = card.get_attribute("data-generation-id")
    assert parent

    # An instruction the server refuses (blank): the card's form says why; nothing is queued.
    card.get_by_role("button", name="Refine", exact=True).click()
    card.get_by_role("textbox", name="What should change?").fill("   ")
    card.get_by_role("button", name="Send refinement").click()
    error = card.locator("form.job-refine .form-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("instruction", ignore_case=True)
    expect(page.locator("#jobs .job")).to_have_count(1)
    card.get_by_role("button", name="Refine", exact=True).click()  # closes the form
    expect(card.locator("form.job-refine")).to_be_hidden()

    second = refine(tab, first, "Make the fox orange")
    new_card = card_by_id(page, second)
    # The new job names its parent from the start, while it is still queued or running.
    expect(new_card).to_have_attribute("data-parent-id", parent)
    expect(new_card.locator(".job-parent")).to_have_text("Refines “A red fox under the moon”")
    wait_status(page, second, "SUCCEEDED")
    wait_image(page, new_card.locator("img.job-image"))
    expect(page.locator("#credits")).to_have_text("8 credits")

    # The server agrees: the new generation records its parent; the history shows the chain.
    child = new_card.get_attribute("data-generation-id")
    details = page.request.get(f"{server.url}/api/svg/generation-jobs/{second}").json()["job"]
    assert details["generation"]["parentId"] == parent
    assert details["generationId"] == child
    items = page.locator("#history .gallery-item")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("A refinement")
    expect(items.nth(1)).not_to_contain_text("A refinement")

    # A refinement of the refinement: the chain goes on.
    third = refine(tab, second, "Add a few stars")
    expect(card_by_id(page, third)).to_have_attribute("data-parent-id", child or "")
    expect(card_by_id(page, third).locator(".job-parent")).to_have_text(
        "Refines “Make the fox orange”"
    )
    wait_status(page, third, "SUCCEEDED")

    assert page.locator("svg").count() == 0
    assert tab.page_errors == []
    assert tab.unexpected_console_errors(allowed_statuses=(400,)) == []


def test_variants_show_every_drawing_of_the_job(servers: Servers, tabs: Tabs) -> None:
    server = servers()
    tab = tabs()
    page = tab.page
    open_playground(tab, server)
    sign_up(page, unique_email("variants"))

    page.locator("#variants").select_option("3")
    page.locator("#prompt").fill("Three little houses")
    with page.expect_request("**/api/svg/generate-svg") as sent:
        page.locator("#generate").click()
    assert sent.value.post_data_json["n"] == 3
    card = job_card(page, "Three little houses")
    expect(card).to_have_count(1)
    job_id = card.get_attribute("data-job-id")
    assert job_id
    wait_status(page, job_id, "SUCCEEDED")
    expect(page.locator("#credits")).to_have_text("7 credits")

    variants = card.locator(".job-variants .variant")
    expect(variants).to_have_count(3)
    ids = [variants.nth(i).get_attribute("data-generation-id") for i in range(3)]
    job = page.request.get(f"{server.url}/api/svg/generation-jobs/{job_id}").json()["job"]
    assert ids == [g["id"] for g in job["generations"]]
    for i in range(3):
        assert wait_image(page, variants.nth(i).locator("img")) > 0
    expect(variants.nth(0)).to_have_attribute("aria-pressed", "true")
    main = card.locator("img.job-image")
    wait_image(page, main)

    # Pick the third: it is shown, downloaded and refined.
    variants.nth(2).click()
    expect(variants.nth(2)).to_have_attribute("aria-pressed", "true")
    expect(variants.nth(0)).to_have_attribute("aria-pressed", "false")
    expect(main).to_have_attribute("src", re.compile(rf"/api/svg/{ids[2]}/image$"))
    assert wait_image(page, main) > 0
    with page.expect_download() as info:
        card.get_by_role("button", name="Download SVG").click()
    content = Path(info.value.path()).read_text(encoding="utf-8")
    assert content == page.request.get(f"{server.url}/api/svg/{ids[2]}/source").json()["svg"]
    refined = refine(tab, job_id, "Paint the third one blue")
    expect(card_by_id(page, refined)).to_have_attribute("data-parent-id", ids[2] or "")
    wait_status(page, refined, "SUCCEEDED")

    # One drawing (the default) shows no picker; the history has every drawing.
    page.locator("#variants").select_option("1")
    with page.expect_request("**/api/svg/generate-svg") as sent:
        single = submit(page, "Just one tree")
    assert "n" not in sent.value.post_data_json
    single_card = wait_status(page, single, "SUCCEEDED")
    wait_image(page, single_card.locator("img.job-image"))
    expect(single_card.locator(".job-variants")).to_be_hidden()
    expect(page.locator("#history .gallery-item")).to_have_count(5)
    expect(page.locator("#credits")).to_have_text("5 credits")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "playground-variants-refine.png"))

    assert tab.page_errors == []
    assert tab.unexpected_console_errors() == []


@pytest.fixture
def streaming_model() -> Iterator[FakeOpenAIProcess]:
    """The fake OpenAI server, streaming its answers slowly enough to watch them form."""
    with running_process() as fake:
        fake.configure(stream_chunk=40, stream_seconds=3.0)
        yield fake


async def late_draft(server: LiveServer, user_id: str, job_id: str) -> None:
    sio = server.container.web.socket_server()
    svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><rect width="8" height="8"/></svg>'
    payload = {"jobId": job_id, "svg": svg, "progress": 50}
    await sio.emit("generation-job:draft", payload, room=user_room(user_id))


def test_the_drawing_forms_live_from_drafts(
    servers: Servers, tabs: Tabs, streaming_model: FakeOpenAIProcess
) -> None:
    server = servers(openai_api_key="sk-test", openai_base_url=streaming_model.base_url)
    tab = tabs()
    page = tab.page
    open_playground(tab, server)
    sign_up(page, unique_email("drafts"))
    user_id = page.request.get(f"{server.url}/api/auth/current-user").json()["id"]

    page.locator("#model").select_option("gpt-4o")
    job_id = submit(page, "A fox at night")
    card = card_by_id(page, job_id)
    draft = card.locator("img.job-draft")
    # While the model writes: the drawing so far, an <img> of a blob: URL, before the result.
    expect(card).to_have_attribute("data-drafts", re.compile(r"^[1-9]"), timeout=15_000)
    expect(card).to_have_attribute("data-status", "RUNNING")
    expect(draft).to_have_attribute("src", re.compile(r"^blob:"))
    assert wait_image(page, draft) > 0  # the CSP lets it load (a violation would be logged)
    expect(card.locator("img.job-image")).to_be_hidden()

    # On success the stored result replaces it.
    wait_status(page, job_id, "SUCCEEDED", timeout=20_000)
    final = card.locator("img.job-image")
    wait_image(page, final)
    assert (final.get_attribute("src") or "").startswith(server.url + "/api/files/")
    expect(draft).to_be_hidden()
    assert draft.get_attribute("src") is None
    received = [d for _, n, d in tab.socket_events if n == "generation-job:draft"]
    assert len(received) >= 2 and {d["jobId"] for d in received} == {job_id}
    assert card.get_attribute("data-drafts") == str(len(received))

    # A draft arriving after the job ended is ignored.
    server.call(late_draft(server, user_id, job_id))
    for _ in range(100):  # until the page has the frame
        if sum(n == "generation-job:draft" for _, n, _d in tab.socket_events) > len(received):
            break
        page.wait_for_timeout(50)
    else:
        pytest.fail("the late draft did not reach the page")
    page.wait_for_timeout(200)
    assert card.get_attribute("data-drafts") == str(len(received))
    expect(draft).to_be_hidden()
    expect(final).to_be_visible()

    assert page.locator("svg").count() == 0
    assert tab.page_errors == []
    assert tab.unexpected_console_errors() == []
    assert noisy_console(tab) == []
