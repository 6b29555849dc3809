"""Benchmark 2, worker concurrency: how many generations ONE `chatsvg worker` keeps in flight.

    .venv/bin/python bench/worker_concurrency.py [--configs 8:2000,64:2000] [--jobs 3000] [--profile]

The fake model answers every request after 2 s. For each configuration (Dramatiq threads :
CHATSVG_WORKER_MAX_IN_FLIGHT) the jobs are submitted first through the application's own use case
(GenerationService.submit: the row in Postgres and the Dramatiq message in Redis, as the API does),
then one `chatsvg worker --threads T` process starts and runs them. Sampled every 0.2 s: the fake
server's in-flight count, the Redis queue depth, the worker's CPU and RSS; per thread CPU from
/proc; the CPU of everything else on the machine.

Figures: peak (the fake server's own high-water mark) and median (while the worker could be full)
generations in flight, sustained jobs/s (completions between the 10th and the 90th percentile
finish times) and jobs/s over the whole run (every job, from the worker being ready to the last
one done; with a long backlog, `--jobs 8000 --max-seconds 60`, this is the steady rate), the
worker's CPU (% of one core), CPU ms per job and peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import redis
from common import (
    REDIS_URL,
    MachineMeter,
    ProcessMeter,
    SpyRecorder,
    Stack,
    cpu_by_group,
    cpu_share,
    db_fetch,
    emit_result,
    find_child,
    flush_redis,
    fmt,
    machine_note,
    median,
    print_profile,
    print_table,
    running_stack,
    setting_overrides,
)

from chatsvg.application.accounts.auth import ClientInfo
from chatsvg.application.generation.submission import SubmitCommand
from chatsvg.entrypoints.containers import create_container

MODEL_LATENCY = 2.0
QUEUE_KEY = "chatsvg:chatsvg-generations"


async def submit_jobs(stack: Stack, users: int, jobs: int, tag: str) -> tuple[float, list[str]]:
    """Register users (first call) and submit `jobs` jobs through GenerationService.submit."""
    assert stack.settings is not None
    container = create_container(stack.settings, worker_process=True)
    try:
        user_ids: list[str] = stack.scratch.setdefault("users", [])
        if not user_ids:
            auth = container.accounts.auth()
            for i in range(users):
                signed = await auth.register(
                    email=f"worker{i}-{uuid.uuid4().hex[:6]}@example.com",
                    password="correct horse battery",
                    name=f"Worker {i}",
                    agreed_to_terms=True,
                    client=ClientInfo("bench", "127.0.0.1"),
                )
                user_ids.append(signed.account.user.id)
        service = container.generation.submission()
        limit = asyncio.Semaphore(32)
        ids: list[str] = []

        async def one(i: int) -> None:
            async with limit:
                submitted = await service.submit(
                    SubmitCommand(
                        user_id=user_ids[i % len(user_ids)],
                        prompt=f"{tag} picture {i}",
                        style="flat",
                        model=None,
                        privacy=None,
                        raw_body=None,
                    )
                )
                ids.append(submitted.job.id)

        started = time.monotonic()
        await asyncio.gather(*(one(i) for i in range(jobs)))
        return time.monotonic() - started, ids
    finally:
        await container.infrastructure.database().dispose()


async def job_counts(since: datetime) -> dict[str, int]:
    rows = await db_fetch(
        "SELECT status, count(*) AS n FROM generation_jobs WHERE created_at >= $1 GROUP BY status",
        since,
    )
    return {str(r["status"]): int(r["n"]) for r in rows}


async def finish_times(since: datetime) -> list[float]:
    rows = await db_fetch(
        "SELECT extract(epoch FROM finished_at)::float8 AS t FROM generation_jobs "
        "WHERE created_at >= $1 AND status = 'SUCCEEDED' ORDER BY finished_at",
        since,
    )
    return [float(r["t"]) for r in rows]


async def retire_leftovers() -> None:
    """Jobs a stopped worker left queued or running must not be picked up by the next one."""
    await db_fetch(
        "UPDATE generation_jobs SET status = 'FAILED', error_code = 'BENCH_ABANDONED' "
        "WHERE status IN ('QUEUED', 'RUNNING') RETURNING id"
    )


def sustained_rate(times: list[float]) -> float:
    if len(times) < 10:
        return 0.0
    lo, hi = int(len(times) * 0.1), int(len(times) * 0.9)
    span = times[hi - 1] - times[lo]
    return (hi - 1 - lo) / span if span > 0 else 0.0


def thread_roles(pid: int) -> dict[int, str]:
    """Native thread id -> role, from one `py-spy dump` of the worker (empty without py-spy)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        return {}
    dump = subprocess.run(
        [spy, "dump", "-p", str(pid)], capture_output=True, text=True, timeout=60, check=False
    )
    roles: dict[int, str] = {}
    for block in re.split(r"\n(?=Thread \d+)", dump.stdout):
        match = re.match(r'Thread (\d+) \([^)]*\): "([^"]*)"', block.strip())
        if match is None:
            continue
        name = match.group(2)
        if name == "chatsvg-jobs" or "EventLoopThread.run (" in block or "run_forever" in block:
            role = "asyncio loop thread"
        elif "WorkerThread" in block:
            role = "dramatiq worker threads"
        elif "ConsumerThread" in block:
            role = "dramatiq consumer threads"
        elif name.startswith("s3"):
            role = "S3 executor threads"
        elif name.startswith(("asyncio", "ThreadPoolExecutor")):
            role = "to_thread executor threads"
        elif name == "MainThread":
            role = "main thread"
        else:
            role = "other threads"
        roles[int(match.group(1))] = role
    return roles


def thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds so far of every thread of `pid`, from /proc (exact, no sampling)."""
    ticks = os.sysconf("SC_CLK_TCK")
    used: dict[int, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            used[int(task.name)] = (int(fields[11]) + int(fields[12])) / ticks
    return used


@dataclass(frozen=True)
class Config:
    threads: int  # Dramatiq threads (`--threads`)
    max_in_flight: int  # CHATSVG_WORKER_MAX_IN_FLIGHT, where the tree has it

    @property
    def label(self) -> str:
        return f"{self.threads} thr / {self.max_in_flight} max"


def run_config(stack: Stack, config: Config, jobs: int, args: argparse.Namespace) -> dict[str, Any]:
    assert stack.fake is not None and stack.settings is not None
    since = datetime.now(UTC)
    tag = f"t{config.threads}m{config.max_in_flight}"
    insert_seconds, _ids = asyncio.run(submit_jobs(stack, args.users, jobs, tag))
    stack.fake.clear_requests()
    queue = redis.Redis.from_url(REDIS_URL)
    overrides = {"worker_max_in_flight": config.max_in_flight}
    if "worker_max_in_flight" not in stack.settings.__struct_fields__:
        overrides = {"worker_concurrency": config.max_in_flight}  # an older tree: ignored there
    overrides.update(setting_overrides(stack.settings, args.set))
    worker = stack.worker(config.threads, name=f"worker-{tag}", **overrides)
    pid = worker.process.pid
    ready_at = time.monotonic()
    threads0 = thread_cpu(pid)
    meter = ProcessMeter(pid)
    meter.start()
    groups = {"worker": pid, "fake-openai": stack.fake.pid, "moto": find_child("moto.server")}
    cpu0 = cpu_by_group(groups)
    machine = MachineMeter()
    machine.start()
    spy = None
    if args.profile:
        spy = SpyRecorder(pid, min(8.0, args.max_seconds), stack.work / f"worker-{tag}.pyspy.txt")
    samples: list[dict[str, Any]] = []
    next_db = 0.0
    done = 0
    deadline = ready_at + args.max_seconds
    try:
        while time.monotonic() < deadline:
            now = time.monotonic()
            fake = stack.fake.requests()
            samples.append(
                {
                    "t": now - ready_at,
                    "in_flight": fake["in_flight"],
                    "queued": int(queue.llen(QUEUE_KEY) or 0),
                    "calls": fake["count"],
                    "rss": meter.sample(),
                    "done": done,
                }
            )
            if now >= next_db:
                counts = asyncio.run(job_counts(since))
                next_db = now + 1.0
                done = counts.get("SUCCEEDED", 0) + counts.get("FAILED", 0)
                if done >= jobs:
                    break
            time.sleep(0.2)
        elapsed = time.monotonic() - ready_at
        window_end = time.time()
        threads1 = thread_cpu(pid)
        meter.stop()
        machine.stop()
        cpu1 = cpu_by_group(groups)
        roles = thread_roles(pid)
        peak = int(stack.fake.requests()["max_in_flight"])
    finally:
        worker.stop()
        queue.close()
    profile = spy.finish() if spy is not None else None
    counts = asyncio.run(job_counts(since))
    times = asyncio.run(finish_times(since))
    asyncio.run(retire_leftovers())
    flush_redis()
    # "Saturated": jobs still waiting in Redis and the first answers due, so the worker could be full.
    saturated = [
        s["in_flight"]
        for s in samples
        if s["t"] >= MODEL_LATENCY + 0.5 and (s["queued"] > 0 or s["calls"] < jobs)
    ]
    by_role: dict[str, float] = {}
    for tid, seconds in threads1.items():
        role = roles.get(tid, "other threads")
        by_role[role] = by_role.get(role, 0.0) + 100 * (seconds - threads0.get(tid, 0.0)) / elapsed
    in_window = sum(1 for t in times if t <= window_end)
    cpu_seconds = meter.cpu_percent / 100 * elapsed
    return {
        "config": config.label,
        "threads": config.threads,
        "max_in_flight": config.max_in_flight,
        "jobs": jobs,
        "insert_seconds": insert_seconds,
        "measured_seconds": elapsed,
        "succeeded": counts.get("SUCCEEDED", 0),
        "failed": counts.get("FAILED", 0),
        "peak_in_flight": peak,
        "median_in_flight": median(saturated) if saturated else float("nan"),
        "jobs_per_s": sustained_rate(times),
        # Every job over the whole run, from the worker being ready to the last one done: the
        # first model latency and the tail included, so lower than the rate above on short runs.
        "wall_jobs_per_s": counts.get("SUCCEEDED", 0) / elapsed if elapsed else float("nan"),
        "worker_cpu_percent": meter.cpu_percent,
        "worker_cpu_ms_per_job": 1000 * cpu_seconds / in_window if in_window else float("nan"),
        "worker_rss_mb": meter.rss_max / 2**20,
        "worker_os_threads": meter.threads_max,
        "machine_cpu": cpu_share(cpu0, cpu1, elapsed),
        "thread_cpu": by_role,
        "others_percent": machine.others_percent,
        "profile": profile,
        "timeline": _timeline(samples),
    }


def _timeline(samples: list[dict[str, Any]], step: float = 2.0) -> list[dict[str, Any]]:
    picked: list[dict[str, Any]] = []
    for sample in samples:
        if not picked or sample["t"] >= picked[-1]["t"] + step:
            picked.append(sample)
    return [{**s, "rss": round(s["rss"] / 2**20)} for s in picked]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--configs",
        default="8:2000",
        help="comma-separated THREADS:MAX_IN_FLIGHT pairs (Dramatiq threads : in-flight cap)",
    )
    parser.add_argument("--jobs", type=int, default=3000, help="jobs per configuration")
    parser.add_argument("--max-seconds", type=float, default=25.0, help="cap per configuration")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the worker (first 8 s of each configuration)"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a worker setting, e.g. --set s3_max_connections=16 (repeatable)",
    )
    args = parser.parse_args()
    configs = []
    for item in args.configs.split(","):
        threads, _, cap = item.strip().partition(":")
        configs.append(Config(int(threads), int(cap or 2000)))

    print(f"worker concurrency — model latency {MODEL_LATENCY:g} s — {machine_note()}")
    results: list[dict[str, Any]] = []
    with running_stack("worker", model_latency=MODEL_LATENCY) as stack:
        for config in configs:
            results.append(run_config(stack, config, args.jobs, args))
            r = results[-1]
            print(
                f"  {config.label}: {r['succeeded']}/{r['jobs']} done in {r['measured_seconds']:.1f} s, "
                f"peak in flight {r['peak_in_flight']}, {r['jobs_per_s']:.0f} jobs/s "
                f"({r['wall_jobs_per_s']:.0f} over the whole run)",
                flush=True,
            )
    report(results)


def report(results: list[dict[str, Any]]) -> None:
    print_table(
        f"One `chatsvg worker` process, model latency {MODEL_LATENCY:g} s",
        [
            "config",
            "jobs",
            "done",
            "failed",
            "peak in flight",
            "median in flight",
            "jobs/s",
            "jobs/s, whole run",
            "worker CPU %",
            "CPU ms/job",
            "RSS MB",
            "OS threads",
        ],
        [
            [
                r["config"],
                str(r["jobs"]),
                str(r["succeeded"]),
                str(r["failed"]),
                str(r["peak_in_flight"]),
                fmt(r["median_in_flight"], 0),
                fmt(r["jobs_per_s"], 0),
                fmt(r["wall_jobs_per_s"], 0),
                fmt(r["worker_cpu_percent"], 0),
                fmt(r["worker_cpu_ms_per_job"], 1),
                fmt(r["worker_rss_mb"], 0),
                str(r["worker_os_threads"]),
            ]
            for r in results
        ],
    )
    for r in results:
        print_table(
            f"Timeline, {r['config']} (done: from Postgres, sampled each second)",
            ["t s", "in flight", "queued in Redis", "model calls", "jobs done", "RSS MB"],
            [
                [
                    fmt(s["t"], 1),
                    str(s["in_flight"]),
                    str(s["queued"]),
                    str(s["calls"]),
                    str(s["done"]),
                    str(s["rss"]),
                ]
                for s in r["timeline"]
            ],
        )
    groups = sorted({g for r in results for g in r["machine_cpu"]})
    print_table(
        "CPU while measuring, % of one core (the machine has 200%; 'others' is work not ours)",
        ["config", *groups, "others"],
        [
            [
                r["config"],
                *(fmt(r["machine_cpu"].get(g), 0) for g in groups),
                fmt(r["others_percent"], 0),
            ]
            for r in results
        ],
    )
    roles = sorted({k for r in results for k in r["thread_cpu"]})
    print_table(
        "Worker CPU by thread (exact, from /proc; % of one core)",
        ["config", *roles],
        [[r["config"], *(fmt(r["thread_cpu"].get(k), 0) for k in roles)] for r in results],
    )
    best = max(results, key=lambda r: r["jobs_per_s"])
    print_table(
        f"Against the targets (best configuration: {best['config']})",
        ["figure", "measured", "target", "met"],
        [
            [
                "generations in flight",
                str(best["peak_in_flight"]),
                ">= 1000",
                "yes" if best["peak_in_flight"] >= 1000 else "NO",
            ],
            [
                "jobs/s",
                fmt(best["jobs_per_s"], 0),
                ">= 300",
                "yes" if best["jobs_per_s"] >= 300 else "NO",
            ],
            [
                "worker RSS",
                f"{fmt(best['worker_rss_mb'], 0)} MB",
                "<= 300 MB",
                "yes" if best["worker_rss_mb"] <= 300 else "NO",
            ],
        ],
    )
    for r in results:
        if r["profile"]:
            print_profile(f"Worker, {r['config']}", r["profile"])
    emit_result(
        "worker_concurrency",
        {
            "configs": [
                {k: v for k, v in r.items() if k not in ("profile", "timeline")} for r in results
            ],
            "peak_in_flight": best["peak_in_flight"],
            "median_in_flight": best["median_in_flight"],
            "jobs_per_s": best["jobs_per_s"],
            "wall_jobs_per_s": best["wall_jobs_per_s"],
            "worker_rss_mb": best["worker_rss_mb"],
            "worker_cpu_percent": best["worker_cpu_percent"],
            "worker_cpu_ms_per_job": best["worker_cpu_ms_per_job"],
            "best_config": best["config"],
            "others_percent": best["others_percent"],
        },
    )


if __name__ == "__main__":
    main()
