"""Sanitizer throughput on the benign corpus, side by side with DOMPurify on the same files.

    .venv/bin/python bench/sanitizer_bench.py [--passes N]

Both sanitizers get the same files, already in memory, in the same run: SvgSanitizer in this
process, DOMPurify (SVG profile: svg + svgFilters) in Node on a jsdom window. Each side warms up
(at least 2000 calls) and then runs N timed passes; the best pass is reported, as MB/s of input SVG text.
The icon sets, dompurify and jsdom are installed with npm into bench/.cache on first use.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.sanitizer.benign import LLM_SVGS, install_icon_sets  # noqa: E402

from chatsvg.adapters.generation.svg_sanitizer import SvgSanitizer  # noqa: E402

CACHE = ROOT / "bench" / ".cache"
JS_PACKAGES = ("dompurify@3.4.18", "jsdom@29.1.1")  # jsdom 30+ needs Node 22

# One timed pass per Node process: jsdom keeps about 80 KB alive per sanitize() call (over half
# a gigabyte per pass over the icon sets, even with a fresh window), so a long-lived process
# slows down and then runs out of heap. Start-up and the warm-up pass are off the clock.
NODE_RUNNER = r"""
const fs = require('fs');
const { JSDOM } = require('jsdom');
const createDOMPurify = require('dompurify');
const [listFile, group] = [process.argv[2], process.argv[3]];
const texts = JSON.parse(fs.readFileSync(listFile, 'utf8'))[group];
const purify = createDOMPurify(new JSDOM('').window);
const config = { USE_PROFILES: { svg: true, svgFilters: true } };
// Warm up with at least 2000 calls, so a small set is not timed before the JIT has settled.
for (let done = 0; done < 2000; done += texts.length) for (const t of texts) purify.sanitize(t, config);
const start = process.hrtime.bigint();
for (const t of texts) purify.sanitize(t, config);
process.stdout.write(String(Number(process.hrtime.bigint() - start) / 1e9));
"""


def _install_js() -> Path:
    where = CACHE / "dompurify"
    if (
        not (where / "node_modules" / "jsdom").is_dir()
        or not (where / "node_modules" / "dompurify").is_dir()
    ):
        where.mkdir(parents=True, exist_ok=True)
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("npm is needed for the DOMPurify side of the benchmark")
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(where),
                "--no-save",
                "--ignore-scripts",
                "--no-audit",
                "--no-fund",
                *JS_PACKAGES,
            ],
            check=True,
            capture_output=True,
            timeout=600,
        )
    (where / "run.cjs").write_text(NODE_RUNNER)
    return where


def _corpus() -> dict[str, list[str]]:
    sets = install_icon_sets(CACHE / "icon-sets")
    groups = {name: [p.read_text(encoding="utf-8") for p in files] for name, files in sets.items()}
    # The hand-written drawings are few, so they are repeated to give a measurable pass.
    groups["llm-style (x20)"] = list(LLM_SVGS.values()) * 20
    return groups


def _python(groups: dict[str, list[str]], passes: int) -> dict[str, dict[str, float]]:
    sanitizer = SvgSanitizer()
    result = {}
    for name, texts in groups.items():
        size = sum(len(t.encode()) for t in texts)
        for _ in range(-(-2000 // len(texts))):  # the same warm-up as the Node side
            for t in texts:
                sanitizer.sanitize(t)
        times, latencies = [], []
        for _ in range(passes):
            started = time.perf_counter()
            for t in texts:
                one = time.perf_counter()
                sanitizer.sanitize(t)
                latencies.append(time.perf_counter() - one)
            times.append(time.perf_counter() - started)
        result[name] = {
            "bytes": size,
            "best": min(times),
            "files": len(texts),
            "median_ms": statistics.median(latencies) * 1000,
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()

    groups = _corpus()
    runner = _install_js()
    listing = CACHE / "corpus.json"
    listing.write_text(json.dumps(groups))

    python = _python(groups, args.passes)
    node = shutil.which("node") or "node"
    dompurify: dict[str, dict[str, float]] = {}
    for name in groups:
        times = [
            float(
                subprocess.run(
                    [
                        node,
                        "--max-old-space-size=4096",
                        str(runner / "run.cjs"),
                        str(listing),
                        name,
                    ],
                    cwd=runner,
                    check=True,
                    capture_output=True,
                    text=True,
                    timeout=900,
                ).stdout
            )
            for _ in range(args.passes)
        ]
        dompurify[name] = {"best": min(times)}
    modules = runner / "node_modules"
    version = " / ".join(
        f"{name} {json.loads((modules / name / 'package.json').read_text())['version']}"
        for name in ("dompurify", "jsdom")
    )
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout

    print(
        f"SvgSanitizer (Python {sys.version.split()[0]}) vs {version} (Node {node_version.strip()})"
    )
    print(f"best of {args.passes} passes after a warm-up; MB = 10^6 bytes of input SVG\n")
    header = f"{'corpus':<20}{'files':>7}{'MB':>8}{'SvgSanitizer MB/s':>19}{'DOMPurify MB/s':>16}{'ratio':>8}{'ours ms/file (median)':>23}"
    print(header)
    print("-" * len(header))
    total_bytes = total_ours = total_theirs = 0.0
    for name in groups:
        ours, theirs = python[name], dompurify[name]
        mb = ours["bytes"] / 1e6
        ours_rate, theirs_rate = mb / ours["best"], mb / theirs["best"]
        total_bytes += mb
        total_ours += ours["best"]
        total_theirs += theirs["best"]
        print(
            f"{name:<20}{ours['files']:>7}{mb:>8.2f}{ours_rate:>19.2f}{theirs_rate:>16.2f}"
            f"{ours_rate / theirs_rate:>7.2f}x{ours['median_ms']:>23.3f}"
        )
    print("-" * len(header))
    ours_rate, theirs_rate = total_bytes / total_ours, total_bytes / total_theirs
    print(
        f"{'all':<20}{sum(len(t) for t in groups.values()):>7}{total_bytes:>8.2f}"
        f"{ours_rate:>19.2f}{theirs_rate:>16.2f}{ours_rate / theirs_rate:>7.2f}x"
    )


if __name__ == "__main__":
    main()
