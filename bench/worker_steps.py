"""The CPU of each step of a worker's job, measured one step at a time in this process.

    .venv/bin/python bench/worker_steps.py [--jobs 400] [--concurrency 50] [--repeat 3]

`worker_concurrency.py` gives the CPU of a whole job; this says where it goes, without the
database, the queue or the event loop's other work in the way. Each step runs the worker's own
adapters, built as the worker builds them, on the answers of the fake model (in its own process,
answering at once, streamed as the worker asks for it):

  model call     OpenAiSvgGenerator.generate, streamed, with the live-draft publisher fed (its
                 pushes go nowhere), `--concurrency` calls at a time
  sanitize       SvgSanitizer.sanitize of the model's answer
  inspect        SvgInspector.problem of the sanitized drawing (the resvg render included)
  storage put    S3ObjectStorage.put of the drawing to moto (its own process), `--concurrency`
                 at a time (moto closes every connection: each put opens one)

CPU is this process's (user + system) per job, so the fake model and moto are not counted. The
median of `--repeat` rounds is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.support.fake_openai import start_process  # noqa: E402
from tests.support.moto_server import start_moto_process  # noqa: E402
from tests.support.real_stack import AWS_ENV  # noqa: E402

from chatsvg.adapters.generation.openai_generator import OpenAiSvgGenerator  # noqa: E402
from chatsvg.adapters.generation.svg_inspector import SvgInspector  # noqa: E402
from chatsvg.adapters.generation.svg_sanitizer import SvgSanitizer  # noqa: E402
from chatsvg.adapters.storage.s3 import S3ObjectStorage  # noqa: E402
from chatsvg.application.generation.drafts import DraftPublisher  # noqa: E402
from chatsvg.application.ports import GenerationRequest  # noqa: E402
from chatsvg.domain.generation.jobs import GenerationJob, JobStatus  # noqa: E402


class _NoPush:
    async def job_draft(self, user_id: str, payload: dict[str, Any]) -> None:
        return None


def _cpu() -> float:
    return time.process_time()


async def _bounded(concurrency: int, calls: list[Any]) -> list[Any]:
    gate = asyncio.Semaphore(concurrency)

    async def one(call: Any) -> Any:
        async with gate:
            return await call()

    return await asyncio.gather(*(one(call) for call in calls))


async def _round(args: argparse.Namespace, base_url: str, s3_url: str) -> dict[str, float]:
    sanitizer, inspector = SvgSanitizer(), SvgInspector()
    generator = OpenAiSvgGenerator(
        "sk-bench", base_url=base_url, http_backend="aiohttp", stream=True
    )
    storage = S3ObjectStorage("chatsvg-steps", endpoint_url=s3_url, create_bucket=True)
    await storage.ensure_bucket()
    figures: dict[str, float] = {}
    try:
        now = datetime.now(UTC)
        publishers = [
            DraftPublisher(
                GenerationJob(
                    id=f"job-{i}",
                    user_id="user-1",
                    prompt=f"a fox number {i}",
                    style="minimal",
                    model="gpt-4o-mini",
                    privacy=False,
                    cost=1,
                    status=JobStatus.RUNNING,
                    created_at=now,
                    updated_at=now,
                ),
                _NoPush(),  # type: ignore[arg-type]
                sanitizer,
            )
            for i in range(args.jobs)
        ]

        def request(i: int) -> GenerationRequest:
            publisher = publishers[i]
            return GenerationRequest(
                f"job-{i}",
                f"a fox number {i}",
                "minimal",
                "gpt-4o-mini",
                "gpt-4o-mini",
                1,
                on_draft=publisher.feed,
            )

        started = _cpu()
        answers = await _bounded(
            args.concurrency,
            [lambda i=i: generator.generate(request(i)) for i in range(args.jobs)],
        )
        figures["model call (streamed, drafts fed)"] = (_cpu() - started) / args.jobs
        texts = [answer.text for answer in answers]
        if args.split:
            for label, stream in (
                ("  of which: streamed, no drafts", True),
                ("  of which: unstreamed", False),
            ):
                other = OpenAiSvgGenerator(
                    "sk-bench", base_url=base_url, http_backend="aiohttp", stream=stream
                )
                try:

                    def plain(i: int) -> GenerationRequest:
                        return dataclasses.replace(request(i), on_draft=lambda text: None)

                    await _bounded(args.concurrency, [lambda g=other: g.generate(plain(0))] * 60)
                    started = _cpu()
                    await _bounded(
                        args.concurrency,
                        [lambda i=i, g=other: g.generate(plain(i)) for i in range(args.jobs)],
                    )
                    figures[label] = (_cpu() - started) / args.jobs
                finally:
                    await other.aclose()

        started = _cpu()
        svgs = [sanitizer.sanitize(text) for text in texts]
        figures["sanitize"] = (_cpu() - started) / args.jobs

        started = _cpu()
        problems = [inspector.problem(svg) for svg in svgs]
        figures["inspect"] = (_cpu() - started) / args.jobs
        assert not any(problems), problems[:3]

        started = _cpu()
        await _bounded(
            args.concurrency,
            [
                lambda i=i, svg=svg: storage.put(f"bench/{i}.svg", svg.encode(), "image/svg+xml")
                for i, svg in enumerate(svgs)
            ],
        )
        figures["storage put"] = (_cpu() - started) / args.jobs
    finally:
        await generator.aclose()
        await storage.aclose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--split", action="store_true", help="also the model call unstreamed and without drafts"
    )
    parser.add_argument(
        "--stream-chunk",
        type=int,
        default=64,
        help="characters per streamed chunk (the fake's default 64; a real model streams one "
        "token, about 4 characters, per chunk)",
    )
    args = parser.parse_args()
    for name, value in AWS_ENV.items():
        os.environ.setdefault(name, value)
    fake = start_process(latency=0.0)
    fake.configure(stream_chunk=args.stream_chunk)
    moto = start_moto_process(env=AWS_ENV)
    try:
        rounds = [asyncio.run(_round(args, fake.base_url, moto.endpoint_url))]
        rounds += [
            asyncio.run(_round(args, fake.base_url, moto.endpoint_url)) for _ in range(args.repeat)
        ]
    finally:
        fake.stop()
        moto.stop()
    rounds = rounds[1:]  # the first warms up imports and connections
    print(f"CPU ms per job, median of {len(rounds)} rounds of {args.jobs} jobs (this process)")
    total = 0.0
    for step in rounds[0]:
        values = [r[step] * 1000 for r in rounds]
        total += 0 if step.startswith(" ") else statistics.median(values)
        spread = ", ".join(f"{v:.3f}" for v in values)
        print(f"  {step:36s} {statistics.median(values):7.3f}  ({spread})")
    print(f"  {'sum':36s} {total:7.3f}")


if __name__ == "__main__":
    main()
