"""OpenAiSvgGenerator through the official client, over real HTTP, against the fake OpenAI server."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from chatsvg.adapters.generation.openai_generator import (
    RETRY_AFTER_CAP,
    OpenAiSvgGenerator,
    extract_svg,
    retry_after_seconds,
    system_prompt,
)
from chatsvg.application.ports import GenerationFault, GenerationRequest
from chatsvg.domain.generation.jobs import JobErrorCode
from tests.support.fake_openai import FakeOpenAI, drawing, running_process

PROMPT = "a red fox sleeping under a tree"
MODEL = "gpt-test-mini"


def job(
    prompt: str = PROMPT, *, style: str = "flat", attempt: int = 1, job_id: str = "job-1"
) -> GenerationRequest:
    return GenerationRequest(
        job_id=job_id,
        prompt=prompt,
        style=style,
        model="standard",
        provider_model=MODEL,
        attempt=attempt,
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


@pytest.fixture(params=["httpx", "aiohttp"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def generator(fake: FakeOpenAI, backend: str) -> AsyncIterator[OpenAiSvgGenerator]:
    gen = OpenAiSvgGenerator("sk-test", base_url=fake.base_url, timeout=5.0, http_backend=backend)
    yield gen
    await gen.aclose()


async def fault_of(
    generator: OpenAiSvgGenerator, request: GenerationRequest | None = None
) -> GenerationFault:
    with pytest.raises(GenerationFault) as caught:
        await generator.generate(request or job())
    return caught.value


# --- success -----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["fence", "plain", "xml", "multi"])
async def test_the_svg_is_cut_out_of_every_answer_shape(
    fake: FakeOpenAI, generator: OpenAiSvgGenerator, mode: str
) -> None:
    fake.configure(mode=mode)
    assert (await generator.generate(job())).text == drawing(PROMPT)


async def test_the_answer_carries_the_model_s_usage(
    fake: FakeOpenAI, generator: OpenAiSvgGenerator
) -> None:
    answer = await generator.generate(job())
    # The fake counts like the provider does: about a token per 4 characters, plus the system prompt.
    assert answer.model == MODEL
    assert answer.prompt_tokens == max(1, len(PROMPT) // 4) + 180
    assert answer.completion_tokens > 0
    assert answer.latency_ms >= 0


async def test_sends_the_catalogue_model_a_system_prompt_and_the_user_prompt(
    fake: FakeOpenAI, generator: OpenAiSvgGenerator
) -> None:
    await generator.generate(job(style="line-art", attempt=3, job_id="job-42"))

    seen = fake.requests()
    assert seen["count"] == 1
    assert seen["models"] == {MODEL: 1}
    body = seen["last"]
    assert body["model"] == MODEL
    system, user = body["messages"]
    assert system["role"] == "system"
    assert "line-art" in system["content"]
    assert 'xmlns="http://www.w3.org/2000/svg"' in system["content"]
    assert "viewBox" in system["content"]
    assert "<script>" in system["content"]  # named as forbidden
    assert user == {"role": "user", "content": PROMPT}
    assert body["max_completion_tokens"] == 4000
    assert "max_tokens" not in body
    assert not body.get("stream")
    headers = seen["last_headers"]
    assert headers["authorization"] == "present"
    assert headers["x-client-request-id"] == "job-42-3"


async def test_older_compatible_servers_can_get_max_tokens(fake: FakeOpenAI) -> None:
    gen = OpenAiSvgGenerator(
        "sk-test",
        base_url=fake.base_url,
        max_output_tokens=1234,
        output_limit_param="max_tokens",
    )
    try:
        await gen.generate(job())
    finally:
        await gen.aclose()
    body = fake.requests()["last"]
    assert body["max_tokens"] == 1234
    assert "max_completion_tokens" not in body


def test_an_unknown_output_limit_param_is_refused_at_construction() -> None:
    with pytest.raises(ValueError):
        OpenAiSvgGenerator("sk-test", output_limit_param="max_output_tokens")


async def test_the_api_key_is_sent_as_a_bearer_token() -> None:
    async with FakeOpenAI(api_key="sk-right") as server:
        right = OpenAiSvgGenerator("sk-right", base_url=server.base_url)
        wrong = OpenAiSvgGenerator("sk-wrong", base_url=server.base_url)
        try:
            assert (await right.generate(job())).text.startswith("<svg")
            fault = await fault_of(wrong)
        finally:
            await right.aclose()
            await wrong.aclose()
    # A bad key fails every job until an operator fixes it: permanent, not "rephrase your prompt".
    assert (fault.code, fault.transient) == (JobErrorCode.PROVIDER_UNAVAILABLE, False)


async def test_the_client_does_not_retry_on_its_own(
    fake: FakeOpenAI, generator: OpenAiSvgGenerator
) -> None:
    fake.configure(script=["500"])
    await fault_of(generator)
    assert fake.requests()["count"] == 1


async def test_a_scripted_outage_recovers_call_by_call(
    fake: FakeOpenAI, generator: OpenAiSvgGenerator
) -> None:
    fake.configure(script=["429", "503", "ok"])
    assert (await fault_of(generator)).code == JobErrorCode.PROVIDER_RATE_LIMITED
    assert (await fault_of(generator)).code == JobErrorCode.PROVIDER_UNAVAILABLE
    assert (await generator.generate(job())).text == drawing(PROMPT)
    assert fake.requests()["outcomes"] == {"429": 1, "503": 1, "ok": 1}


async def test_a_prompt_directive_steers_only_that_prompt(
    fake: FakeOpenAI, generator: OpenAiSvgGenerator
) -> None:
    flaky = job("a boat [fake:503x1]")
    assert (await fault_of(generator, flaky)).code == JobErrorCode.PROVIDER_UNAVAILABLE
    assert (await generator.generate(job())).text.startswith("<svg")  # other prompts are unaffected
    assert (await generator.generate(flaky)).text.startswith("<svg")  # used up after one
    assert (
        await fault_of(generator, job("a cat [fake:refuse]"))
    ).code == JobErrorCode.PROVIDER_REFUSED


# --- error mapping -----------------------------------------------------------------------------


async def test_rate_limit_is_transient_with_the_retry_after_hint(
    fake: FakeOpenAI, generator: OpenAiSvgGenerator
) -> None:
    fake.configure(mode="429", retry_after=7)
    fault = await fault_of(generator)
    assert (fault.code, fault.transient, fault.retry_after) == (
        JobErrorCode.PROVIDER_RATE_LIMITED,
        True,
        7.0,
    )


async def test_rate_limit_without_retry_after_leaves_the_delay_to_the_worker(
    fake: FakeOpenAI, generator: OpenAiSvgGenerator
) -> None:
    fake.configure(mode="429", retry_after=None)
    fault = await fault_of(generator)
    assert (fault.code, fault.transient, fault.retry_after) == (
        JobErrorCode.PROVIDER_RATE_LIMITED,
        True,
        None,
    )


@pytest.mark.parametrize(
    ("outcome", "code", "transient"),
    [
        ("500", JobErrorCode.PROVIDER_UNAVAILABLE, True),
        ("502", JobErrorCode.PROVIDER_UNAVAILABLE, True),
        ("503", JobErrorCode.PROVIDER_UNAVAILABLE, True),
        ("409", JobErrorCode.PROVIDER_UNAVAILABLE, True),
        ("408", JobErrorCode.TIMED_OUT, True),
        ("400", JobErrorCode.PROVIDER_REFUSED, False),
        ("422", JobErrorCode.PROVIDER_REFUSED, False),
        ("401", JobErrorCode.PROVIDER_UNAVAILABLE, False),
        ("403", JobErrorCode.PROVIDER_UNAVAILABLE, False),
        ("404", JobErrorCode.PROVIDER_UNAVAILABLE, False),
        ("quota", JobErrorCode.PROVIDER_UNAVAILABLE, False),
        ("refuse", JobErrorCode.PROVIDER_REFUSED, False),
        ("content_filter", JobErrorCode.PROVIDER_REFUSED, False),
        ("prose", JobErrorCode.INVALID_SVG, True),
        ("broken", JobErrorCode.INVALID_SVG, True),
        ("length", JobErrorCode.INVALID_SVG, True),
        ("empty", JobErrorCode.INVALID_SVG, True),
        ("garbage", JobErrorCode.PROVIDER_UNAVAILABLE, True),
        ("hang_up", JobErrorCode.PROVIDER_UNAVAILABLE, True),
    ],
)
async def test_error_mapping(
    fake: FakeOpenAI,
    generator: OpenAiSvgGenerator,
    outcome: str,
    code: JobErrorCode,
    transient: bool,
) -> None:
    fake.configure(mode=outcome)
    fault = await fault_of(generator)
    assert (fault.code, fault.transient) == (code, transient)
    # The message is ours: nothing the provider said (account, model, key, prompt echoes) leaks.
    message = str(fault)
    assert message
    for leak in (
        "org-fake",
        "sk-",
        MODEL,
        "usage policy",
        "overloaded",
        "Sorry",
        "Bad Gateway",
        "fox",
    ):
        assert leak not in message


async def test_a_slow_model_times_out_at_the_client_timeout(fake: FakeOpenAI, backend: str) -> None:
    fake.configure(mode="slow", slow_seconds=10)
    gen = OpenAiSvgGenerator("sk-test", base_url=fake.base_url, timeout=0.3, http_backend=backend)
    started = time.monotonic()
    try:
        fault = await fault_of(gen)
    finally:
        await gen.aclose()
    assert (fault.code, fault.transient) == (JobErrorCode.TIMED_OUT, True)
    assert time.monotonic() - started < 2.0


async def test_an_unreachable_server_is_unavailable(backend: str) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gen = OpenAiSvgGenerator(
        "sk-test", base_url=f"http://127.0.0.1:{port}/v1", timeout=2.0, http_backend=backend
    )
    try:
        fault = await fault_of(gen)
    finally:
        await gen.aclose()
    assert (fault.code, fault.transient) == (JobErrorCode.PROVIDER_UNAVAILABLE, True)


# --- concurrency -------------------------------------------------------------------------------


async def test_two_hundred_requests_run_side_by_side(
    fake: FakeOpenAI, generator: OpenAiSvgGenerator
) -> None:
    fake.configure(latency=0.5)
    prompts = [f"shape number {i}" for i in range(200)]
    started = time.monotonic()
    results = await asyncio.gather(
        *(generator.generate(job(p, job_id=f"job-{i}")) for i, p in enumerate(prompts))
    )
    elapsed = time.monotonic() - started

    assert [r.text for r in results] == [drawing(p) for p in prompts]
    assert elapsed < 10.0  # one after another would take 100 s
    seen = fake.requests()
    assert seen["count"] == 200
    assert seen["max_in_flight"] > 100  # really in flight together, not queued behind a small pool


async def test_requests_in_flight_follow_the_connection_limit(
    fake: FakeOpenAI, backend: str
) -> None:
    # The worker passes its cap on attempts in flight; the client's own default is 1,000.
    fake.configure(latency=0.2)
    gen = OpenAiSvgGenerator(
        "sk-test", base_url=fake.base_url, timeout=5.0, http_backend=backend, max_connections=5
    )
    try:
        results = await asyncio.gather(*(gen.generate(job(f"p{i}")) for i in range(20)))
    finally:
        await gen.aclose()

    assert [r.text for r in results] == [drawing(f"p{i}") for i in range(20)]
    assert fake.requests()["max_in_flight"] == 5


# --- the fake server itself --------------------------------------------------------------------


def _http(method: str, url: str, body: object | None = None) -> tuple[int, dict[str, object]]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


async def test_the_control_api_steers_and_reports(
    fake: FakeOpenAI, generator: OpenAiSvgGenerator
) -> None:
    status, config = await asyncio.to_thread(
        _http, "POST", f"{fake.url}/_control", {"latency": 0.01, "script": ["500"], "mode": "plain"}
    )
    assert status == 200
    assert config["script"] == ["500"] and config["mode"] == "plain" and config["latency"] == 0.01
    assert (await fault_of(generator)).code == JobErrorCode.PROVIDER_UNAVAILABLE
    assert (await generator.generate(job())).text == drawing(PROMPT)

    status, seen = await asyncio.to_thread(_http, "GET", f"{fake.url}/_control/requests")
    assert status == 200
    assert seen["count"] == 2 and seen["outcomes"] == {"500": 1, "plain": 1}
    assert seen["in_flight"] == 0

    status, error = await asyncio.to_thread(
        _http, "POST", f"{fake.url}/_control", {"mode": "teapot"}
    )
    assert status == 400 and "teapot" in str(error["error"])

    status, seen = await asyncio.to_thread(_http, "DELETE", f"{fake.url}/_control/requests")
    assert seen["count"] == 0
    status, config = await asyncio.to_thread(_http, "POST", f"{fake.url}/_control", {"reset": True})
    assert config["mode"] == "fence" and config["script"] == [] and config["latency"] == 0.0


async def test_the_fake_rejects_malformed_requests_like_the_real_api(fake: FakeOpenAI) -> None:
    status, body = await asyncio.to_thread(
        _http, "POST", f"{fake.base_url}/chat/completions", {"messages": []}
    )
    assert status == 400
    assert body["error"]["type"] == "invalid_request_error"  # type: ignore[index]


async def test_the_fake_runs_as_a_separate_process() -> None:
    with running_process(mode="plain", latency=0.05) as server:
        gen = OpenAiSvgGenerator("sk-test", base_url=server.base_url)
        try:
            assert (await gen.generate(job())).text == drawing(PROMPT)
            server.configure(script=["429"], retry_after=3)
            assert (await fault_of(gen)).retry_after == 3.0
        finally:
            await gen.aclose()
        seen = server.requests()
        assert seen["count"] == 2 and seen["models"] == {MODEL: 2}
    assert server.process.returncode is not None


# --- extract_svg -------------------------------------------------------------------------------

SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>'
OTHER = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 5 5"><circle r="2"/></svg>'


@pytest.mark.parametrize(
    "text",
    [
        SVG,
        f"  \n{SVG}\n\n",
        f"```svg\n{SVG}\n```",
        f"```xml\n{SVG}\n```",
        f"```\n{SVG}\n```",
        f"~~~svg\n{SVG}\n~~~",
        f"Sure! Here is your picture:\n\n```svg\n{SVG}\n```\n\nLet me know if you want changes.",
        f"Here you go: {SVG} Enjoy!",
        f'<?xml version="1.0" encoding="UTF-8"?>\n{SVG}',
        f'```xml\n<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n{SVG}\n```',
        f"{SVG}\n\nAnd a variant:\n{OTHER}",
        f"```svg\n{SVG}\n```\n```svg\n{OTHER}\n```",
        f"```css\nrect {{ fill: red; }}\n```\nand the drawing:\n```svg\n{SVG}\n```",
        f"```{SVG}```",
        f"```svg\n{SVG}",  # the closing fence got cut off, the SVG did not
        f"The `<svg>` element is the root. Here it is:\n\n{SVG}",
        f"Use an <svg element's viewBox to scale it:\n{SVG}",
        f"<!-- <svg> in a comment --> {SVG}",
        f"The `<svg>` root opens it.\n```svg\n{SVG}\n```\nThe `</svg>` tag closes it.",
    ],
)
def test_extract_svg_finds_the_first_complete_root(text: str) -> None:
    assert extract_svg(text) == SVG


def test_extract_svg_keeps_nested_svgs_inside_their_root() -> None:
    nested = f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 20 20">{OTHER}<svg x="5"><rect/></svg></svg>'
    assert extract_svg(f"Result:\n{nested}\nDone, with {OTHER} as a bonus") == nested


@pytest.mark.parametrize(
    "svg",
    [
        '<svg viewBox="0 0 1 1" data-note="a > b"><rect/></svg>',
        "<svg viewBox='0 0 1 1' data-note='a/'><rect/></svg>",  # a slash in a value is not "/>"
        "<svg><style><![CDATA[ /* </svg> */ rect { fill: red } ]]></style><rect/></svg>",
        "<svg><!-- </svg> --><rect/></svg>",
        '<svg\n  xmlns="http://www.w3.org/2000/svg"\n  viewBox="0 0 1 1"\n><text>ünïcødé ✓ &amp; 日本</text></svg >',
        '<svg xmlns="http://www.w3.org/2000/svg"/>',
    ],
)
def test_extract_svg_is_not_fooled_by_markup_inside_the_svg(svg: str) -> None:
    assert extract_svg(f"Here:\n{svg}\nbye") == svg


@pytest.mark.parametrize(
    "text",
    [
        "",
        "I would draw a fox with orange fur and a bushy tail.",
        "```svg\n<svg xmlns='http://www.w3.org/2000/svg'><circle r='5'/>\n```",  # truncated
        '<svg xmlns="http://www.w3.org/2000/svg"><rect',
        "</svg> only a closing tag",
        '<SVG viewBox="0 0 1 1"></SVG>',  # XML is case-sensitive: not an svg element
        "<svgfoo></svgfoo>",
        "<!-- <svg></svg> -->",
    ],
)
def test_extract_svg_returns_none_without_a_complete_svg(text: str) -> None:
    assert extract_svg(text) is None


def test_extract_svg_stays_linear_on_hostile_input() -> None:
    started = time.monotonic()
    assert extract_svg("<svg " * 20_000) is None
    assert extract_svg("<svg>" * 20_000) is None
    assert extract_svg("```\n" + "<svg a='" * 5_000) is None
    assert time.monotonic() - started < 2.0


# --- small helpers -----------------------------------------------------------------------------


def test_retry_after_forms() -> None:
    assert retry_after_seconds({"retry-after": "12"}) == 12.0
    assert retry_after_seconds({"retry-after": "0.5"}) == 0.5
    assert retry_after_seconds({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert retry_after_seconds({}) is None
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({"retry-after": "-3"}) is None
    assert retry_after_seconds({"retry-after": "86400"}) == RETRY_AFTER_CAP
    in_a_minute = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    hint = retry_after_seconds({"retry-after": in_a_minute})
    assert hint is not None and 55 <= hint <= 61


def test_the_system_prompt_names_the_style_and_the_rules() -> None:
    for style in ("outline", "3d", "cartoon", "something-new"):
        prompt = system_prompt(style)
        assert f"Style: {style}." in prompt
        assert "xmlns" in prompt and "viewBox" in prompt
    assert system_prompt("outline") != system_prompt("filled")


def test_a_bad_control_change_changes_nothing() -> None:
    fake = FakeOpenAI(mode="plain", latency=0.2)
    with pytest.raises(ValueError):
        fake.configure(mode="prose", script=["ok", "nonsense"])
    with pytest.raises(ValueError):
        fake.configure(colour="blue")
    assert fake.configure() == {
        "latency": 0.2,
        "mode": "plain",
        "script": [],
        "chance": {},
        "retry_after": 1.0,
        "slow_seconds": 30.0,
        "api_key": None,
        "reject_response_format": False,
        "stream_chunk": 64,
        "stream_seconds": 0.0,
    }
    fake.configure(mode="prose", latency=0, append=["429"])
    assert fake.configure(reset=True)["mode"] == "plain"  # back to how it was started
