"""How many jobs fail with INVALID_SVG when the model returns unusable drawings in a share of its
answers, with the worker's validate-and-repair step off and on.

The real path: the OpenAI adapter against the fake OpenAI server (in-process), the sanitizer, the
drawing inspector (resvg), the job processor with its retry policy (an unusable answer is worth
two attempts), on the in-memory store. Each answer of the fake, repairs included, is drawn
independently: `--broken` of them are unusable, spread evenly over the kinds below.

    .venv/bin/python bench/repair.py                  # 2000 jobs per arm, 30 % broken answers
    .venv/bin/python bench/repair.py --jobs 500 --broken 0.5

The last line printed is `BENCH_RESULT {json}`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parents[1]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import emit_result, print_table
from tests.conftest import build_stack
from tests.support.fake_openai import BROKEN_OUTCOMES, FakeOpenAI

from chatsvg.adapters.generation.openai_generator import OpenAiSvgGenerator
from chatsvg.adapters.generation.svg_inspector import SvgInspector
from chatsvg.adapters.generation.svg_sanitizer import SvgSanitizer
from chatsvg.adapters.memory.store import MemoryStore, MemoryUnitOfWork
from chatsvg.application.generation.processor import JobProcessor
from chatsvg.application.generation.retry import RetryPolicy
from chatsvg.application.generation.submission import SubmitCommand
from chatsvg.domain.generation.jobs import JobStatus
from chatsvg.domain.generation.requests import Catalogue, ModelSpec

CATALOGUE = Catalogue(models=(ModelSpec("gpt-test", "gpt-test", 1),), default_model="gpt-test")
PROMPTS = ("a red fox", "a lighthouse at dusk", "a cat in a box", "a rocket over the moon")


async def arm(
    fake: FakeOpenAI, *, repair: bool, jobs: int, broken: float, seed: int
) -> dict[str, Any]:
    store = MemoryStore()
    stack = build_stack(lambda: MemoryUnitOfWork(store), start_credits=jobs * 2)  # type: ignore[arg-type, return-value]
    generator = OpenAiSvgGenerator("sk-bench", base_url=fake.base_url, timeout=30)
    processor = JobProcessor(
        uow=stack.uow,
        generator=generator,
        sanitizer=SvgSanitizer(),
        storage=stack.storage,
        realtime=stack.realtime,
        clock=stack.clock,
        catalogue=CATALOGUE,
        policy=RetryPolicy(backoff_base=0.0, backoff_cap=0.0),
        inspector=SvgInspector(),
        repair=repair,
    )
    stack.generation.catalogue = CATALOGUE
    fake.configure(
        reset=True,
        seed=seed,
        chance={kind: broken / len(BROKEN_OUTCOMES) for kind in BROKEN_OUTCOMES},
    )
    user = await stack.user(f"bench-{repair}@example.com")
    ids = []
    for i in range(jobs):
        prompt = PROMPTS[i % len(PROMPTS)]
        command = SubmitCommand(user, prompt, None, None, None, None)
        ids.append((await stack.generation.submit(command)).job.id)
    stack.queue.take()
    started = time.perf_counter()

    async def run(job_id: str) -> None:
        while await processor.process(job_id) is not None:
            pass

    for chunk in range(0, len(ids), 50):
        await asyncio.gather(*(run(job_id) for job_id in ids[chunk : chunk + 50]))
    seconds = time.perf_counter() - started
    await generator.aclose()

    outcomes: Counter[str] = Counter()
    repaired = attempts = 0
    for job_id in ids:
        job = (await stack.generation.details(user, job_id)).job
        outcomes[
            job.status.value if job.status is JobStatus.SUCCEEDED else job.error_code or "?"
        ] += 1
        repaired += bool(job.usage and job.usage.repaired)
        attempts += job.attempts
    calls = fake.requests()["count"]
    return {
        "repair": repair,
        "jobs": jobs,
        "succeeded": outcomes["SUCCEEDED"],
        "invalid_svg": outcomes["INVALID_SVG"],
        "other_failures": jobs - outcomes["SUCCEEDED"] - outcomes["INVALID_SVG"],
        "repaired_jobs": repaired,
        "attempts_per_job": attempts / jobs,
        "model_calls_per_job": calls / jobs,
        "seconds": seconds,
    }


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--broken", type=float, default=0.3, help="share of unusable answers")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # each unusable answer is logged: thousands of lines
    async with FakeOpenAI() as fake:
        off = await arm(fake, repair=False, jobs=args.jobs, broken=args.broken, seed=args.seed)
        on = await arm(fake, repair=True, jobs=args.jobs, broken=args.broken, seed=args.seed)
    kinds = ", ".join(BROKEN_OUTCOMES)
    rows = [
        [
            "off" if not r["repair"] else "on",
            str(r["jobs"]),
            str(r["succeeded"]),
            f"{r['invalid_svg']} ({100 * r['invalid_svg'] / r['jobs']:.2f} %)",
            str(r["other_failures"]),
            str(r["repaired_jobs"]),
            f"{r['attempts_per_job']:.2f}",
            f"{r['model_calls_per_job']:.2f}",
        ]
        for r in (off, on)
    ]
    print_table(
        f"validate and repair: {args.broken:.0%} of answers unusable ({kinds})",
        ["repair", "jobs", "succeeded", "INVALID_SVG", "other", "repaired", "attempts/job",
         "calls/job"],
        rows,
    )  # fmt: skip
    ratio = on["invalid_svg"] / off["invalid_svg"] if off["invalid_svg"] else None
    print(f"INVALID_SVG with repair / without: {ratio if ratio is None else round(ratio, 3)}")
    emit_result("repair", {"broken": args.broken, "off": off, "on": on, "ratio": ratio})


if __name__ == "__main__":
    asyncio.run(main())
