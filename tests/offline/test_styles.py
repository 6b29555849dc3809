"""Each of the nine styles changes the same drawing the way its name promises."""

from __future__ import annotations

import re

import pytest

from chatsvg.adapters.offline import render
from chatsvg.adapters.offline.styles import STYLES
from tests.offline.svg import NS, colour_count, parse, shapes, subjects

PROMPTS = ["a red fox under a crescent moon", "a house next to a tree", "a cat in a box"]


def subject_shapes(svg: str) -> list:
    return [s for d in subjects(svg) for s in shapes(d.element)]


def is_line(shape) -> bool:  # an open stroke: whiskers, strings, tails drawn as lines
    return shape.get("fill") == "none"


@pytest.mark.parametrize("prompt", PROMPTS)
def test_every_style_gives_a_different_picture(prompt: str) -> None:
    pictures = {style: render(prompt, style) for style in STYLES}
    assert len(set(pictures.values())) == len(STYLES)


@pytest.mark.parametrize("prompt", PROMPTS)
@pytest.mark.parametrize("style", ["outline", "line-art"])
def test_outline_styles_are_strokes_without_colour_fills(prompt: str, style: str) -> None:
    svg = render(prompt, style)
    paper = STYLES[style].paper
    for d in subjects(svg):
        for shape in shapes(d.element):
            assert shape.get("fill") in ("none", paper), (d.id, shape.attrib)
            stroke = shape.get("stroke") or d.element.get("stroke")
            assert stroke, (d.id, shape.attrib)
    assert "Gradient" not in svg


@pytest.mark.parametrize("prompt", PROMPTS)
def test_line_art_is_one_ink_with_one_weight(prompt: str) -> None:
    svg = render(prompt, "line-art")
    ink = STYLES["line-art"].ink
    for d in subjects(svg):
        assert d.element.get("stroke") == ink
        widths = {
            round(float(s.get("stroke-width") or d.element.get("stroke-width")) * d.scale, 1)
            for s in shapes(d.element)
        }
        assert widths == {STYLES["line-art"].outline_px}, (d.id, widths)
        assert {s.get("stroke") for s in shapes(d.element) if s.get("stroke")} <= {ink}


@pytest.mark.parametrize("prompt", PROMPTS)
def test_outline_strokes_are_darker_shades_of_the_subjects_colours(prompt: str) -> None:
    svg = render(prompt, "outline")
    strokes = {s.get("stroke") for s in subject_shapes(svg)}
    assert len(strokes) >= 3  # coloured lines, not one ink


@pytest.mark.parametrize("prompt", PROMPTS)
@pytest.mark.parametrize("style", ["filled", "flat", "minimal", "modern"])
def test_solid_styles_fill_shapes_with_colour_and_draw_no_outlines(prompt: str, style: str) -> None:
    svg = render(prompt, style)
    filled = [s for s in subject_shapes(svg) if not is_line(s)]
    assert filled and all(s.get("fill", "").startswith("#") for s in filled)
    assert all(s.get("stroke") is None for s in filled)
    assert all(d.element.get("stroke") is None for d in subjects(svg))


@pytest.mark.parametrize("prompt", PROMPTS)
def test_flat_has_no_gradients_and_no_shadows(prompt: str) -> None:
    svg = render(prompt, "flat")
    assert "Gradient" not in svg and "url(#" not in svg
    assert "opacity=\"0.3\"" not in svg  # no ground shadows


@pytest.mark.parametrize("prompt", PROMPTS)
def test_gradient_fills_subjects_and_scene_with_linear_gradients(prompt: str) -> None:
    svg = render(prompt, "gradient")
    root = parse(svg)
    assert root.find(f"{NS}defs/{NS}linearGradient") is not None
    fills = [s.get("fill", "") for s in subject_shapes(svg)]
    assert sum(f.startswith("url(#") for f in fills) >= len(fills) / 2
    assert root.find(f"{NS}rect").get("fill", "").startswith("url(#")  # the sky too


@pytest.mark.parametrize("prompt", PROMPTS)
def test_3d_shades_with_radial_gradients_and_casts_shadows(prompt: str) -> None:
    svg = render(prompt, "3d")
    root = parse(svg)
    assert root.find(f"{NS}defs/{NS}radialGradient") is not None
    fills = [s.get("fill", "") for s in subject_shapes(svg)]
    assert sum(f.startswith("url(#") for f in fills) >= len(fills) / 2
    # A dark, translucent ellipse under each thing that stands on the ground.
    shadows = [
        e for e in root if e.tag == f"{NS}ellipse" and e.get("fill") == "#000000" and e.get("opacity")
    ]
    assert shadows


@pytest.mark.parametrize("prompt", PROMPTS)
def test_cartoon_outlines_bold_and_dark_over_saturated_colour(prompt: str) -> None:
    cartoon, flat = render(prompt, "cartoon"), render(prompt, "flat")
    for d in subjects(cartoon):
        assert d.element.get("stroke") == STYLES["cartoon"].ink
        assert float(d.element.get("stroke-width")) * d.scale >= 3
    assert colour_count(cartoon) >= colour_count(flat) - 2


@pytest.mark.parametrize("prompt", PROMPTS)
def test_minimal_uses_fewer_shapes_and_colours_and_more_space(prompt: str) -> None:
    minimal, flat = render(prompt, "minimal"), render(prompt, "flat")
    assert len(subject_shapes(minimal)) < len(subject_shapes(flat))
    assert colour_count(minimal) < colour_count(flat)
    assert len(re.findall(r"<(?:rect|path|circle|ellipse|polygon)\b", minimal)) < len(
        re.findall(r"<(?:rect|path|circle|ellipse|polygon)\b", flat)
    )
    assert max(d.scale for d in subjects(minimal)) < max(d.scale for d in subjects(flat))


@pytest.mark.parametrize("prompt", PROMPTS)
def test_modern_sets_the_subject_on_a_disc_over_a_soft_gradient(prompt: str) -> None:
    root = parse(render(prompt, "modern"))
    background = root.find(f"{NS}rect")
    assert background.get("fill", "").startswith("url(#")
    assert any(e.tag == f"{NS}circle" and float(e.get("r", 0)) > 100 for e in root)


def test_a_style_the_library_does_not_know_falls_back_to_flat() -> None:
    assert render("a cat", "watercolour") == render("a cat", "flat")
