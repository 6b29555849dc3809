"""Live drafts: the drawing so far, closed at its last complete element and sanitized, pushed as
`generation-job:draft` at most 4 times a second while a streaming model writes."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator

import pytest

from chatsvg.adapters.generation.openai_generator import OpenAiSvgGenerator
from chatsvg.adapters.generation.svg_inspector import SvgInspector
from chatsvg.adapters.generation.svg_sanitizer import SvgSanitizer
from chatsvg.adapters.memory.store import RecordingRealtime
from chatsvg.application.generation.drafts import (
    DraftPublisher,
    _partial_json_string,
    partial_svg,
)
from chatsvg.application.generation.processor import JobProcessor
from chatsvg.application.generation.submission import SubmitCommand
from chatsvg.application.ports import GenerationFault, GenerationRequest, ModelAnswer
from chatsvg.domain.generation.jobs import GenerationJob, JobStatus
from chatsvg.domain.generation.requests import ModelSpec
from tests.conftest import CATALOGUE, Stack
from tests.support.fake_openai import FakeOpenAI, drawing

NS = 'xmlns="http://www.w3.org/2000/svg"'


def make_job() -> GenerationJob:
    from datetime import UTC, datetime

    return GenerationJob.submit(
        job_id="job-1",
        user_id="user-1",
        prompt="a fox",
        style="flat",
        model=ModelSpec("offline", "offline"),
        privacy=True,
        now=datetime(2026, 12, 7, tzinfo=UTC),
    )


SVG = (
    f'<svg {NS} viewBox="0 0 512 512"><g fill="red"><rect width="10" height="10"/>'
    '<circle r="5"/></g><path d="M0 0L10 10"/></svg>'
)


# --- cutting the drawing so far --------------------------------------------------------------


def test_the_drawing_so_far_is_closed_at_its_last_complete_element() -> None:
    assert partial_svg("Sure! ```svg\n" + SVG[:60]) is None  # nothing complete yet
    assert partial_svg(SVG[: SVG.index("<circle") + 3]) == (
        f'<svg {NS} viewBox="0 0 512 512"><g fill="red"><rect width="10" height="10"/></g></svg>'
    )
    assert partial_svg(SVG[: SVG.index("<path")]) == SVG[: SVG.index("<path")] + "</svg>"
    assert partial_svg("text " + SVG + " more") == SVG
    assert partial_svg("I would draw a fox.") is None


def test_a_json_answer_is_read_as_its_string_so_far() -> None:
    whole = json.dumps({"svg": SVG})
    cut = whole[: whole.index("<circle") + 3]
    assert partial_svg(cut) == partial_svg(SVG[: SVG.index("<circle") + 3])
    assert partial_svg(whole) == SVG
    assert partial_svg(whole[: whole.index("\\u") + 3] if "\\u" in whole else whole) == SVG
    assert partial_svg('{"svg": "<svg xmlns=\\"http') is None


def test_a_json_string_cut_anywhere_reads_as_a_beginning_of_it() -> None:
    """Escapes of every kind (quotes, backslashes, newlines, \\u escapes) cut at every point:
    what is read is always the beginning of the whole string, most of what is written of it
    (an escape cut in half is left out), and all of it once the closing quote is there."""
    value = '<svg a="1">\\ \n\t é\u2028 “x” <!-- \\"" --></svg>' * 3
    body = json.dumps(value)[1:]  # what follows the opening quote, the closing one included
    for cut in range(len(body) + 1):
        read = _partial_json_string(body[:cut])
        assert value.startswith(read)
        if "\\" not in body[max(0, cut - 6) : cut] and '"' not in body[cut - 1 : cut]:
            assert read == json.loads(f'"{body[:cut]}"')  # whole characters: all of them
    assert _partial_json_string(body) == value
    assert _partial_json_string(body + ', "other": "x"}') == value


def test_a_mismatched_close_stops_the_draft_at_the_last_good_element() -> None:
    text = f'<svg {NS}><rect width="1" height="1"/></g><circle r="1"/>'
    assert partial_svg(text) == f'<svg {NS}><rect width="1" height="1"/></svg>'


# --- pacing --------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_drafts_come_at_most_4_a_second_only_when_the_drawing_changed() -> None:
    realtime, clock = RecordingRealtime(), Clock()
    job = make_job()
    drafts = DraftPublisher(job, realtime, SvgSanitizer(), monotonic=clock)
    for end in range(len(SVG) + 1):  # character by character, no time passing
        drafts.feed(SVG[:end])
        await asyncio.sleep(0)
    assert drafts.sent == 1
    clock.now = 0.2
    drafts.feed(SVG)
    assert drafts.sent == 1  # too soon
    clock.now = 0.3
    drafts.feed(SVG)
    await drafts.close()
    assert drafts.sent == 2
    clock.now = 1.0
    drafts.feed(SVG)  # the same drawing again: nothing to show
    await drafts.close()
    assert drafts.sent == 2
    (user, first), (_, second) = realtime.drafts
    assert user == job.user_id and first["jobId"] == job.id
    assert first["svg"] == SvgSanitizer().sanitize(partial_svg(SVG[:115]) or "")  # the first cut
    assert second["svg"] == SvgSanitizer().sanitize(SVG)
    assert 10 <= first["progress"] <= second["progress"] < 70


async def test_a_hostile_draft_is_sanitized_like_a_result() -> None:
    realtime = RecordingRealtime()
    drafts = DraftPublisher(make_job(), realtime, SvgSanitizer())
    drafts.feed(f'<svg {NS}><rect width="1" height="1" onclick="alert(1)"/><script>x</script>')
    await drafts.close()
    [(_, payload)] = realtime.drafts
    assert "onclick" not in payload["svg"] and "<script" not in payload["svg"]


# --- in the worker -------------------------------------------------------------------------------


class StreamingGenerator:
    """Writes its answer in pieces, telling `on_draft` as a streaming model client does."""

    def __init__(self, svg: str, pieces: int = 12, pause: float = 0.03) -> None:
        self.svg, self.pieces, self.pause = svg, pieces, pause

    async def generate(self, request: GenerationRequest) -> ModelAnswer:
        step = max(1, len(self.svg) // self.pieces)
        for end in range(step, len(self.svg) + step, step):
            if request.on_draft is not None:
                request.on_draft(self.svg[:end])
            await asyncio.sleep(self.pause)
        return ModelAnswer(self.svg, request.provider_model)


async def test_the_owner_sees_the_drawing_form_before_the_job_succeeds(stack: Stack) -> None:
    user = await stack.user()
    from chatsvg.adapters.offline import render

    picture = render("a red fox under the moon", "flat")
    processor = JobProcessor(
        uow=stack.uow,
        generator=StreamingGenerator(picture),
        sanitizer=SvgSanitizer(),
        storage=stack.storage,
        realtime=stack.realtime,
        clock=stack.clock,
        catalogue=CATALOGUE,
        inspector=SvgInspector(),
    )
    job = (
        await stack.generation.submit(
            SubmitCommand(user, "a red fox under the moon", "flat", None, None, None)
        )
    ).job
    stack.queue.take()
    assert await processor.process(job.id) is None
    done = await stack.generation.details(user, job.id)
    assert done.job.status is JobStatus.SUCCEEDED
    drafts = [p for u, p in stack.realtime.drafts if u == user and p["jobId"] == job.id]
    assert 2 <= len(drafts) <= 4  # about 0.36 s of writing: at most one per 0.25 s, plus one
    sizes = [len(d["svg"]) for d in drafts]
    assert sizes == sorted(sizes) and sizes[-1] <= len(done.svg or "")
    for draft in drafts:
        assert draft["svg"] == SvgSanitizer().sanitize(draft["svg"])  # already sanitized
        assert draft["svg"].startswith("<svg") and draft["svg"].endswith("</svg>")


async def test_variants_draft_only_the_first_and_a_non_streaming_model_drafts_nothing(
    stack: Stack,
) -> None:
    user = await stack.user()
    job = (
        await stack.generation.submit(SubmitCommand(user, "a cat", None, None, None, None, n=2))
    ).job
    await stack.drain()
    assert (await stack.generation.details(user, job.id)).job.status is JobStatus.SUCCEEDED
    assert stack.realtime.drafts == []  # the scripted (offline) model does not stream
    assert [r.on_draft is not None for r in stack.generator.requests] == [True, False]


# --- the OpenAI adapter, streamed ---------------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


def request(on_draft: object = None) -> GenerationRequest:
    return GenerationRequest(
        "job-1",
        "a red fox",
        "flat",
        "gpt-test",
        "gpt-test",
        1,
        on_draft=on_draft,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("structured", [True, False])
async def test_the_adapter_streams_when_someone_listens(fake: FakeOpenAI, structured: bool) -> None:
    generator = OpenAiSvgGenerator(
        "sk-test", base_url=fake.base_url, stream=True, structured_output=structured
    )
    seen: list[str] = []
    fake.configure(stream_chunk=40, stream_seconds=0.2)
    try:
        answer = await generator.generate(request(seen.append))
        plain = await generator.generate(request())  # nobody listens: not streamed
    finally:
        await generator.aclose()
    assert answer.text == plain.text == drawing("a red fox")
    assert answer.prompt_tokens > 0 and answer.completion_tokens > 0 and answer.model == "gpt-test"
    first, second = fake.requests()["recent"]
    assert first["stream"] is True and first["stream_options"] == {"include_usage": True}
    assert "stream" not in second
    assert len(seen) > 5 and all(a == b[: len(a)] for a, b in itertools.pairwise(seen))
    if structured:
        assert seen[-1] == json.dumps({"svg": drawing("a red fox")})
    drafts = [partial_svg(text) for text in seen]
    assert any(d is not None and d != drawing("a red fox") for d in drafts)


@pytest.mark.parametrize(
    ("outcome", "code"),
    [
        ("refuse", "PROVIDER_REFUSED"),
        ("content_filter", "PROVIDER_REFUSED"),
        ("empty", "INVALID_SVG"),
        ("length", "INVALID_SVG"),
        ("prose", "INVALID_SVG"),
        ("garbage", "PROVIDER_UNAVAILABLE"),
        ("500", "PROVIDER_UNAVAILABLE"),
        ("429", "PROVIDER_RATE_LIMITED"),
        # unstreamed: a 500 and a connection closed without an answer
        ("stream_error", "PROVIDER_UNAVAILABLE"),
        ("stream_cut", "PROVIDER_UNAVAILABLE"),
    ],
)
async def test_a_streamed_answer_fails_as_an_unstreamed_one(
    fake: FakeOpenAI, outcome: str, code: str
) -> None:
    generator = OpenAiSvgGenerator("sk-test", base_url=fake.base_url, stream=True)
    fake.configure(mode=outcome)
    try:
        with pytest.raises(GenerationFault) as streamed:
            await generator.generate(request(lambda text: None))
        with pytest.raises(GenerationFault) as unstreamed:
            await generator.generate(request())
    finally:
        await generator.aclose()
    assert streamed.value.code == unstreamed.value.code == code
    assert streamed.value.transient == unstreamed.value.transient
    if outcome == "stream_error":  # the provider's failure, not an unreadable answer
        assert str(streamed.value) == "the model provider failed while answering"


def test_a_malformed_streamed_answer_is_read_as_an_unstreamed_one() -> None:
    """The dict a stream assembles goes through the same decoder as an unstreamed body: a member
    of the wrong type leaves it unreadable (a provider fault, retried), not a crash of the job."""
    from chatsvg.adapters.generation.openai_generator import _decode_completion

    good = {
        "model": "gpt-test",
        "choices": [{"message": {"content": "<svg/>"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4},
    }
    bad = {**good, "usage": {"prompt_tokens": "three", "completion_tokens": 4}}
    assert not isinstance(_decode_completion(good), dict)
    assert _decode_completion(bad) is bad
    assert _decode_completion(json.dumps(bad)) == json.dumps(bad)
