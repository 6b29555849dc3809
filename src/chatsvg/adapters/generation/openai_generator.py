"""The OpenAI model: Chat Completions through the official `openai` client.

Any OpenAI-compatible server works through `base_url`. The answer is free text, so the SVG is cut
out of it (`extract_svg`); the sanitizer downstream decides whether it is safe and well formed.
Provider errors become `GenerationFault`s with stable job error codes. Their messages are short
summaries of our own making: provider error text can echo the prompt or account details, so it
goes to the log only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx2
import msgspec
import openai
from openai import AsyncOpenAI

from chatsvg.adapters.generation.openai_hints import (
    RETRY_AFTER_CAP,
    really_timed_out,
    retry_after_seconds,
)
from chatsvg.adapters.generation.openai_stream import Unreadable, collect_stream
from chatsvg.adapters.generation.svg_prompting import (
    SVG_SCHEMA,
    SYSTEM_PROMPT,
    conversation,
    extract_svg,
    system_prompt,
    why_no_svg,
)
from chatsvg.application.ports import GenerationFault, GenerationRequest, ModelAnswer
from chatsvg.domain.generation.jobs import JobErrorCode

log = logging.getLogger(__name__)

# The prompt and the SVG extraction live in svg_prompting; re-exported for existing importers.
__all__ = [
    "RETRY_AFTER_CAP",
    "SYSTEM_PROMPT",
    "OpenAiSvgGenerator",
    "extract_svg",
    "retry_after_seconds",
    "system_prompt",
]

_LOGGED_BODY_MAX = 300


class _Message(msgspec.Struct):
    content: str | None = None
    refusal: str | None = None


class _Choice(msgspec.Struct):
    message: _Message | None = None
    finish_reason: str | None = None


class _Usage(msgspec.Struct):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class _Completion(msgspec.Struct):
    """The parts of a Chat Completions answer that are used; everything else is skipped."""

    choices: list[_Choice] | None = None
    model: str | None = None
    usage: _Usage | None = None


_COMPLETION = msgspec.json.Decoder(_Completion)


def _decode_completion(body: Any) -> Any:
    """The answer's choices, or the body itself when it is not a Chat Completions answer (an HTML
    error page from a proxy), which `_svg_from` reports as unreadable. A streamed answer comes
    as the dict its chunks assembled, and is read by the same rules."""
    try:
        if isinstance(body, dict):
            return msgspec.convert(body, _Completion)
        if isinstance(body, str | bytes):
            return _COMPLETION.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        pass
    return body


class OpenAiSvgGenerator:
    name = "openai"

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        timeout: float = 60.0,
        max_output_tokens: int = 4000,
        output_limit_param: str = "max_completion_tokens",
        http_backend: str = "httpx",
        max_connections: int = 1000,
        structured_output: bool = True,
        stream: bool = False,
    ) -> None:
        """`output_limit_param`: OpenAI's current models want `max_completion_tokens`; some
        OpenAI-compatible servers still only know the older `max_tokens`.

        `structured_output`: ask for the answer as JSON (`{"svg": ...}`, a json_schema response
        format). A model that refuses the parameter (HTTP 400 naming it) is asked again at once
        without it, and from then on never with it; free text is read as well.

        `stream`: a request that listens to the answer as it is written (`on_draft`, for live
        drafts) asks for it streamed; the chunks are gathered into the same answer.

        `http_backend`: "httpx" (the client's default) or "aiohttp" (needs the `aiohttp` package).
        With hundreds of requests in flight, httpx's connection pool spends time quadratic in the
        number of connections; the aiohttp transport costs a third of the CPU per request there.
        """
        if output_limit_param not in ("max_completion_tokens", "max_tokens"):
            raise ValueError(f"unknown token limit parameter {output_limit_param!r}")
        if http_backend not in ("httpx", "aiohttp"):
            raise ValueError(f"unknown http backend {http_backend!r}")
        self._timeout = timeout
        self._max_output_tokens = max_output_tokens
        self._output_limit_param = output_limit_param
        self._structured_output = structured_output
        self._stream = stream
        self._unstructured: set[str] = set()  # provider models that refused response_format
        limits = type(openai.DEFAULT_CONNECTION_LIMITS)(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        client_type = (
            openai.DefaultAioHttpClient
            if http_backend == "aiohttp"
            else openai.DefaultAsyncHttpxClient
        )
        # The worker owns retries and backoff (with the job's attempt count and the Retry-After
        # hint), so the client must not retry on its own and multiply the attempts.
        self._client = AsyncOpenAI(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=0,
            http_client=client_type(timeout=timeout, limits=limits),
        )

    async def aclose(self) -> None:
        await self._client.close()

    async def generate(self, request: GenerationRequest) -> ModelAnswer:
        started = time.monotonic()
        try:
            # httpx's timeouts bound each phase (connect, each read, pool wait); this bounds the whole
            # call, so a server that trickles bytes or a saturated pool cannot hold a job forever.
            async with asyncio.timeout(self._timeout):
                # The client's plain `post`: the same request, auth, timeouts and error mapping
                # as `chat.completions.create`, without building a typed request from the
                # parameters and a pydantic model from the answer, which cost twice the CPU of
                # the call itself (docs/performance.md). The answer is decoded with msgspec
                # into the few fields read below.
                structured = (
                    self._structured_output and request.provider_model not in self._unstructured
                )
                try:
                    body = await self._post(request, structured=structured)
                except openai.BadRequestError as exc:
                    if not (structured and "response_format" in str(exc.message)):
                        raise
                    log.info(
                        "model takes no structured output; asking in free text",
                        extra={"model": request.provider_model},
                    )
                    self._unstructured.add(request.provider_model)
                    body = await self._post(request, structured=False)
        except TimeoutError as exc:
            raise GenerationFault(
                JobErrorCode.TIMED_OUT,
                f"model did not answer within {self._timeout:g}s",
                transient=True,
            ) from exc
        except openai.APIError as exc:
            raise self._fault(exc, request) from exc
        completion = _decode_completion(body)
        try:
            svg = self._svg_from(completion, request)
        except GenerationFault as fault:  # an answer all the same: its tokens were spent
            fault.spent = _answer("", completion, request, time.monotonic() - started)
            raise
        log.debug(
            "openai answered",
            extra={
                "job_id": request.job_id,
                "model": request.provider_model,
                "seconds": time.monotonic() - started,
            },
        )
        return _answer(svg, completion, request, time.monotonic() - started)

    async def _post(self, request: GenerationRequest, *, structured: bool) -> Any:
        # The X-Client-Request-Id names the job's attempt, drawing and whether it is a repair.
        call = f"{request.job_id}-{request.attempt}"
        call += f"-{request.variant}" if request.variant else ""
        call += "-r" if request.repair else ""
        body: dict[str, Any] = {
            "model": request.provider_model,
            "messages": conversation(request, structured=structured),
            "n": 1,
            self._output_limit_param: self._max_output_tokens,
        }
        if structured:
            body["response_format"] = SVG_SCHEMA
        options: Any = {"headers": {"X-Client-Request-Id": call}}
        if not (self._stream and request.on_draft is not None):
            return await self._client.post(
                "/chat/completions", cast_to=str, body=body, options=options
            )
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
        # The client sends the request and maps its error statuses; the 200's event stream is
        # read by openai_stream (the client's reader cost 23 µs of CPU per token).
        response = await self._client.post(
            "/chat/completions",
            cast_to=httpx2.Response,
            body=body,
            options=options,
            stream=True,
        )
        try:
            answer = await collect_stream(response, request.on_draft)
        except Unreadable as exc:
            log.warning(
                "unreadable streamed model answer",
                extra={"job_id": request.job_id, "answer": _clip(str(exc))},
            )
            return ""  # read as an unstreamed body that is no completion: unreadable
        finally:
            await response.aclose()
        # A stream with no event in it is a body we cannot read (a proxy's page): as unstreamed.
        return "" if answer is None else answer

    def _svg_from(self, completion: Any, request: GenerationRequest) -> str:
        # Read defensively: an OpenAI-compatible server may omit fields the official API always sends.
        choices = getattr(completion, "choices", None)
        if not isinstance(choices, list):
            # The client hands back the raw body when it is not JSON: an HTML error page from a proxy.
            log.warning(
                "unreadable model answer",
                extra={"job_id": request.job_id, "answer": _clip(str(completion))},
            )
            raise GenerationFault(
                JobErrorCode.PROVIDER_UNAVAILABLE,
                "the model returned an unreadable response",
                transient=True,
            )
        if not choices:
            log.warning("model answer without choices", extra={"job_id": request.job_id})
            raise GenerationFault(
                JobErrorCode.INVALID_SVG, "the model returned an empty answer", transient=True
            )
        choice = choices[0]
        message = getattr(choice, "message", None)
        finish_reason = getattr(choice, "finish_reason", None)
        refusal = getattr(message, "refusal", None)
        if refusal or finish_reason == "content_filter":
            log.info(
                "model refused",
                extra={
                    "job_id": request.job_id,
                    "finish_reason": finish_reason,
                    "refusal": _clip(str(refusal)) if refusal else None,
                },
            )
            raise GenerationFault(
                JobErrorCode.PROVIDER_REFUSED, "the model declined the prompt", transient=False
            )
        content = getattr(message, "content", None)
        if not isinstance(content, str) or not content.strip():
            raise GenerationFault(
                JobErrorCode.INVALID_SVG,
                "the model returned an empty answer",
                transient=True,
                answer="",
            )
        svg = extract_svg(content)
        if svg is None:
            cut_off = finish_reason == "length" or "<svg" in content
            log.warning(
                "no svg in model answer",
                extra={
                    "job_id": request.job_id,
                    "finish_reason": finish_reason,
                    "answer": _clip(content),
                },
            )
            raise GenerationFault(
                JobErrorCode.INVALID_SVG,
                why_no_svg(content, cut_off=cut_off),
                transient=True,
                answer=content,
            )
        return svg

    def _fault(self, exc: openai.APIError, request: GenerationRequest) -> GenerationFault:
        context = {"job_id": request.job_id, "model": request.provider_model}
        if isinstance(exc, openai.APITimeoutError) and really_timed_out(exc):
            return GenerationFault(
                JobErrorCode.TIMED_OUT,
                f"model did not answer within {self._timeout:g}s",
                transient=True,
            )
        if isinstance(exc, openai.APIConnectionError):
            log.warning(
                "openai unreachable", extra={**context, "error": _clip(str(exc.__cause__ or exc))}
            )
            return GenerationFault(
                JobErrorCode.PROVIDER_UNAVAILABLE, "could not reach the model", transient=True
            )
        if not isinstance(exc, openai.APIStatusError) and isinstance(exc.body, dict):
            # An `error` event inside a streamed answer: the provider failed after the 200.
            log.warning("openai failed mid-answer", extra={**context, "error": _clip(exc.message)})
            return GenerationFault(
                JobErrorCode.PROVIDER_UNAVAILABLE,
                "the model provider failed while answering",
                transient=True,
            )
        if not isinstance(exc, openai.APIStatusError):
            # A 2xx the client could not read as a completion: a misbehaving proxy or compatible server.
            log.warning("unreadable openai response", extra={**context, "error": _clip(str(exc))})
            return GenerationFault(
                JobErrorCode.PROVIDER_UNAVAILABLE,
                "the model returned an unreadable response",
                transient=True,
            )

        status = exc.status_code
        details = {
            **context,
            "status": status,
            "request_id": exc.request_id,
            "error_code": exc.code,
            "error": _clip(exc.message),
        }
        if status == 429:
            if exc.code == "insufficient_quota":
                # OpenAI says 429 for an exhausted account too; no backoff fixes that, an operator must.
                log.error("openai quota exhausted: check the account's billing", extra=details)
                return GenerationFault(
                    JobErrorCode.PROVIDER_UNAVAILABLE,
                    "the model provider account is out of quota",
                    transient=False,
                )
            retry_after = retry_after_seconds(exc.response.headers)
            log.info("openai rate limited", extra={**details, "retry_after": retry_after})
            return GenerationFault(
                JobErrorCode.PROVIDER_RATE_LIMITED,
                "the model provider is rate limiting requests (HTTP 429)",
                transient=True,
                retry_after=retry_after,
            )
        if status >= 500:
            log.warning("openai server error", extra=details)
            return GenerationFault(
                JobErrorCode.PROVIDER_UNAVAILABLE,
                f"the model provider failed (HTTP {status})",
                transient=True,
            )
        if status in (401, 403, 404):
            # A bad key, a key without access to the model, or a catalogue naming a model the provider
            # does not have: an operator's mistake that no prompt change or retry can fix, and that
            # fails every job until someone acts, hence the loud log. Not PROVIDER_REFUSED, which
            # tells the user to rephrase.
            log.error(
                "openai rejected our credentials or model name: check OPENAI_API_KEY and the catalogue",
                extra=details,
            )
            return GenerationFault(
                JobErrorCode.PROVIDER_UNAVAILABLE,
                f"the model provider rejected the service's configuration (HTTP {status})",
                transient=False,
            )
        if status == 408:
            return GenerationFault(
                JobErrorCode.TIMED_OUT, "the model provider timed out (HTTP 408)", transient=True
            )
        if status == 409:
            # The official client retries 409 (a lock conflict on the provider's side) by default.
            log.warning("openai conflict", extra=details)
            return GenerationFault(
                JobErrorCode.PROVIDER_UNAVAILABLE,
                "the model provider was busy (HTTP 409)",
                transient=True,
            )
        # 400, 413, 422 and the rest: this request, as written, will not be accepted (content policy,
        # a prompt the model will not take). Retrying the same prompt gives the same answer.
        log.info("openai rejected the request", extra=details)
        return GenerationFault(
            JobErrorCode.PROVIDER_REFUSED,
            f"the model provider rejected the request (HTTP {status})",
            transient=False,
        )


def _answer(svg: str, completion: Any, request: GenerationRequest, seconds: float) -> ModelAnswer:
    """The answer with its usage as the provider reported it (a compatible server may send no
    `usage`, or no `model`: then zeros, and the model asked for)."""
    usage = getattr(completion, "usage", None)
    model = getattr(completion, "model", None)
    return ModelAnswer(
        text=svg,
        model=model if isinstance(model, str) and model else request.provider_model,
        prompt_tokens=max(0, getattr(usage, "prompt_tokens", None) or 0),
        completion_tokens=max(0, getattr(usage, "completion_tokens", None) or 0),
        latency_ms=round(seconds * 1000),
    )


def _clip(text: str) -> str:
    return text if len(text) <= _LOGGED_BODY_MAX else text[:_LOGGED_BODY_MAX] + "…"
