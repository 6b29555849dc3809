"""The whole picture: deterministic, different per prompt, safe, small, visible; the generator API."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

from chatsvg.adapters.generation.svg_sanitizer import SvgSanitizer
from chatsvg.adapters.offline import render
from chatsvg.adapters.offline_generator import OfflineSvgGenerator
from chatsvg.adapters.offline_generator import render as entry_render
from chatsvg.application.ports import GenerationRequest
from tests.offline.svg import NS, distinct_pixels, names, parse, pixels, subjects
from tests.sanitizer.raster import differing_share
from tests.sanitizer.raster import render as rasterize

SANITIZER = SvgSanitizer()
STYLES = ["outline", "filled", "minimal", "modern", "flat", "gradient", "line-art", "3d", "cartoon"]
UNKNOWN = ["quantum entanglement", "the feeling of a Sunday afternoon", "zxqv", "契約と自由"]


def digest(prompt: str, style: str) -> str:
    return hashlib.sha256(render(prompt, style).encode()).hexdigest()


def test_the_same_prompt_and_style_give_the_same_document() -> None:
    for style in STYLES:
        assert render("a fox under the moon", style) == render("a fox under the moon", style)


def test_the_picture_does_not_depend_on_the_process() -> None:
    # str hashes are salted per process; nothing drawn may depend on them.
    code = (
        "import hashlib;from chatsvg.adapters.offline import render;"
        "print(hashlib.sha256(render('three birds over a house at night','gradient').encode())"
        ".hexdigest())"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert outs == {digest("three birds over a house at night", "gradient")}


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("a cat", "a dog"),
        ("a cat", "a cat on a table"),
        ("a red car", "a blue car"),
        ("a cat", "a cat!"),  # even a small change of words gives a visibly different picture
        ("quantum entanglement", "the feeling of a Sunday afternoon"),
    ],
)
def test_different_prompts_give_different_pictures(a: str, b: str) -> None:
    assert differing_share(rasterize(render(a, "flat")), rasterize(render(b, "flat"))) > 0.01


def test_the_entry_point_renders_what_the_package_renders() -> None:
    assert entry_render("a robot", "3d") == render("a robot", "3d")


async def test_the_generator_answers_a_generation_request() -> None:
    request = GenerationRequest(
        job_id="j1", prompt="a whale", style="cartoon", model="offline",
        provider_model="offline", attempt=1,
    )  # fmt: skip
    answer = await OfflineSvgGenerator().generate(request)
    svg = answer.text
    assert (answer.model, answer.prompt_tokens, answer.completion_tokens) == ("offline", 0, 0)
    assert svg == render("a whale", "cartoon") and names(svg) == ["whale"]


@pytest.mark.parametrize("prompt", UNKNOWN)
@pytest.mark.parametrize("style", STYLES)
def test_unknown_prompts_give_a_valid_abstract_composition(prompt: str, style: str) -> None:
    svg = render(prompt, style)
    assert SANITIZER.sanitize(svg) == svg
    assert [d.name for d in subjects(svg)] == ["abstract"]
    assert distinct_pixels(svg) > 8
    assert svg == render(prompt, style)


def test_unknown_prompts_differ_and_their_colour_words_paint_them() -> None:
    pictures = {render(p, "flat") for p in UNKNOWN}
    assert len(pictures) == len(UNKNOWN)
    assert 'fill="#e53935"' in render("red dreams", "flat")  # the prompt's own red


@pytest.mark.parametrize(
    "prompt",
    [
        '<script>alert(1)</script> a cat & a "dog"',
        "a cat\x00\x01\x1b]0;\ud800 with \ufffe odd characters\r\n",
        "",
        "   ",
        "a cat " * 400,
        "]]><svg onload=alert(1)> a moon",
    ],
)
def test_odd_prompts_only_ever_reach_the_title_as_escaped_text(prompt: str) -> None:
    svg = render(prompt, "flat")
    assert SANITIZER.sanitize(svg) == svg
    root = parse(svg)
    title = root.find(f"{NS}title")
    assert "<script" not in svg and "onload" not in svg.replace("onload=alert", "")
    if title is not None:
        assert len(title.text or "") <= 200
        assert "\x00" not in (title.text or "") and "\r" not in (title.text or "")


def test_the_prompt_is_the_pictures_accessible_title() -> None:
    root = parse(render("a <b>bold</b> fox", "flat"))
    assert root.find(f"{NS}title").text == "a <b>bold</b> fox"


@pytest.mark.parametrize("style", STYLES)
def test_a_scene_renders_to_a_non_blank_png_with_resvg(style: str) -> None:
    svg = render("a friendly red fox sitting under a crescent moon", style)
    rgba = pixels(svg, 128)
    assert len(rgba) == 128 * 128 * 4
    assert all(rgba[i] == 255 for i in range(3, len(rgba), 4))  # the backdrop covers the frame
    assert distinct_pixels(svg) > 30


def test_a_night_prompt_has_a_dark_sky_and_a_day_prompt_a_light_one() -> None:
    def top_brightness(prompt: str) -> float:
        rgba = pixels(render(prompt, "flat"), 64)
        row = rgba[4 * 64 * 2 : 4 * 64 * 3]
        return sum(row[i] + row[i + 1] + row[i + 2] for i in range(0, len(row), 4)) / (3 * 64)

    assert top_brightness("a fox under the moon") < 90
    assert top_brightness("a fox in the sun") > 170
