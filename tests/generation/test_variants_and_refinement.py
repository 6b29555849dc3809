"""Variants (n drawings in one job) and refinement (a new drawing from one of the user's
generations and an instruction), on every storage adapter set."""

from __future__ import annotations

import pytest

from chatsvg.application.generation.submission import SubmitCommand
from chatsvg.application.ports import GenerationFault
from chatsvg.domain.errors import (
    IdempotencyKeyReused,
    InsufficientCredits,
    NotFound,
    ValidationFailed,
)
from chatsvg.domain.generation.generations import artifact_key
from chatsvg.domain.generation.jobs import JobStatus
from tests.conftest import Stack


def submit(
    user_id: str,
    prompt: str = "a red fox",
    *,
    n: int | None = None,
    key: str | None = None,
    parent_id: str | None = None,
    model: str | None = None,
) -> SubmitCommand:
    body: dict[str, object] = {"prompt": prompt}
    if n is not None:
        body["n"] = n
    if parent_id is not None:
        body["parent"] = parent_id
    return SubmitCommand(
        user_id=user_id,
        prompt=prompt,
        style=None,
        model=model,
        privacy=None,
        raw_body=body,
        idempotency_key=key,
        n=n,
        parent_id=parent_id,
    )


async def charges(stack: Stack, user_id: str, job_id: str) -> list[tuple[int, str]]:
    page = await stack.library.ledger(user_id, limit=100, cursor=None)
    return sorted((e.delta, e.reason) for e in page.items if e.job_id == job_id)


# --- variants ----------------------------------------------------------------------------------


async def test_one_job_makes_n_drawings_charged_once_as_n_times_the_cost(stack: Stack) -> None:
    user = await stack.user()
    job = (await stack.generation.submit(submit(user, n=3))).job
    assert (job.variants, job.cost) == (3, 3)
    await stack.drain()

    details = await stack.generation.details(user, job.id)
    assert details.job.status is JobStatus.SUCCEEDED and details.credits == 7
    assert [g.variant for g in details.drawings] == [0, 1, 2]
    assert details.job.generation_id == details.drawings[0].id == details.generation.id  # type: ignore[union-attr]
    assert {g.job_id for g in details.drawings} == {job.id}
    for i, drawing in enumerate(details.drawings):
        assert drawing.storage_key == artifact_key(user, job.id, i)
        assert await stack.storage.exists(drawing.storage_key)
    assert await charges(stack, user, job.id) == [(-3, "GENERATION_CHARGE")]
    assert [r.variant for r in stack.generator.requests] == [0, 1, 2]
    # One notification, one job; the list shows them all.
    listed = await stack.generation.list_jobs(user, status=None, limit=10, cursor=None)
    drawings = await stack.generation.drawings([j for j, _ in listed.items])
    assert [g.id for g in drawings[job.id]] == [g.id for g in details.drawings]
    library = await stack.library.list_for_user(
        user, limit=10, cursor=None, style=None, model=None, privacy=None
    )
    assert len(library.items) == 3


async def test_a_job_of_one_drawing_is_as_before(stack: Stack) -> None:
    user = await stack.user()
    job = (await stack.generation.submit(submit(user))).job
    assert (job.variants, job.cost) == (1, 1)
    await stack.drain()
    details = await stack.generation.details(user, job.id)
    assert details.drawings == [] and details.generation is not None
    assert details.generation.variant == 0 and details.generation.parent_id is None
    assert await stack.generation.drawings([details.job]) == {}


@pytest.mark.parametrize("n", [0, 5, -1, True, "2", 2.5])
async def test_n_is_a_whole_number_from_1_to_4(stack: Stack, n: object) -> None:
    user = await stack.user()
    with pytest.raises(ValidationFailed) as caught:
        await stack.generation.submit(submit(user, n=n))  # type: ignore[arg-type]
    assert caught.value.details == [{"field": "n", "message": "1 to 4"}]


async def test_the_balance_must_cover_all_n_drawings(make_stack: object) -> None:
    stack: Stack = make_stack(start_credits=3)  # type: ignore[operator]
    user = await stack.user()
    with pytest.raises(InsufficientCredits):
        await stack.generation.submit(submit(user, n=4))
    job = (await stack.generation.submit(submit(user, n=3))).job
    with pytest.raises(InsufficientCredits):  # the queued job reserves all three
        await stack.generation.submit(submit(user, "another"))
    await stack.drain()
    assert (await stack.generation.details(user, job.id)).credits == 0


async def test_a_failing_variant_fails_the_job_and_refunds_all_of_it_once(stack: Stack) -> None:
    user = await stack.user()
    refused = GenerationFault("PROVIDER_REFUSED", "no", transient=False)
    stack.generator.script.append(refused)  # the first drawing's call; the second draws
    job = (await stack.generation.submit(submit(user, n=2))).job
    await stack.drain()
    details = await stack.generation.details(user, job.id)
    assert (details.job.status, details.job.error_code, details.credits) == (
        JobStatus.FAILED,
        "PROVIDER_REFUSED",
        10,
    )
    assert await charges(stack, user, job.id) == [
        (-2, "GENERATION_CHARGE"),
        (2, "GENERATION_REFUND"),
    ]
    for i in range(2):
        assert not await stack.storage.exists(artifact_key(user, job.id, i))


