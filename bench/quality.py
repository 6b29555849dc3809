"""Picture quality: a fixed set of prompts x the nine styles through one model (what `make quality` runs).

    .venv/bin/python bench/quality.py                      # the offline model, no network
    .venv/bin/python bench/quality.py --base-url http://127.0.0.1:8080/v1 --model qwen2.5-coder
    OPENAI_API_KEY=sk-... .venv/bin/python bench/quality.py --model gpt-4o-mini --base-url \\
        https://api.openai.com/v1

Every answer goes through the product's own path: the generator (the offline model, or the
OpenAI adapter against any OpenAI-compatible server: OpenAI, a llama.cpp server, Ollama's /v1),
then the SVG sanitizer, then resvg. It prints, per style and overall:

  valid      the sanitizer accepted the answer (what the product would serve)
  rendered   resvg drew the accepted SVG and the picture is not blank
  repaired   accepted only after the sanitizer changed it: the answer was not well-formed XML,
             lacked a viewBox, or had elements or attributes removed
  size       bytes of the served (sanitized) SVG: median, 90th percentile, largest
  seconds    time per answer: median and 90th percentile

and, for the offline model, the share of prompts whose named subjects are all drawn (read from
the SVG's subject groups, against the subjects listed with each prompt below). It writes a
contact sheet, one PNG with a row per prompt and a column per style, to look at
(docs/quality-<model>.png unless --sheet says otherwise), and ends with one machine-readable
``BENCH_RESULT {json}`` line like the other benchmarks.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import os
import re
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

try:
    import resvg_py
except ImportError:  # pragma: no cover - a clear message instead of a traceback
    raise SystemExit("the quality bench renders with resvg: .venv/bin/pip install resvg-py") from None

from chatsvg.adapters.generation.svg_inspector import distinct_colours  # noqa: E402
from chatsvg.adapters.generation.svg_sanitizer import SvgSanitizer  # noqa: E402
from chatsvg.adapters.offline_generator import OfflineSvgGenerator  # noqa: E402
from chatsvg.application.ports import GenerationRequest, ModelAnswer, SvgRejected  # noqa: E402

STYLES = ("outline", "filled", "minimal", "modern", "flat", "gradient", "line-art", "3d", "cartoon")

# Each prompt with the library subjects that draw what it names (a hill is drawn as a mountain,
# a cardboard box as a box). The last prompt names nothing drawable on purpose: the abstract
# fallback. Judged by hand, not by the offline model's parser, so the check means something.
PROMPTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("a friendly red fox sitting under a crescent moon", ("fox", "moon")),
    ("a cat sleeping in a cardboard box", ("cat", "box")),
    ("three birds flying over a little house", ("bird", "house")),
    ("a red car parked next to a big tree", ("car", "tree")),
    ("a lighthouse by the sea at sunset", ("lighthouse",)),
    ("a whale and a sailboat on the ocean", ("whale", "boat")),
    ("a rocket flying past a ringed planet", ("rocket", "planet")),
    ("a snowman in a snowy pine forest", ("snowman",)),
    ("a cup of coffee on a wooden table", ("mug", "table")),
    ("a girl holding a yellow balloon", ("person", "balloon")),
    ("a castle on a hill under the stars", ("castle", "mountain", "star")),
    ("a bee visiting a sunflower in the garden", ("bee", "sunflower")),
    ("a purple octopus under the sea", ("octopus",)),
    ("a robot holding a heart", ("robot", "heart")),
    ("a panda eating bamboo in the forest", ("panda",)),
    ("the quiet hope of a new beginning", ()),
)

_SUBJECT_GROUP = re.compile(r'<g id="([a-z-]+)-\d+-\d+"')


class Generator(Protocol):
    async def generate(self, request: GenerationRequest) -> ModelAnswer: ...


@dataclass
class Result:
    prompt: str
    style: str
    expected: tuple[str, ...]
    seconds: float = 0.0
    raw: str = ""
    served: str | None = None
    error: str = ""
    repaired: bool = False
    rendered: bool = False
    png: bytes = b""
    drawn: set[str] = field(default_factory=set)

    @property
    def valid(self) -> bool:
        return self.served is not None


# --- One answer -----------------------------------------------------------------------------------


def _shape_of(svg: str) -> tuple[int, int, bool] | None:
    """(elements, attributes, has a viewBox) of well-formed XML, else None."""
    try:
        root = ET.fromstring(svg)
    except ET.ParseError:
        return None
    elements = list(root.iter())
    return len(elements), sum(len(e.attrib) for e in elements), "viewBox" in root.attrib


def needed_repair(raw: str, served: str) -> bool:
    before, after = _shape_of(raw), _shape_of(served)
    if before is None or after is None:
        return True
    elements, attributes, viewbox = before
    kept_elements, kept_attributes, _ = after
    return not viewbox or kept_elements < elements or kept_attributes < attributes - 1


def rasterize(svg: str, width: int) -> bytes:
    return bytes(
        resvg_py.svg_to_bytes(
            svg_string=svg, width=width, dpi=96.0, skip_system_fonts="<text" not in svg
        )
    )


def not_blank(svg: str) -> bool:
    """resvg draws more than one colour at 24 px (the worker's inspector decodes the PNG)."""
    return distinct_colours(rasterize(svg, 24), stop_at=2) > 1


async def run_one(
    generator: Generator, sanitizer: SvgSanitizer, prompt: str, style: str, model: str,
    expected: tuple[str, ...], index: int, cell: int, timeout: float,
) -> Result:  # fmt: skip
    result = Result(prompt, style, expected)
    request = GenerationRequest(
        job_id=f"quality-{index}", prompt=prompt, style=style, model=model,
        provider_model=model, attempt=1,
    )  # fmt: skip
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):  # no new task: the answer is timed on its own
            result.raw = (await generator.generate(request)).text
    except Exception as exc:  # a model's failure is a figure here, not a crash
        result.error = f"{type(exc).__name__}: {exc}"[:200]
        result.seconds = time.perf_counter() - started
        return result
    result.seconds = time.perf_counter() - started
    try:
        result.served = sanitizer.sanitize(result.raw)
    except SvgRejected as exc:
        result.error = f"rejected: {exc}"[:200]
        return result
    result.repaired = needed_repair(result.raw, result.served)
    try:
        result.png = rasterize(result.served, cell)
        result.rendered = not_blank(result.served)
    except Exception as exc:  # resvg refuses some documents the sanitizer passes
        result.error = f"resvg: {exc}"[:200]
    result.drawn = set(_SUBJECT_GROUP.findall(result.served))
    return result


