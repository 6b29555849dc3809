"""The library: at least 80 subjects, each recognisably named, drawn in every style, safe as served."""

from __future__ import annotations

import pytest

from chatsvg.adapters.generation.svg_sanitizer import SvgSanitizer
from chatsvg.adapters.offline import render
from chatsvg.adapters.offline.parser import parse
from chatsvg.adapters.offline.styles import STYLES
from chatsvg.adapters.offline.subjects import SUBJECTS
from chatsvg.domain.generation.requests import STYLES as PRODUCT_STYLES
from tests.offline.svg import names, subject_share
from tests.offline.svg import parse as parse_svg

ALL = sorted(SUBJECTS)
SANITIZER = SvgSanitizer()


def prompt_for(name: str) -> str:
    return f"a {name.replace('-', ' ')}"


def test_the_library_has_at_least_80_subjects_and_the_issue_named_ones() -> None:
    assert len(SUBJECTS) >= 80
    named = "sun moon star cloud tree flower house mountain cat dog fox bird fish rocket car heart robot"
    assert set(named.split()) <= set(SUBJECTS)


def test_every_product_style_has_rules() -> None:
    assert set(PRODUCT_STYLES) == set(STYLES)


@pytest.mark.parametrize("name", ALL)
def test_each_subject_is_found_by_its_name_and_drawn(name: str) -> None:
    assert parse(prompt_for(name)).subjects == (name,)
    assert names(render(prompt_for(name), "flat")) == [name]


@pytest.mark.parametrize("name", ALL)
def test_each_subject_renders_in_every_style_and_the_sanitizer_keeps_it_byte_for_byte(
    name: str,
) -> None:
    for style in STYLES:
        svg = render(prompt_for(name), style)
        assert SANITIZER.sanitize(svg) == svg, style
        root = parse_svg(svg)
        assert root.get("viewBox") == "0 0 512 512"
        assert len(svg.encode()) < 8_000, (style, len(svg))
        assert "<text" not in svg and "<script" not in svg and "href" not in svg


@pytest.mark.parametrize("name", ALL)
def test_each_subject_draws_real_pixels(name: str) -> None:
    # A lone subject is the picture: it changes a good part of the frame, in colour and in lines.
    assert subject_share(render(prompt_for(name), "filled")) > 0.04
    assert subject_share(render(prompt_for(name), "outline")) > 0.015


def test_synonyms_and_plurals_reach_the_same_subject() -> None:
    cases = {
        "kitten": "cat",
        "kittens": "cat",
        "puppies": "dog",
        "foxes": "fox",
        "mice": "mouse",
        "butterflies": "butterfly",
        "leaves": "leaf",
        "sheep": "sheep",
        "hot air balloon": "hot-air-balloon",
        "ice cream cone": "ice-cream",
        "christmas tree": "pine",
        "aeroplane": "airplane",
        "spaceship": "rocket",
        "women": "person",
    }
    for words, subject in cases.items():
        assert parse(words).subjects == (subject,), words
