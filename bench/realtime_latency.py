"""Benchmark 4, realtime: from a job's status change being committed to the owner's socket.

    .venv/bin/python bench/realtime_latency.py [--sockets 1000] [--users 200] [--rate 50]

One API process (it holds every socket) and one worker process on the real stack; the fake model
answers after 0.5 s. --sockets Socket.IO clients (websocket transport) connect from two separate
client processes (bench/socket_clients.py), spread evenly over --users users, so each user has
sockets/users of them. Then jobs are submitted open-loop through the API at --rate jobs/s.

Commit times come from Postgres itself: the bench adds, to its own throw-away database, a
deferred constraint trigger on generation_jobs that records clock_timestamp() for every inserted
or updated row when its transaction commits (deferred triggers run at COMMIT, just before the
commit record is flushed). Every `generation-job:update` a socket receives is matched with the
commit that wrote that (job, status, progress), on this machine's one clock:

- QUEUED             inserted by the API, pushed by the API
- RUNNING 10         claimed by the worker
- RUNNING 70 / 90    the model answered / the SVG is stored
- SUCCEEDED          finished by the worker

Worker events travel worker -> Redis pub/sub -> the API process -> the socket. A second table
compares the same arrivals with the timestamps the use cases write (created_at, started_at,
finished_at), which are taken *before* the transaction begins: that gap adds the time a job
waited for a database connection and ran its transaction.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    BENCH,
    ROOT,
    MachineMeter,
    ProcessMeter,
    db_fetch,
    emit_result,
    fmt,
    machine_note,
    open_loop_spec,
    percentile,
    print_table,
    register_users,
    run_loadgen,
    running_stack,
    stop_process,
)

MODEL_LATENCY = 0.5
CLIENT_PROCESSES = 2


def token_user(token: str) -> str:
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["sub"])


async def jobs_since(since: datetime) -> list[dict[str, Any]]:
    rows = await db_fetch(
        "SELECT id, user_id, status, "
        "extract(epoch FROM created_at)::float8 AS created, "
        "extract(epoch FROM started_at)::float8 AS started, "
        "extract(epoch FROM finished_at)::float8 AS finished "
        "FROM generation_jobs WHERE created_at >= $1",
        since,
    )
    return [dict(r) for r in rows]


def start_clients(
    url: str, tokens_file: Path, sockets: int, work: Path
) -> list[tuple[subprocess.Popen[str], Path]]:
    per = sockets // CLIENT_PROCESSES
    clients = []
    for k in range(CLIENT_PROCESSES):
        count = per if k < CLIENT_PROCESSES - 1 else sockets - per * (CLIENT_PROCESSES - 1)
        out = work / f"sockets-{k}.json"
        process = subprocess.Popen(
            [
                sys.executable,
                str(BENCH / "socket_clients.py"),
                "--url",
                url,
                "--tokens",
                str(tokens_file),
                "--first",
                str(k * per),
                "--count",
                str(count),
                "--out",
                str(out),
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=open(work / f"sockets-{k}.log", "ab"),  # noqa: SIM115
            text=True,
        )
        clients.append((process, out))
    return clients


def read_line(process: subprocess.Popen[str], prefix: str, timeout: float) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith(prefix):
            return line.strip()
        if not line and process.poll() is not None:
            break
    raise RuntimeError(f"socket client process did not print {prefix}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0, help="jobs submitted per second")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=8, help="worker (Dramatiq) threads")
    args = parser.parse_args()

    print(
        f"realtime — {args.sockets} sockets over {args.users} users, {args.rate:g} jobs/s — {machine_note()}"
    )
    with running_stack("realtime", model_latency=MODEL_LATENCY) as stack:
        asyncio.run(install_commit_trigger())
        api = stack.api()
        stack.worker(args.threads)
        tokens = asyncio.run(register_users(api.url, args.users))
        tokens_file = stack.work / "socket-tokens.txt"
        tokens_file.write_text("\n".join(tokens) + "\n")
        sockets_per_user = collections.Counter(
            token_user(tokens[i % len(tokens)]) for i in range(args.sockets)
        )
        clients = start_clients(api.url, tokens_file, args.sockets, stack.work)
        try:
            ready = [read_line(p, "READY", 120).split() for p, _ in clients]
            connected = sum(int(r[1]) for r in ready)
            print(
                f"  {connected} sockets connected ({sum(int(r[2]) for r in ready)} failed) in "
                f"{max(float(r[3]) for r in ready):.1f} s",
                flush=True,
            )
            time.sleep(1.0)
            since = datetime.now(UTC)
            spec = open_loop_spec(
                api.url,
                tokens,
                "realtime picture {i}",
                rate=args.rate,
                duration=args.duration,
                warmup=1.0,
            )
            api_meter, machine = ProcessMeter(api.pid), MachineMeter()
            api_meter.start()
            machine.start()
            submitted = run_loadgen(spec, stack.work, "realtime", timeout=args.duration + 60)
            deadline = time.monotonic() + 20
            jobs = asyncio.run(jobs_since(since))
            while time.monotonic() < deadline and any(
                j["status"] in ("QUEUED", "RUNNING") for j in jobs
            ):
                time.sleep(0.5)
                jobs = asyncio.run(jobs_since(since))
            time.sleep(1.0)  # the last pushes
            api_meter.stop()
            machine.stop()
            for process, _ in clients:
                assert process.stdin is not None
                process.stdin.write("STOP\n")
                process.stdin.flush()
            for process, _ in clients:
                read_line(process, "DONE", 60)
            results = [json.loads(out.read_text()) for _, out in clients]
            commits = asyncio.run(commit_stamps())
        finally:
            for process, _ in clients:
                stop_process(process, timeout=10)

    figures = analyse(results, jobs, commits, sockets_per_user)
    table = figures.pop("table")
    by_second = figures.pop("by_second")
    print_table(
        f"Commit -> owner's socket, ms ({connected} sockets, {len(jobs)} jobs at "
        f"{submitted['achieved_rate']:.0f}/s; {CLIENT_PROCESSES} client processes)",
        ["event", "deliveries", "p50", "p90", "p99", "max", "p99 from use-case stamp"],
        table,
    )
    print_table(
        "The same, by second of the run (commit time; the load generator's first second is its warm-up)",
        ["second", "deliveries", "p50", "p99"],
        by_second,
    )
    lost = sum(r["disconnects"] for r in results)
    print(
        f"SUCCEEDED deliveries {figures['delivered']} of {figures['expected']} expected; sockets "
        f"dropped {lost}; API CPU {api_meter.cpu_percent:.0f}% (of one core), API RSS "
        f"{api_meter.rss_max / 2**20:.0f} MB; submit p99 {submitted['p99_ms']:.1f} ms"
    )
    print(machine.note())
    p99 = figures["p99_ms"]
    print_table(
        "Against the targets",
        ["figure", "measured", "target", "met"],
        [
            [
                "realtime p99 (all events)",
                f"{fmt(p99, 1)} ms",
                "<= 50 ms",
                "yes" if p99 <= 50 else "NO",
            ]
        ],
    )
    emit_result(
        "realtime_latency",
        {
            "sockets": connected,
            "jobs": len(jobs),
            **figures,
            "dropped_sockets": lost,
            "api_cpu_percent": api_meter.cpu_percent,
            "others_percent": machine.others_percent,
        },
    )


EVENTS = [
    ("QUEUED", 0, "QUEUED (API)", "created"),
    ("RUNNING", 10, "RUNNING 10, claimed (worker)", "started"),
    ("RUNNING", 70, "RUNNING 70, model answered", None),
    ("RUNNING", 90, "RUNNING 90, stored", None),
    ("SUCCEEDED", 100, "SUCCEEDED (worker)", "finished"),
]


def analyse(
    results: list[dict[str, Any]],
    jobs: list[dict[str, Any]],
    commits: dict[tuple[str, str, int], float],
    sockets_per_user: collections.Counter[str],
) -> dict[str, Any]:
    by_id = {j["id"]: j for j in jobs}
    from_commit: dict[tuple[str, int], list[float]] = collections.defaultdict(list)
    from_stamp: dict[tuple[str, int], list[float]] = collections.defaultdict(list)
    stamp_columns = {(status, progress): column for status, progress, _, column in EVENTS}
    by_second: dict[int, list[float]] = collections.defaultdict(list)
    first_commit = min(commits.values()) if commits else 0.0
    for result in results:
        for arrival, _client, job_id, status, progress in result["events"]:
            job = by_id.get(job_id)
            key = (status, int(progress))
            if job is None or key not in stamp_columns:
                continue
            committed = commits.get((job_id, status, int(progress)))
            if committed is not None:
                from_commit[key].append((arrival - committed) * 1000)
                by_second[int(committed - first_commit)].append((arrival - committed) * 1000)
            column = stamp_columns[key]
            if column is not None and job[column] is not None:
                from_stamp[key].append((arrival - job[column]) * 1000)
    table = []
    for status, progress, label, _ in EVENTS:
        values = from_commit[(status, progress)]
        table.append(
            [
                label,
                str(len(values)),
                fmt(percentile(values, 50), 1),
                fmt(percentile(values, 90), 1),
                fmt(percentile(values, 99), 1),
                fmt(max(values) if values else None, 1),
                fmt(percentile(from_stamp[(status, progress)], 99), 1),
            ]
        )
    everything = [v for values in from_commit.values() for v in values]
    table.append(
        [
            "all events",
            str(len(everything)),
            fmt(percentile(everything, 50), 1),
            fmt(percentile(everything, 90), 1),
            fmt(percentile(everything, 99), 1),
            fmt(max(everything) if everything else None, 1),
            "",
        ]
    )
    return {
        "table": table,
        "by_second": [
            [str(second), str(len(v)), fmt(percentile(v, 50), 1), fmt(percentile(v, 99), 1)]
            for second, v in sorted(by_second.items())
        ],
        "p50_ms": percentile(everything, 50),
        "p99_ms": percentile(everything, 99),
        "queued_p99_ms": percentile(from_commit[("QUEUED", 0)], 99),
        "running_p99_ms": percentile(from_commit[("RUNNING", 10)], 99),
        "succeeded_p99_ms": percentile(from_commit[("SUCCEEDED", 100)], 99),
        "running_from_stamp_p99_ms": percentile(from_stamp[("RUNNING", 10)], 99),
        "delivered": len(from_commit[("SUCCEEDED", 100)]),
        "expected": sum(sockets_per_user[j["user_id"]] for j in jobs if j["status"] == "SUCCEEDED"),
    }


async def install_commit_trigger() -> None:
    """On the bench's own database only: stamp every job row's commit (see the module docstring)."""
    await db_fetch("CREATE TABLE bench_commits (job_id text, status text, progress int, at float8)")
    await db_fetch(
        """CREATE FUNCTION bench_commit_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO bench_commits VALUES (NEW.id, NEW.status, NEW.progress,
                                            extract(epoch FROM clock_timestamp()));
          RETURN NULL;
        END $$"""
    )
    await db_fetch(
        "CREATE CONSTRAINT TRIGGER bench_commit_stamp AFTER INSERT OR UPDATE ON generation_jobs "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bench_commit_stamp()"
    )


async def commit_stamps() -> dict[tuple[str, str, int], float]:
    rows = await db_fetch(
        "SELECT job_id, status, progress, min(at) AS at FROM bench_commits GROUP BY 1, 2, 3"
    )
    return {(str(r["job_id"]), str(r["status"]), int(r["progress"])): float(r["at"]) for r in rows}


if __name__ == "__main__":
    main()
