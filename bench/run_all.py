"""Run every performance benchmark and print one summary (what `make bench` runs).

    .venv/bin/python bench/run_all.py [--repeat 3] [--only accept_path,realtime_latency]
                                      [--quiet-wait 60] [--profile]

Each benchmark runs as its own process (bench/<name>.py), prints its own tables, and ends with a
``BENCH_RESULT`` line; with --repeat N each runs N times and the summary shows the median and
every run's figure. The machine has 2 cores and the figures move with whatever else runs on it:
--quiet-wait S waits up to S seconds before each run for the machine to be mostly idle, and every
run reports how much CPU other work took while it measured.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import psutil
from common import BENCH, RESULT_PREFIX, ROOT, fmt, median, print_table

# (bench, figure, label, unit, target, "max" when the target is a ceiling, "min" when a floor)
FIGURES: list[tuple[str, str, str, str, float, str]] = [
    ("accept_path", "p99_ms", "accept path p99 at 300 req/s", "ms", 25, "max"),
    ("accept_path", "achieved_rate", "accept path achieved rate", "req/s", 300 * 0.98, "min"),
    # Issue 25's ratios: against a bare Litestar endpoint doing one asyncpg SELECT per request.
    ("accept_path", "cpu_ratio", "accept CPU / bare one-SELECT CPU", "x", 2.0, "max"),
    ("accept_path", "ceiling_ratio", "accept ceiling / bare one-SELECT ceiling", "x", 0.5, "min"),
    (
        "accept_path",
        "current_user_cpu_ratio",
        "current-user CPU / bare one-SELECT CPU",
        "x",
        1.5,
        "max",
    ),
    ("accept_path", "api_ceiling_rps", "generate-svg ceiling (wrk)", "req/s", 0, "info"),
    ("accept_path", "bare_ceiling_rps", "bare one-SELECT ceiling (wrk)", "req/s", 0, "info"),
    (
        "accept_path",
        "server_cpu_ms_per_request",
        "API CPU per generate-svg request",
        "ms",
        0,
        "info",
    ),
    (
        "accept_path",
        "current_user_cpu_ms_per_request",
        "API CPU per current-user request",
        "ms",
        0,
        "info",
    ),
    ("accept_path", "bare_cpu_ms_per_request", "bare one-SELECT CPU per request", "ms", 0, "info"),
    ("worker_concurrency", "peak_in_flight", "generations in flight, one worker", "", 1000, "min"),
    ("worker_concurrency", "jobs_per_s", "jobs/s, one worker, 2 s model", "jobs/s", 300, "min"),
    (
        "worker_concurrency",
        "wall_jobs_per_s",
        "jobs/s over the whole run, one worker",
        "jobs/s",
        0,
        "info",
    ),
    ("worker_concurrency", "worker_rss_mb", "worker RSS", "MB", 300, "max"),
    ("worker_concurrency", "worker_cpu_percent", "worker CPU (% of one core)", "%", 0, "info"),
    ("worker_concurrency", "worker_cpu_ms_per_job", "worker CPU per job", "ms", 0, "info"),
    ("pipeline_overhead", "p50_ms", "pipeline overhead p50 at 100 jobs/s", "ms", 15, "max"),
    ("pipeline_overhead", "p99_ms", "pipeline overhead p99 at 100 jobs/s", "ms", 75, "max"),
    (
        "pipeline_overhead",
        "worker_cpu_ms_per_job",
        "worker CPU per job at 100 jobs/s",
        "ms",
        0,
        "info",
    ),
    ("pipeline_overhead", "api_cpu_ms_per_request", "API CPU per accepted job", "ms", 0, "info"),
    ("realtime_latency", "p50_ms", "realtime p50, 1000 sockets", "ms", 0, "info"),
    ("realtime_latency", "p99_ms", "realtime p99, 1000 sockets", "ms", 50, "max"),
]
BENCHES = ["accept_path", "worker_concurrency", "pipeline_overhead", "realtime_latency"]


def wait_for_quiet(max_wait: float, threshold: float = 25.0) -> float:
    """Wait (up to max_wait s) until the machine is under `threshold`% busy over 3 s; its busy %."""
    deadline = time.monotonic() + max_wait
    while True:
        busy = psutil.cpu_percent(interval=3.0)
        if busy <= threshold or time.monotonic() >= deadline:
            return float(busy)
        print(f"  (machine {busy:.0f}% busy; waiting for it to quiet down)", flush=True)


# A fixed, pure-Python CPU workload (integer loop, dicts, strings, JSON), best of five, in a
# fresh interpreter: how fast this machine is at the moment of a run. Machines of one kind differ
# (a later machine of ours ran everything 2.5-3 times slower) and one machine drifts from minute
# to minute, so figures from different runs compare only next to this.
MACHINE_PROBE = """
import json, timeit
def work():
    total = sum(range(200_000))
    rows = [{"id": str(i), "n": i, "tags": ["a", "b"]} for i in range(2_000)]
    text = json.dumps(rows)
    back = json.loads(text)
    return total + len(back) + len("".join(r["id"] for r in back))
