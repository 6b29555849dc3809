"""Validate and repair: an unusable answer is asked for once more within the same attempt, with
the concrete problem; the job records that a repair happened. On every storage adapter set, and
through the OpenAI adapter against the fake server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from chatsvg.adapters.generation.openai_generator import OpenAiSvgGenerator
from chatsvg.adapters.generation.svg_inspector import SvgInspector
from chatsvg.adapters.generation.svg_sanitizer import SvgSanitizer
from chatsvg.application.generation.drawing import draw
from chatsvg.application.generation.processor import JobProcessor
from chatsvg.application.generation.submission import SubmitCommand
from chatsvg.application.ports import GenerationFault, GenerationRequest, ModelAnswer
from chatsvg.domain.generation.jobs import JobStatus
from tests.conftest import CATALOGUE, Stack
from tests.support.fake_openai import FakeOpenAI, drawing

NS = 'xmlns="http://www.w3.org/2000/svg"'
BLANK = f'<svg {NS} viewBox="0 0 512 512"><rect width="512" height="512" fill="#eee"/></svg>'
GOOD = drawing("a fox")
NO_SVG = GenerationFault(
    "INVALID_SVG", "the answer contained no <svg> element", transient=True, answer="I draw foxes."
)


def command(user_id: str, prompt: str = "a red fox") -> SubmitCommand:
    return SubmitCommand(
        user_id=user_id, prompt=prompt, style=None, model=None, privacy=None, raw_body=None
    )


async def run(stack: Stack, user: str) -> tuple[str, object]:
    job = (await stack.generation.submit(command(user))).job
    await stack.drain()
    details = await stack.generation.details(user, job.id)
    return job.id, details


@pytest.mark.parametrize(
    ("first", "problem"),
    [
        (GOOD[: len(GOOD) // 2], "not a well-formed SVG"),
        (BLANK, "one flat colour"),
        (f"<svg {NS} viewBox='0 0 9 9'><defs/></svg>", "draws nothing"),
        (NO_SVG, "no <svg> element"),
    ],
)
async def test_an_unusable_answer_is_repaired_within_the_attempt(
    stack: Stack, first: object, problem: str
) -> None:
    user = await stack.user()
    stack.generator.script.extend([first, GOOD])  # type: ignore[list-item]
    _, details = await run(stack, user)
    job = details.job  # type: ignore[attr-defined]
    assert (job.status, job.attempts, job.charged) == (JobStatus.SUCCEEDED, 1, True)
    assert job.usage is not None and job.usage.repaired
    assert details.svg == SvgSanitizer().sanitize(GOOD)  # type: ignore[attr-defined]
    first_request, repair_request = stack.generator.requests
    assert first_request.repair is None
    assert repair_request.repair is not None and problem in repair_request.repair.problem
    expected = first.answer if isinstance(first, GenerationFault) else first
    assert repair_request.repair.answer == expected
    assert (repair_request.prompt, repair_request.attempt) == (first_request.prompt, 1)


async def test_a_usable_first_answer_needs_no_repair(stack: Stack) -> None:
    user = await stack.user()
    _, details = await run(stack, user)
    job = details.job  # type: ignore[attr-defined]
    assert job.status is JobStatus.SUCCEEDED and job.usage is not None
    assert not job.usage.repaired and len(stack.generator.requests) == 1


async def test_a_failed_repair_costs_the_attempt_then_the_job_fails_as_invalid_svg(
    stack: Stack,
) -> None:
    user = await stack.user()
    stack.generator.script.extend([BLANK, BLANK, "nothing", BLANK])
    _, details = await run(stack, user)
    job = details.job  # type: ignore[attr-defined]
    assert (job.status, job.error_code, job.attempts) == (JobStatus.FAILED, "INVALID_SVG", 2)
    assert details.credits == 10  # type: ignore[attr-defined]
    assert [r.repair is not None for r in stack.generator.requests] == [False, True] * 2


async def test_other_faults_are_not_repaired(stack: Stack) -> None:
    user = await stack.user()
    stack.generator.script.append(GenerationFault("PROVIDER_REFUSED", "no", transient=False))
    _, details = await run(stack, user)
    assert details.job.error_code == "PROVIDER_REFUSED"  # type: ignore[attr-defined]
    assert len(stack.generator.requests) == 1


async def test_repair_can_be_turned_off(stack: Stack) -> None:
    user = await stack.user()
    processor = JobProcessor(
        uow=stack.uow,
        generator=stack.generator,
        sanitizer=SvgSanitizer(),
        storage=stack.storage,
        realtime=stack.realtime,
        clock=stack.clock,
        catalogue=CATALOGUE,
        inspector=SvgInspector(),
        repair=False,
    )
    stack.generator.script.append(BLANK)
    job = (await stack.generation.submit(command(user))).job
    await processor.process(job.id)
    after = (await stack.generation.details(user, job.id)).job
    assert (after.status, after.error_code) == (JobStatus.QUEUED, "INVALID_SVG")
    assert len(stack.generator.requests) == 1


# --- through the OpenAI adapter ------------------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


def request(prompt: str = "a red fox") -> GenerationRequest:
    return GenerationRequest("job-1", prompt, "flat", "gpt-test", "gpt-test", 1)


@pytest.mark.parametrize("broken", ["truncated", "blank", "prose", "empty", "length", "broken"])
async def test_the_adapter_sends_the_broken_answer_and_its_problem_back(
    fake: FakeOpenAI, broken: str
) -> None:
    generator = OpenAiSvgGenerator("sk-test", base_url=fake.base_url)
    fake.configure(script=[broken, "ok"])
    try:
        drawn = await draw(
            generator.generate, request(), sanitizer=SvgSanitizer(), inspector=SvgInspector()
        )
    finally:
        await generator.aclose()
    assert drawn.repaired and fake.requests()["count"] == 2
    assert len(drawn.answers) == (2 if broken == "blank" else 1)  # the others raised
    assert drawn.svg == SvgSanitizer().sanitize(drawing("a red fox"))
    first, repair = fake.requests()["recent"]
    assert len(first["messages"]) == 2 and len(repair["messages"]) == 4
    assert repair["messages"][:2] == first["messages"]
    assert repair["messages"][2]["role"] == "assistant"
    assert repair["messages"][3]["role"] == "user"
    assert "could not be used" in repair["messages"][3]["content"]
    assert fake.requests()["last_headers"]["x-client-request-id"] == "job-1-1-r"


@pytest.mark.parametrize("fixable", ["no_viewbox", "wrapped", "plain", "xml"])
async def test_answers_the_sanitizer_or_the_extraction_fix_need_no_repair(
    fake: FakeOpenAI, fixable: str
) -> None:
    generator = OpenAiSvgGenerator("sk-test", base_url=fake.base_url)
    fake.configure(mode=fixable)
    try:
        drawn = await draw(
            generator.generate, request(), sanitizer=SvgSanitizer(), inspector=SvgInspector()
        )
    finally:
        await generator.aclose()
    assert not drawn.repaired and fake.requests()["count"] == 1


async def test_structured_output_is_asked_for_and_dropped_for_a_model_that_refuses_it(
    fake: FakeOpenAI,
) -> None:
    generator = OpenAiSvgGenerator("sk-test", base_url=fake.base_url)
    try:
        answer = await generator.generate(request())
        assert answer.text == drawing("a red fox")
        body = fake.requests()["last"]
        assert body["response_format"]["type"] == "json_schema"
        assert body["messages"][0]["content"].endswith(
            '{"svg": "<the complete SVG document>"} and nothing else.'
        )

        fake.configure(reject_response_format=True)
        fake.clear_requests()
        assert (await generator.generate(request())).text == drawing("a red fox")
        first, second = fake.requests()["recent"]
        assert "response_format" in first and "response_format" not in second
        assert second["messages"][0]["content"].endswith("no prose, no code fence.")
        fake.clear_requests()
        await generator.generate(request())  # remembered: asked in free text at once
        assert fake.requests()["count"] == 1 and "response_format" not in fake.requests()["last"]
    finally:
        await generator.aclose()


async def test_the_adapter_can_be_told_not_to_ask_for_json(fake: FakeOpenAI) -> None:
    generator = OpenAiSvgGenerator("sk-test", base_url=fake.base_url, structured_output=False)
    try:
        await generator.generate(request())
    finally:
        await generator.aclose()
    assert "response_format" not in fake.requests()["last"]


async def test_a_refinement_request_carries_the_previous_svg(fake: FakeOpenAI) -> None:
    generator = OpenAiSvgGenerator("sk-test", base_url=fake.base_url)
    refine = GenerationRequest(
        "job-2", "make it orange", "flat", "gpt-test", "gpt-test", 1,
        previous_svg=GOOD, previous_prompt="a fox", variant=2,
    )  # fmt: skip
    try:
        answer = await generator.generate(refine)
    finally:
        await generator.aclose()
    assert isinstance(answer, ModelAnswer)
    user = fake.requests()["last"]["messages"][1]["content"]
    assert GOOD in user and user.endswith("make it orange")
    assert fake.requests()["last_headers"]["x-client-request-id"] == "job-2-1-2"
