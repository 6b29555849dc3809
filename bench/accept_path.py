"""Benchmark 1, the API accept path: POST /api/svg/generate-svg by authenticated users.

    .venv/bin/python bench/accept_path.py [--rate 300] [--duration 15] [--profile]

One run, one machine, side by side:

1. `chatsvg serve` (production mode: Postgres, Redis rate limits + Dramatiq queue, moto S3) with
   N pre-registered users sending Bearer tokens; no worker runs, so this is the API alone.
   a. open loop at a fixed rate (bench/loadgen.py, its own process): achieved throughput, p50/p99
      and the API's CPU per accepted prompt;
   b. GET /api/auth/current-user, open loop at the same rate: its CPU per request;
   c. closed loop, wrk with 64 connections: the most this endpoint does (its ceiling).
2. `bench/bare_app.py`, a Litestar app under the same uvicorn settings, on POST /bare/select: one
   asyncpg `SELECT` per request (the least a request that reads the database costs): the same
   open loop and ceiling. With --empty-bare, also its route that touches nothing (the framework
   alone, the reference of the rounds before issue 25).
3. The ratios issue 25 sets targets on (CPU per accepted prompt and per current-user against the
   bare one-query endpoint's, ceiling against its ceiling), and (with --profile) py-spy profiles
   of the API at a steady rate on generate-svg and on current-user.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    BENCH,
    MachineMeter,
    ProcessMeter,
    SpyRecorder,
    Stack,
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
)

WRK_CONNECTIONS = 64
CURRENT_USER = "/api/auth/current-user"
BARE_SELECT = "/bare/select"


def get_request(host: str, token: str, path: str) -> str:
    """One complete HTTP/1.1 GET with the user's bearer token (keep-alive)."""
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: chatsvg-bench\r\n"
        f"Authorization: Bearer {token}\r\n\r\n"
    )