print(min(timeit.repeat(work, number=5, repeat=5)) / 5 * 1000)
"""


def machine_probe_ms() -> float | None:
    try:
        out = subprocess.run(
            [sys.executable, "-c", MACHINE_PROBE],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return float(out.stdout.strip())
    except (subprocess.SubprocessError, ValueError):
        return None


def run_one(name: str, extra: list[str]) -> dict[str, Any] | None:
    command = [sys.executable, str(BENCH / f"{name}.py"), *extra]
    print(f"\n=== {name}: {' '.join(command[1:])}", flush=True)
    result: dict[str, Any] | None = None
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        try:
            for line in process.stdout:
                if line.startswith(RESULT_PREFIX):
                    result = json.loads(line[len(RESULT_PREFIX) :])
                print(line, end="", flush=True)
            process.wait(timeout=600)
        except BaseException:
            process.terminate()
            process.wait(30)
            raise
    if process.returncode != 0:
        print(f"!!! {name} exited with {process.returncode}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per benchmark; the summary shows medians"
    )
    parser.add_argument("--only", default="", help="comma-separated subset of " + ",".join(BENCHES))
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=0.0,
        help="seconds to wait for an idle machine before each run",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy profiles in accept_path and worker_concurrency",
    )
    parser.add_argument("--json", default="", help="also write every run's results to this file")
    args = parser.parse_args()
    chosen = [b for b in BENCHES if not args.only or b in args.only.split(",")]

    runs: dict[str, list[dict[str, Any]]] = {b: [] for b in chosen}
    started = time.monotonic()
    for attempt in range(args.repeat):
        for name in chosen:
            if args.quiet_wait:
                wait_for_quiet(args.quiet_wait)
            extra = (
                ["--profile"]
                if args.profile and attempt == 0 and name in ("accept_path", "worker_concurrency")
                else []
            )
            probe = machine_probe_ms()
            if probe is not None:
                print(f"  machine probe: {probe:.1f} ms (lower is faster)", flush=True)
            result = run_one(name, extra)
            if result is not None:
                result["machine_probe_ms"] = probe
                runs[name].append(result)

    rows = []
    for bench, key, label, unit, target, kind in FIGURES:
        if bench not in runs:
            continue
        values = [float(r[key]) for r in runs[bench] if r.get(key) is not None]
        mid = median(values)
        shown = f"{mid:.2f}" if unit == "x" else fmt(mid, 1)
        every = ", ".join(f"{v:.2f}" if unit == "x" else fmt(v, 1) for v in values)
        if kind == "info":
            goal, met = "", ""
        elif kind == "max":
            goal, met = f"<= {target:g} {unit}", "yes" if values and mid <= target else "NO"
        else:
            goal = f">= {target:g} {unit}"
            met = "yes" if values and mid >= target else "NO"
        rows.append([label, f"{shown} {unit}".strip(), every, goal, met])
    probes = [
        float(r["machine_probe_ms"])
        for rs in runs.values()
        for r in rs
        if r.get("machine_probe_ms") is not None
    ]
    if probes:
        rows.append(
            [
                "machine probe before each run (lower is faster)",
                f"{median(probes):.1f} ms",
                ", ".join(f"{p:.1f}" for p in probes),
                "",
                "",
            ]
        )
    others = [
        float(r["others_percent"])
        for rs in runs.values()
        for r in rs
        if r.get("others_percent") is not None
    ]
    print_table(
        f"Summary: median of {args.repeat} run(s) each, {time.monotonic() - started:.0f} s in all"
        + (
            f"; other work took a median {median(others):.0f}% CPU while measuring"
            if others
            else ""
        ),
        ["figure", "median", "every run", "target", "met"],
        rows,
    )
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=2, default=str))


if __name__ == "__main__":
    main()