async def test_cancelling_a_queued_job_of_n_drawings_refunds_nothing_it_was_not_charged(
    stack: Stack,
) -> None:
    user = await stack.user()
    job = (await stack.generation.submit(submit(user, n=4))).job
    cancelled = await stack.generation.cancel(user, job.id)
    assert cancelled.status is JobStatus.FAILED and cancelled.error_code == "CANCELED"
    assert await charges(stack, user, job.id) == []
    assert await stack.library.balance(user) == 10


async def test_a_replay_with_the_same_key_and_n_is_the_same_job(stack: Stack) -> None:
    user = await stack.user()
    first = await stack.generation.submit(submit(user, n=2, key="k-1"))
    again = await stack.generation.submit(submit(user, n=2, key="k-1"))
    assert again.duplicate and again.job.id == first.job.id
    with pytest.raises(IdempotencyKeyReused):
        await stack.generation.submit(submit(user, n=3, key="k-1"))


# --- refinement --------------------------------------------------------------------------------


async def finished(stack: Stack, user: str, prompt: str = "a red fox", **kw: object) -> str:
    job = (await stack.generation.submit(submit(user, prompt, **kw))).job  # type: ignore[arg-type]
    await stack.drain()
    details = await stack.generation.details(user, job.id)
    assert details.generation is not None
    return details.generation.id


async def test_a_refinement_gives_the_model_the_previous_svg_and_records_its_parent(
    stack: Stack,
) -> None:
    user = await stack.user()
    parent_id = await finished(stack, user)
    parent = await stack.generation.details(
        user,
        (await stack.generation.list_jobs(user, status=None, limit=1, cursor=None)).items[0][0].id,
    )
    stack.generator.requests.clear()

    job = (
        await stack.generation.submit(submit(user, "  make the fox orange ", parent_id=parent_id))
    ).job
    assert (job.parent_id, job.prompt, job.variants) == (parent_id, "make the fox orange", 1)
    await stack.drain()

    [request] = stack.generator.requests
    assert request.prompt == "make the fox orange"
    assert request.previous_svg == parent.svg and request.previous_prompt == "a red fox"
    details = await stack.generation.details(user, job.id)
    assert details.job.status is JobStatus.SUCCEEDED
    assert details.generation is not None and details.generation.parent_id == parent_id
    assert details.generation.style == parent.job.style
    library = await stack.library.list_for_user(
        user, limit=10, cursor=None, style=None, model=None, privacy=None
    )
    assert {(g.generation.id, g.generation.parent_id) for g in library.items} == {
        (parent_id, None),
        (details.generation.id, parent_id),
    }
    # A refinement of the refinement: the chain goes on.
    grandchild = (
        await stack.generation.submit(submit(user, "add a moon", parent_id=details.generation.id))
    ).job
    await stack.drain()
    last = await stack.generation.details(user, grandchild.id)
    assert last.generation is not None and last.generation.parent_id == details.generation.id


async def test_only_the_owner_refines_a_generation(stack: Stack) -> None:
    owner = await stack.user()
    other = await stack.user("eve@example.com")
    parent_id = await finished(stack, owner)
    with pytest.raises(NotFound):
        await stack.generation.submit(submit(other, "steal it", parent_id=parent_id))
    with pytest.raises(NotFound):
        await stack.generation.submit(submit(owner, "nothing here", parent_id="no-such-id"))
    assert await stack.library.balance(other) == 10


@pytest.mark.parametrize("instruction", ["", "   ", "x" * 1001])
async def test_the_instruction_is_1_to_1000_characters(stack: Stack, instruction: str) -> None:
    user = await stack.user()
    parent_id = await finished(stack, user)
    with pytest.raises(ValidationFailed) as caught:
        await stack.generation.submit(submit(user, instruction, parent_id=parent_id))
    assert caught.value.details and caught.value.details[0]["field"] == "instruction"


async def test_a_refinement_keeps_the_parents_model_unless_asked(stack: Stack) -> None:
    user = await stack.user()
    parent_id = await finished(stack, user, model="gpt-4o")
    kept = (await stack.generation.submit(submit(user, "bluer", parent_id=parent_id))).job
    assert (kept.model, kept.cost) == ("gpt-4o", 2)
    other = (
        await stack.generation.submit(submit(user, "greener", parent_id=parent_id, model="offline"))
    ).job
    assert (other.model, other.cost) == ("offline", 1)


async def test_a_refinement_whose_parent_was_deleted_meanwhile_draws_from_the_instruction(
    stack: Stack,
) -> None:
    user = await stack.user()
    parent_id = await finished(stack, user)
    job = (await stack.generation.submit(submit(user, "a blue whale", parent_id=parent_id))).job
    await stack.library.delete(user, parent_id)
    stack.generator.requests.clear()
    await stack.drain()
    [request] = stack.generator.requests
    assert request.previous_svg is None
    details = await stack.generation.details(user, job.id)
    assert details.job.status is JobStatus.SUCCEEDED
    assert details.generation is not None and details.generation.parent_id == parent_id
