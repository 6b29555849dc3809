"""Benchmark 3, pipeline overhead: what the pipeline adds to the model's own latency.

    .venv/bin/python bench/pipeline_overhead.py [--rate 100] [--duration 15] [--threads 64]

One API process and one worker process on the real stack; the fake model answers after a fixed
0.2 s. Users submit POST /api/svg/generate-svg open-loop at a steady rate (bench/loadgen.py).
For every job submitted after the warm-up, from Postgres:

    overhead = finished_at - created_at - model latency

`created_at` is stamped by the API when it accepts the prompt (before its insert commits);
`finished_at` when the worker starts the transaction that records the result, after the SVG has
been sanitized and stored in S3. Split into queue wait (started_at - created_at: commit, Dramatiq
enqueue, Redis, the worker picking it up, the claim) and processing (finished_at - started_at -
model latency: claim and progress transactions, the model call's own overhead, sanitizing, the S3
put). The final commit and the realtime push are measured by realtime_latency.py.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    MachineMeter,
    ProcessMeter,
    SpyRecorder,
    db_fetch,
    emit_result,
    fmt,
    machine_note,
    open_loop_spec,
    percentile,
    print_profile,
    print_table,
    register_users,
    run_loadgen,
    running_stack,
    setting_overrides,
)

MODEL_LATENCY = 0.2


async def jobs_since(since: datetime) -> list[dict[str, Any]]:
    rows = await db_fetch(
        "SELECT id, status, error_code, "
        "extract(epoch FROM created_at)::float8 AS created, "
        "extract(epoch FROM started_at)::float8 AS started, "
        "extract(epoch FROM finished_at)::float8 AS finished "
        "FROM generation_jobs WHERE created_at >= $1 ORDER BY created_at",
        since,
    )
    return [dict(r) for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=100.0, help="jobs submitted per second")
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=8, help="worker (Dramatiq) threads")
    parser.add_argument(
        "--workers", type=int, default=1, help="`chatsvg worker` processes (pods, in production)"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a worker setting, e.g. --set worker_claim_concurrency=16 (repeatable)",
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--profile", action="store_true", help="py-spy the worker while measuring")
    args = parser.parse_args()

    print(
        f"pipeline overhead — model latency {MODEL_LATENCY:g} s, {args.rate:g} jobs/s — {machine_note()}"
    )
    with running_stack("pipeline", model_latency=MODEL_LATENCY) as stack:
        assert stack.fake is not None
        api = stack.api()
        typed = setting_overrides(stack.settings, args.set)
        workers = [
            stack.worker(args.threads, name=f"worker{i}", **typed) for i in range(args.workers)
        ]
        worker = workers[0]
        tokens = asyncio.run(register_users(api.url, args.users))
        since = datetime.now(UTC)
        spec = open_loop_spec(
            api.url,
            tokens,
            "pipeline picture {i}",
            rate=args.rate,
            duration=args.duration,
            warmup=args.warmup,
        )
        api_meter = ProcessMeter(api.pid)
        worker_meters = [ProcessMeter(w.process.pid) for w in workers]
        machine = MachineMeter()
        api_meter.start()
        for meter in worker_meters:
            meter.start()
        machine.start()
        t0 = time.monotonic()
        spy = (
            SpyRecorder(
                worker.process.pid,
                args.warmup + args.duration,
                stack.work / "pipeline-worker.pyspy.txt",
            )
            if args.profile
            else None
        )
        submitted = run_loadgen(
            spec, stack.work, "pipeline", timeout=args.duration + args.warmup + 60
        )
        deadline = time.monotonic() + 20
        jobs = asyncio.run(jobs_since(since))
        while time.monotonic() < deadline and any(
            j["status"] in ("QUEUED", "RUNNING") for j in jobs
        ):
            time.sleep(0.5)
            jobs = asyncio.run(jobs_since(since))
        machine.stop()
        api_meter.stop()
        for meter in worker_meters:
            meter.stop()
        wall = time.monotonic() - t0
        model_calls = stack.fake.requests()["count"]
        worker_profile = spy.finish() if spy is not None else None

    worker_cpu = sum(m.cpu_percent for m in worker_meters)
    worker_rss = max(m.rss_max for m in worker_meters)
    warm = int(args.warmup * args.rate)
    measured = jobs[warm:]
    done = [j for j in measured if j["status"] == "SUCCEEDED"]
    overhead = [(j["finished"] - j["created"] - MODEL_LATENCY) * 1000 for j in done]
    queue_wait = [(j["started"] - j["created"]) * 1000 for j in done]
    processing = [(j["finished"] - j["started"] - MODEL_LATENCY) * 1000 for j in done]
    end_to_end = [(j["finished"] - j["created"]) * 1000 for j in done]

    def row(name: str, values: list[float]) -> list[str]:
        return [
            name,
            fmt(percentile(values, 50), 1),
            fmt(percentile(values, 90), 1),
            fmt(percentile(values, 99), 1),
            fmt(max(values) if values else None, 1),
        ]

    print_table(
        f"Jobs submitted at {args.rate:g}/s for {args.duration:g} s: {len(done)} succeeded of {len(measured)} "
        f"({sum(1 for j in measured if j['status'] == 'FAILED')} failed); model latency {MODEL_LATENCY * 1000:.0f} ms",
        ["ms", "p50", "p90", "p99", "max"],
        [
            row("overhead (finished - created - model)", overhead),
            row("  queue wait (started - created)", queue_wait),
            row("  processing (finished - started - model)", processing),
            row("end to end (finished - created)", end_to_end),
            [
                "submit latency (HTTP, open loop)",
                fmt(submitted["p50_ms"], 1),
                fmt(submitted["p90_ms"], 1),
                fmt(submitted["p99_ms"], 1),
                fmt(submitted["max_ms"], 1),
            ],
        ],
    )
    print(
        f"achieved submit rate {submitted['achieved_rate']:.1f}/s, HTTP errors {submitted['errors']}, "
        f"model calls {model_calls}; API CPU {api_meter.cpu_percent:.0f}%, worker CPU {worker_cpu:.0f}% "
        f"(of one core; {args.workers} process(es)), worker RSS {worker_rss / 2**20:.0f} MB each at most, "
        f"{args.threads} Dramatiq threads"
    )
    all_done = sum(1 for j in jobs if j["status"] == "SUCCEEDED")
    worker_ms_per_job = 10 * worker_cpu * wall / max(all_done, 1)
    api_ms_per_request = 10 * api_meter.cpu_percent * wall / max(len(jobs), 1)
    print(
        f"CPU per job: worker {worker_ms_per_job:.1f} ms, API {api_ms_per_request:.1f} ms per accepted request"
    )
    print(machine.note())
    if worker_profile is not None:
        print_profile(
            f"Worker at {args.rate:g} jobs/s ({worker_ms_per_job:.1f} ms CPU per job)",
            worker_profile,
        )
    p50, p99 = percentile(overhead, 50), percentile(overhead, 99)
    print_table(
        "Against the targets",
        ["figure", "measured", "target", "met"],
        [
            ["overhead p50", f"{fmt(p50, 1)} ms", "<= 15 ms", "yes" if p50 <= 15 else "NO"],
            ["overhead p99", f"{fmt(p99, 1)} ms", "<= 75 ms", "yes" if p99 <= 75 else "NO"],
        ],
    )
    emit_result(
        "pipeline_overhead",
        {
            "rate": args.rate,
            "jobs": len(measured),
            "succeeded": len(done),
            "p50_ms": p50,
            "p99_ms": p99,
            "queue_wait_p50_ms": percentile(queue_wait, 50),
            "queue_wait_p99_ms": percentile(queue_wait, 99),
            "processing_p50_ms": percentile(processing, 50),
            "processing_p99_ms": percentile(processing, 99),
            "submit_p99_ms": submitted["p99_ms"],
            "api_cpu_percent": api_meter.cpu_percent,
            "worker_cpu_percent": worker_cpu,
            "worker_processes": args.workers,
            "others_percent": machine.others_percent,
            "worker_cpu_ms_per_job": worker_ms_per_job,
            "api_cpu_ms_per_request": api_ms_per_request,
        },
    )


if __name__ == "__main__":
    main()