# --- Figures --------------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(p / 100 * len(ordered)))) - 1]


def share(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else math.nan


def fmt(value: float, digits: int = 1) -> str:
    return "-" if isinstance(value, float) and math.isnan(value) else f"{value:.{digits}f}"


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = "+-" + "-+-".join("-" * w for w in widths) + "-+"
    print(f"\n{title}\n{line}")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print(line)
    for row in rows:
        cells = [c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        print("| " + " | ".join(cells) + " |")
    print(line, flush=True)


def figures(results: Sequence[Result]) -> dict[str, float]:
    n = len(results)
    sizes = [len(r.served.encode()) for r in results if r.served is not None]
    seconds = [r.seconds for r in results if not r.error or r.raw]
    return {
        "answers": n,
        "valid_percent": share(sum(r.valid for r in results), n),
        "rendered_percent": share(sum(r.rendered for r in results), n),
        "repaired_percent": share(sum(r.repaired for r in results), n),
        "size_median_bytes": percentile(sizes, 50),
        "size_p90_bytes": percentile(sizes, 90),
        "size_max_bytes": max(sizes) if sizes else math.nan,
        "seconds_median": percentile(seconds, 50),
        "seconds_p90": percentile(seconds, 90),
    }


def report(results: Sequence[Result], offline: bool) -> dict[str, Any]:
    rows = []
    for style in STYLES:
        f = figures([r for r in results if r.style == style])
        if f["answers"]:
            rows.append(_row(style, f))
    overall = figures(results)
    rows.append(_row("all", overall))
    print_table(
        "Answers by style",
        ["style", "n", "valid %", "rendered %", "repaired %", "size p50", "size p90", "size max",
         "s p50", "s p90"],
        rows,
    )  # fmt: skip
    out: dict[str, Any] = dict(overall)
    if offline:
        named = [r for r in results if r.expected]
        complete = [r for r in named if set(r.expected) <= r.drawn]
        prompts = {r.prompt for r in named}
        whole = {p for p in prompts if all(set(r.expected) <= r.drawn for r in named if r.prompt == p)}
        out["subjects_drawn_percent"] = share(len(complete), len(named))
        out["prompts_fully_drawn"] = f"{len(whole)}/{len(prompts)}"
        print(
            f"\nNamed subjects drawn: {len(complete)}/{len(named)} answers "
            f"({fmt(out['subjects_drawn_percent'])}%), {len(whole)}/{len(prompts)} prompts in every style"
        )
        for p in sorted(prompts - whole):
            missing = sorted({s for r in named if r.prompt == p for s in set(r.expected) - r.drawn})
            print(f"  missing in {p!r}: {', '.join(missing)}")
    failures = [r for r in results if r.error]
    for r in failures[:10]:
        print(f"  {r.style:>8} | {r.prompt[:40]:40} | {r.error}")
    return out


def _row(label: str, f: dict[str, float]) -> list[str]:
    return [
        label,
        str(int(f["answers"])),
        fmt(f["valid_percent"]),
        fmt(f["rendered_percent"]),
        fmt(f["repaired_percent"]),
        fmt(f["size_median_bytes"], 0),
        fmt(f["size_p90_bytes"], 0),
        fmt(float(f["size_max_bytes"]), 0),
        fmt(f["seconds_median"], 3),
        fmt(f["seconds_p90"], 3),
    ]


# --- The contact sheet ------------------------------------------------------------------------------


def contact_sheet(
    results: Sequence[Result], prompts: Sequence[str], styles: Sequence[str], cell: int, title: str
) -> bytes:
    """One PNG: a row per prompt, a column per style; a crossed cell where nothing was served."""
    label_w, head_h, gap = 190, 40, 4
    width = label_w + len(styles) * (cell + gap) + gap
    height = head_h + len(prompts) * (cell + gap) + gap
    by_key = {(r.prompt, r.style): r for r in results}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="8" y="16" font-family="sans-serif" font-size="12" fill="#334155">{escape(title)}</text>',
    ]
    for j, style in enumerate(styles):
        x = label_w + gap + j * (cell + gap) + cell / 2
        parts.append(
            f'<text x="{x}" y="{head_h - 8}" text-anchor="middle" font-family="sans-serif" '
            f'font-size="13" font-weight="bold" fill="#0f172a">{escape(style)}</text>'
        )
    for i, prompt in enumerate(prompts):
        y = head_h + gap + i * (cell + gap)
        for k, text in enumerate(_wrap(prompt, 26)[:4]):
            parts.append(
                f'<text x="8" y="{y + 18 + 15 * k}" font-family="sans-serif" font-size="12" '
                f'fill="#0f172a">{escape(text)}</text>'
            )
        for j, style in enumerate(styles):
            x = label_w + gap + j * (cell + gap)
            r = by_key.get((prompt, style))
            if r is not None and r.png:
                data = base64.b64encode(r.png).decode()
                parts.append(
                    f'<image x="{x}" y="{y}" width="{cell}" height="{cell}" '
                    f'href="data:image/png;base64,{data}"/>'
                )
            else:
                parts.append(
                    f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="#fee2e2"/>'
                    f'<path d="M{x + 10} {y + 10}l{cell - 20} {cell - 20}M{x + cell - 10} {y + 10}'
                    f'l{20 - cell} {cell - 20}" stroke="#dc2626" stroke-width="3"/>'
                )
    parts.append("</svg>")
    return bytes(resvg_py.svg_to_bytes(svg_string="".join(parts), dpi=96.0))


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


# --- Running ----------------------------------------------------------------------------------------


def make_generator(args: argparse.Namespace) -> tuple[Generator, str, bool]:
    base_url = args.base_url or os.environ.get("OPENAI_BASE_URL")
    if args.model == "offline" and not base_url:
        return OfflineSvgGenerator(), "offline", True
    from chatsvg.adapters.generation.openai_generator import OpenAiSvgGenerator

    if args.model == "offline":
        raise SystemExit("--base-url names a model server: give the model's name with --model")
    api_key = args.api_key or os.environ.get("OPENAI_API_KEY") or "not-needed"
    generator = OpenAiSvgGenerator(
        api_key,
        base_url=base_url,
        timeout=args.timeout,
        output_limit_param=args.token_param,
        max_connections=args.concurrency,
    )
    return generator, args.model, False


async def run(args: argparse.Namespace) -> int:
    generator, model, offline = make_generator(args)
    styles = [s for s in args.styles.split(",") if s] if args.styles else list(STYLES)
    unknown = set(styles) - set(STYLES)
    if unknown:
        raise SystemExit(f"unknown styles: {', '.join(sorted(unknown))}")
    prompts = PROMPTS[: args.prompts] if args.prompts else PROMPTS
    sanitizer = SvgSanitizer()
    limit = asyncio.Semaphore(args.concurrency)
    jobs = [(p, e, s) for p, e in prompts for s in styles]

    async def one(index: int, prompt: str, expected: tuple[str, ...], style: str) -> Result:
        async with limit:
            return await run_one(
                generator, sanitizer, prompt, style, model, expected, index, args.cell, args.timeout
            )

    where = "" if offline else f" at {args.base_url or os.environ.get('OPENAI_BASE_URL')}"
    print(
        f"quality bench: model {model!r}{where}, "
        f"{len(prompts)} prompts x {len(styles)} styles = {len(jobs)} answers",
        flush=True,
    )
    started = time.perf_counter()
    results = await asyncio.gather(*(one(i, p, e, s) for i, (p, e, s) in enumerate(jobs)))
    elapsed = time.perf_counter() - started
    close = getattr(generator, "aclose", None)
    if close is not None:
        await close()
    out = report(results, offline)
    sheet = Path(args.sheet or ROOT / "docs" / f"quality-{_slug(model)}.png")
    sheet.parent.mkdir(parents=True, exist_ok=True)
    title = f"ChatSVG quality bench: model {model}, {len(prompts)} prompts x {len(styles)} styles"
    png = contact_sheet(results, [p for p, _ in prompts], styles, args.cell, title)
    sheet.write_bytes(png)
    print(f"\ncontact sheet: {sheet} ({len(png) // 1024} KB); {elapsed:.1f} s for {len(jobs)} answers")
    out.update({"model": model, "styles": len(styles), "prompts": len(prompts), "seconds": elapsed})
    print("BENCH_RESULT " + json.dumps({"bench": "quality", **out}, default=str), flush=True)
    return 0


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "model"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=os.environ.get("QUALITY_MODEL", "offline"),
                        help="'offline' (default) or the model name an OpenAI-compatible server knows")
    parser.add_argument("--base-url", help="OpenAI-compatible endpoint (default: $OPENAI_BASE_URL)")
    parser.add_argument("--api-key", help="default: $OPENAI_API_KEY (local servers need none)")
    parser.add_argument("--token-param", default="max_completion_tokens",
                        choices=("max_completion_tokens", "max_tokens"),
                        help="older or local servers may only know max_tokens")
    parser.add_argument("--styles", help="comma-separated subset of the nine styles")
    parser.add_argument("--prompts", type=int, help="only the first N prompts")
    parser.add_argument("--concurrency", type=int, default=4, help="answers in flight (model runs)")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds per answer")
    parser.add_argument("--cell", type=int, default=112, help="contact sheet cell size, px")
    parser.add_argument("--sheet", help="where to write the PNG (default docs/quality-<model>.png)")
    args = parser.parse_args(argv)  # fmt: skip
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