def open_loop(
    url: str,
    tokens: list[str | None],
    args: argparse.Namespace,
    work: Path,
    name: str,
    pid: int,
    *,
    get_path: str | None = None,
    post_path: str | None = None,
) -> dict[str, Any]:
    spec = open_loop_spec(
        url,
        tokens,
        "a lighthouse at dusk, variant {i}",
        rate=args.rate,
        duration=args.duration,
        warmup=args.warmup,
        max_connections=256,
    )
    host = url.removeprefix("http://")
    if get_path is not None:
        spec["requests"] = [get_request(host, t or "", get_path) for t in tokens]
    elif post_path is not None:
        spec["requests"] = [r.replace("/api/svg/generate-svg", post_path) for r in spec["requests"]]
    meter, machine = ProcessMeter(pid), MachineMeter()
    meter.start()
    machine.start()
    report: dict[str, Any] = run_loadgen(spec, work, name, timeout=args.duration + args.warmup + 60)
    machine.stop()
    meter.stop()
    report["server_cpu_percent"] = meter.cpu_percent
    report["server_cpu_ms_per_request"] = (
        10 * meter.cpu_percent / max(report["achieved_rate"], 1e-9)
    )
    report["others_percent"] = machine.others_percent
    report["machine_note"] = machine.note()
    report["server_rss_mb"] = meter.rss_max / 2**20
    by_second: dict[int, list[float]] = {}
    for at_ms, latency_ms, _status in report.pop("samples_ms", None) or []:
        by_second.setdefault(int(at_ms // 1000), []).append(latency_ms)
    report["p99_by_second"] = [
        round(percentile(values, 99) or 0.0, 1) for _, values in sorted(by_second.items())
    ]
    return report


def closed_loop(
    url: str,
    tokens: list[str | None],
    seconds: float,
    work: Path,
    pid: int,
    path: str = "/api/svg/generate-svg",
) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is needed for the closed-loop ceiling: apt-get install -y wrk")
    tokens_file = work / "tokens.txt"
    tokens_file.write_text("\n".join(t or "-" for t in tokens) + "\n")
    body_file = work / "body.json"
    body_file.write_text(json.dumps({"prompt": "a lighthouse at dusk", "style": "flat"}))
    meter = ProcessMeter(pid)
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    meter.start()
    started = time.monotonic()
    done = subprocess.run(
        [
            wrk,
            "-t1",
            f"-c{WRK_CONNECTIONS}",
            f"-d{int(seconds)}s",
            "--timeout",
            "10s",
            "-s",
            str(BENCH / "wrk_post.lua"),
            f"{url}{path}",
            "--",
            str(tokens_file),
            str(body_file),
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
    )
    wall = time.monotonic() - started
    meter.stop()
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    match = re.search(r"WRK_JSON (\{.*\})", done.stdout)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed: {done.stdout[-2000:]} {done.stderr[-2000:]}")
    raw = json.loads(match.group(1))
    seconds_run = raw["duration_us"] / 1e6
    errors = raw["non2xx"] + raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    wrk_cpu = (children1.ru_utime + children1.ru_stime) - (children0.ru_utime + children0.ru_stime)
    return {
        "throughput": (raw["requests"] - errors) / seconds_run,
        "requests": raw["requests"],
        "errors": errors,
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "server_cpu_percent": meter.cpu_percent,
        "wrk_cpu_percent": 100 * wrk_cpu / wall,
    }


def profile(
    url: str, tokens: list[str | None], args: argparse.Namespace, stack: Stack, pid: int
) -> dict[str, Any]:
    """py-spy on the API while it takes generate-svg at --profile-rate, a rate it keeps up with,
    so the samples show the work per request rather than a growing backlog."""
    out = Path(args.out) if args.out else stack.work
    out.mkdir(parents=True, exist_ok=True)
    steady = argparse.Namespace(
        **{**vars(args), "rate": args.profile_rate, "warmup": 1.0, "duration": 10.0}
    )
    recorder = SpyRecorder(pid, 11.0, out / "accept_path.pyspy.txt", native=True)
    measured = open_loop(url, tokens, steady, stack.work, "profile", pid)
    summary: dict[str, Any] = recorder.finish()
    summary["rate"] = args.profile_rate
    summary["p99_ms_while_profiling"] = measured["p99_ms"]
    summary["cpu_ms_per_request"] = measured["server_cpu_ms_per_request"]
    recorder = SpyRecorder(pid, 11.0, out / "current_user.pyspy.txt", native=True)
    measured = open_loop(url, tokens, steady, stack.work, "profile_me", pid, get_path=CURRENT_USER)
    summary["current_user"] = recorder.finish()
    summary["current_user"]["rate"] = args.profile_rate
    summary["current_user"]["cpu_ms_per_request"] = measured["server_cpu_ms_per_request"]
    return summary


# --- the targets of issue 25 -------------------------------------------------------------------

P99_TARGET_MS = 25.0  # at the fixed rate (300 req/s), in every run
CPU_RATIO_TARGET = 2.0  # CPU per accepted prompt / the bare endpoint's, at most
CURRENT_USER_RATIO_TARGET = 1.5  # CPU per current-user / the bare endpoint's, at most
CEILING_RATIO_TARGET = 0.5  # generate-svg's ceiling / the bare endpoint's, at least


def p99_met(open_run: dict[str, Any], rate: float) -> bool:
    """The p99 target, for one open-loop run that kept up with its rate."""
    return open_run["p99_ms"] <= P99_TARGET_MS and open_run["achieved_rate"] >= 0.98 * rate


def print_targets(
    title: str,
    p99: tuple[str, str, bool],
    cpu_ratio: tuple[float, str],
    current_user_ratio: tuple[float, str],
    ceiling_ratio: tuple[float, str],
) -> None:
    """The table of issue 25's targets: the p99 as (measured, target, met), each ratio as (value,
    what it was computed from)."""

    def ratio_row(name: str, ratio: tuple[float, str], target: float, most: bool) -> list[str]:
        value, detail = ratio
        met = value <= target if most else value >= target
        measured = f"{value:.2f} x" + (f" ({detail})" if detail else "")
        return [name, measured, f"{'<=' if most else '>='} {target:g} x", "yes" if met else "NO"]

    print_table(
        title,
        ["figure", "measured", "target", "met"],
        [
            ["p99 at the fixed rate", p99[0], p99[1], "yes" if p99[2] else "NO"],
            ratio_row(
                "CPU per accepted prompt / bare CPU per request", cpu_ratio, CPU_RATIO_TARGET, True
            ),
            ratio_row(
                "current-user CPU / bare CPU per request",
                current_user_ratio,
                CURRENT_USER_RATIO_TARGET,
                True,
            ),
            ratio_row(
                "ceiling ratio (generate / bare)", ceiling_ratio, CEILING_RATIO_TARGET, False
            ),
        ],
    )


# --- interleaved rounds ----------------------------------------------------------------------


def interleaved(args: argparse.Namespace) -> None:
    """--interleave N: the API and the bare app both up (the idle one costs nothing), and N rounds
    of generate-svg, current-user and the bare endpoint at the fixed rate, then both ceilings,
    back to back. Each round's ratios compare figures taken within a minute of each other; the
    medians over rounds are what the targets are judged on. The jobs a round queued are set
    aside (FAILED) before the next, so every round starts from the same queue."""
    rounds: list[dict[str, float]] = []
    with running_stack("accept", model_latency=2.0) as stack:
        api = stack.api()
        tokens: list[str | None] = list(asyncio.run(register_users(api.url, args.users)))
        bare = stack.bare(select=True)
        for number in range(args.interleave):
            gen = open_loop(api.url, tokens, args, stack.work, f"api_open_{number}", api.pid)
            me = open_loop(
                api.url,
                tokens,
                args,
                stack.work,
                f"me_open_{number}",
                api.pid,
                get_path=CURRENT_USER,
            )
            ref = open_loop(
                bare.url,
                [None],
                args,
                stack.work,
                f"bare_open_{number}",
                bare.pid,
                post_path=BARE_SELECT,
            )
            gen_max = closed_loop(api.url, tokens, args.ceiling_seconds, stack.work, api.pid)
            ref_max = closed_loop(
                bare.url, [None], args.ceiling_seconds, stack.work, bare.pid, BARE_SELECT
            )
            bare_cpu = ref["server_cpu_ms_per_request"] or 1e-9
            opened = (gen, me, ref)
            rounds.append(
                {
                    "p99_ms": gen["p99_ms"],
                    "achieved_rate": gen["achieved_rate"],
                    "accept_cpu_ms": gen["server_cpu_ms_per_request"],
                    "current_user_cpu_ms": me["server_cpu_ms_per_request"],
                    "bare_cpu_ms": ref["server_cpu_ms_per_request"],
                    "cpu_ratio": gen["server_cpu_ms_per_request"] / bare_cpu,
                    "current_user_cpu_ratio": me["server_cpu_ms_per_request"] / bare_cpu,
                    "api_ceiling_rps": gen_max["throughput"],
                    "bare_ceiling_rps": ref_max["throughput"],
                    "ceiling_ratio": gen_max["throughput"] / max(ref_max["throughput"], 1e-9),
                    "errors": sum(r["errors"] + r["unfinished"] for r in opened)
                    + gen_max["errors"]
                    + ref_max["errors"],
                    "others_percent": max(gen["others_percent"], ref["others_percent"]),
                }
            )
            asyncio.run(stack.set_queued_jobs_aside())
        bare.stop()
        api.stop()

    columns = [
        ("p99 ms", "p99_ms", 2),
        ("accept ms", "accept_cpu_ms", 2),
        ("current-user ms", "current_user_cpu_ms", 2),
        ("bare ms", "bare_cpu_ms", 2),
        ("accept/bare", "cpu_ratio", 2),
        ("current-user/bare", "current_user_cpu_ratio", 2),
        ("ceiling", "api_ceiling_rps", 0),
        ("bare ceiling", "bare_ceiling_rps", 0),
        ("ceiling ratio", "ceiling_ratio", 2),
        ("errors", "errors", 0),
        ("other work %", "others_percent", 0),
    ]
    medians = {key: statistics.median([r[key] for r in rounds]) for _, key, _ in columns}
    print_table(
        f"{args.interleave} interleaved rounds at {args.rate:g} req/s ({args.duration:g} s each) "
        f"and ceilings (wrk -c{WRK_CONNECTIONS}, {args.ceiling_seconds:g} s); CPU per request",
        ["round", *(title for title, _, _ in columns)],
        [
            [str(i + 1), *(fmt(r[key], digits) for _, key, digits in columns)]
            for i, r in enumerate(rounds)
        ]
        + [["median", *(fmt(medians[key], digits) for _, key, digits in columns)]],
    )
    print_targets(
        "Against the targets of issue 25 (medians over the rounds; p99 in every round)",
        (
            ", ".join(fmt(r["p99_ms"], 1) for r in rounds) + " ms",
            f"<= {P99_TARGET_MS:g} ms at {args.rate:g} req/s, every round",
            all(p99_met(r, args.rate) for r in rounds),
        ),
        (medians["cpu_ratio"], ""),
        (medians["current_user_cpu_ratio"], ""),
        (medians["ceiling_ratio"], ""),
    )
    emit_result(
        "accept_path",
        {"mode": "interleaved", "rate": args.rate, **medians, "rounds": rounds},
    )


# --- main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=300.0, help="open-loop requests/s")
    parser.add_argument(
        "--duration", type=float, default=15.0, help="measured seconds per open-loop run"
    )
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument(
        "--ceiling-seconds", type=float, default=8.0, help="wrk closed-loop seconds"
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument(
        "--empty-bare",
        action="store_true",
        help="also measure the bare app's route that touches nothing (earlier rounds' reference)",
    )
    parser.add_argument(
        "--interleave",
        type=int,
        default=0,
        metavar="N",
        help="N rounds with both servers up, each measuring the API and the bare app back to "
        "back; ratios per round and their medians (steadier on a machine whose speed drifts)",
    )
    parser.add_argument("--profile", action="store_true", help="also profile the API with py-spy")
    parser.add_argument(
        "--profile-rate", type=float, default=120.0, help="req/s while profiling (one it sustains)"
    )
    parser.add_argument(
        "--out", default=None, help="where to write the profile (default: the log dir)"
    )
    args = parser.parse_args()

    print(f"accept path — {machine_note()}")
    if args.interleave > 0:
        interleaved(args)
        return
    results: dict[str, Any] = {}
    with running_stack("accept", model_latency=2.0) as stack:
        api = stack.api()
        tokens: list[str | None] = list(asyncio.run(register_users(api.url, args.users)))
        results["api_open"] = open_loop(api.url, tokens, args, stack.work, "api_open", api.pid)
        results["me_open"] = open_loop(
            api.url, tokens, args, stack.work, "me_open", api.pid, get_path=CURRENT_USER
        )
        results["api_ceiling"] = closed_loop(
            api.url, tokens, args.ceiling_seconds, stack.work, api.pid
        )
        if args.profile:
            results["profile"] = profile(api.url, tokens, args, stack, api.pid)
        api.stop()
        bare = stack.bare(select=True)
        results["bare_open"] = open_loop(
            bare.url, [None], args, stack.work, "bare_open", bare.pid, post_path=BARE_SELECT
        )
        results["bare_ceiling"] = closed_loop(
            bare.url, [None], args.ceiling_seconds, stack.work, bare.pid, BARE_SELECT
        )
        if args.empty_bare:
            results["empty_open"] = open_loop(
                bare.url, [None], args, stack.work, "empty_open", bare.pid
            )
            results["empty_ceiling"] = closed_loop(
                bare.url, [None], args.ceiling_seconds, stack.work, bare.pid
            )
        bare.stop()

    api_open, me_open, bare_open = results["api_open"], results["me_open"], results["bare_open"]
    api_max, bare_max = results["api_ceiling"], results["bare_ceiling"]
    ratio = api_max["throughput"] / bare_max["throughput"] if bare_max["throughput"] else 0.0
    bare_cpu = bare_open["server_cpu_ms_per_request"] or 1e-9
    cpu_ratio = api_open["server_cpu_ms_per_request"] / bare_cpu
    me_ratio = me_open["server_cpu_ms_per_request"] / bare_cpu
    opened = [
        ("generate-svg (ChatSVG)", api_open),
        ("current-user (ChatSVG)", me_open),
        ("bare Litestar, one SELECT", bare_open),
    ]
    ceilings = [("generate-svg (ChatSVG)", api_max), ("bare Litestar, one SELECT", bare_max)]
    if args.empty_bare:
        opened.append(("bare Litestar, no database", results["empty_open"]))
        ceilings.append(("bare Litestar, no database", results["empty_ceiling"]))

    print_table(
        f"Open loop at {args.rate:g} req/s for {args.duration:g} s (bench/loadgen.py: uvloop + httptools, own process)",
        [
            "endpoint",
            "achieved req/s",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "max ms",
            "errors",
            "server CPU %",
            "CPU ms/req",
            "loadgen CPU %",
        ],
        [
            [
                name,
                fmt(r["achieved_rate"]),
                fmt(r["p50_ms"], 2),
                fmt(r["p90_ms"], 2),
                fmt(r["p99_ms"], 2),
                fmt(r["max_ms"], 1),
                str(r["errors"] + r["unfinished"]),
                fmt(r["server_cpu_percent"], 0),
                fmt(r["server_cpu_ms_per_request"], 2),
                fmt(r["loadgen_cpu_percent"], 0),
            ]
            for name, r in opened
        ],
    )
    print(
        "generate-svg p99 ms by second of the run: "
        + " ".join(str(v) for v in api_open.get("p99_by_second", []))
    )
    for name, r in opened:
        print(f"while {name} was measured: {r['machine_note']}")
    print_table(
        f"Closed loop, ceiling (wrk -t1 -c{WRK_CONNECTIONS}, {args.ceiling_seconds:g} s)",
        ["endpoint", "req/s", "p50 ms", "p99 ms", "errors", "server CPU %", "wrk CPU %"],
        [
            [
                name,
                fmt(r["throughput"], 0),
                fmt(r["p50_ms"], 2),
                fmt(r["p99_ms"], 2),
                str(r["errors"]),
                fmt(r["server_cpu_percent"], 0),
                fmt(r["wrk_cpu_percent"], 0),
            ]
            for name, r in ceilings
        ],
    )
    print_targets(
        "Accept path against the targets of issue 25 (reference: the bare one-SELECT endpoint)",
        (
            f"{fmt(api_open['p99_ms'], 2)} ms at {fmt(api_open['achieved_rate'])} req/s",
            f"<= {P99_TARGET_MS:g} ms at {args.rate:g} req/s",
            p99_met(api_open, args.rate),
        ),
        (cpu_ratio, f"{fmt(api_open['server_cpu_ms_per_request'], 2)} / {fmt(bare_cpu, 2)} ms"),
        (me_ratio, f"{fmt(me_open['server_cpu_ms_per_request'], 2)} / {fmt(bare_cpu, 2)} ms"),
        (
            ratio,
            f"{fmt(api_max['throughput'], 0)} / {fmt(bare_max['throughput'], 0)} req/s",
        ),
    )
    if "profile" in results:
        prof = results["profile"]
        print_profile(
            f"API at {prof['rate']:g} req/s ({fmt(prof['cpu_ms_per_request'], 2)} ms CPU per request)",
            prof,
        )
        me = prof["current_user"]
        print_profile(
            f"current-user at {me['rate']:g} req/s "
            f"({fmt(me['cpu_ms_per_request'], 2)} ms CPU per request)",
            me,
        )
    emit_result(
        "accept_path",
        {
            "rate": args.rate,
            "achieved_rate": api_open["achieved_rate"],
            "p50_ms": api_open["p50_ms"],
            "p99_ms": api_open["p99_ms"],
            "errors": api_open["errors"] + api_open["unfinished"],
            "api_ceiling_rps": api_max["throughput"],
            "bare_ceiling_rps": bare_max["throughput"],
            "bare_p99_ms": bare_open["p99_ms"],
            "ceiling_ratio": ratio,
            "cpu_ratio": cpu_ratio,
            "current_user_cpu_ratio": me_ratio,
            "loadgen_cpu_percent": api_open["loadgen_cpu_percent"],
            "server_cpu_percent": api_open["server_cpu_percent"],
            "server_cpu_ms_per_request": api_open["server_cpu_ms_per_request"],
            "current_user_cpu_ms_per_request": me_open["server_cpu_ms_per_request"],
            "current_user_errors": me_open["errors"] + me_open["unfinished"],
            "bare_cpu_ms_per_request": bare_open["server_cpu_ms_per_request"],
            "others_percent": api_open["others_percent"],
        },
    )


if __name__ == "__main__":
    main()
