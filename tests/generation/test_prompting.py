"""What the model is told per style, the style examples, and cutting the SVG out of answers."""

from __future__ import annotations

import json

import pytest

from chatsvg.adapters.generation.svg_examples import STYLE_EXAMPLES, STYLE_HINTS
from chatsvg.adapters.generation.svg_inspector import SvgInspector
from chatsvg.adapters.generation.svg_prompting import (
    ANSWER_JSON,
    ANSWER_SVG,
    extract_svg,
    messages,
    repair_messages,
    system_prompt,
    why_no_svg,
)
from chatsvg.adapters.generation.svg_sanitizer import SvgSanitizer
from chatsvg.domain.generation.requests import STYLES
from tests.support.fake_openai import drawing

SVG = drawing("a fox")


def test_every_style_has_a_hint_and_an_example_that_is_a_usable_picture() -> None:
    sanitizer, inspector = SvgSanitizer(), SvgInspector()
    assert set(STYLE_HINTS) == set(STYLES) == set(STYLE_EXAMPLES)
    for style in STYLES:
        example = STYLE_EXAMPLES[style]
        served = sanitizer.sanitize(example)
        assert inspector.problem(served) is None, style
        assert 'viewBox="0 0 512 512"' in example and "<text" not in example
        assert len(example) < 1000  # an example costs tokens on every call


@pytest.mark.parametrize("style", STYLES)
def test_the_system_prompt_carries_the_canvas_rules_and_the_styles_own_example(style: str) -> None:
    prompt = system_prompt(style)
    assert f"Style: {style}. {STYLE_HINTS[style]}" in prompt
    assert STYLE_EXAMPLES[style] in prompt
    others = [s for s in STYLES if s != style]
    assert not any(STYLE_EXAMPLES[s] in prompt for s in others)
    for rule in ('viewBox="0 0 512 512"', "no text", "no external resources", "15 KB"):
        assert rule in prompt, rule
    assert prompt.endswith(ANSWER_SVG)
    assert system_prompt(style, structured=True).endswith(ANSWER_JSON)


def test_a_refinement_sends_the_previous_svg_and_the_instruction() -> None:
    system, user = messages("flat", "make it orange", previous_svg=SVG, previous_prompt="a red fox")
    assert system["role"] == "system" and user["role"] == "user"
    assert SVG in user["content"] and user["content"].endswith("make it orange")
    assert '"a red fox"' in user["content"]
    _, plain = messages("flat", "a red fox")
    assert plain["content"] == "a red fox"


def test_a_repair_shows_the_model_its_answer_and_the_problem() -> None:
    first = messages("flat", "a red fox")
    repair = repair_messages(first, "<svg>half", "the SVG was cut off.")
    assert repair[:2] == first
    assert repair[2] == {"role": "assistant", "content": "<svg>half"}
    assert repair[3]["role"] == "user" and "the SVG was cut off:" not in repair[3]["content"]
    assert "the SVG was cut off" in repair[3]["content"]
    empty = repair_messages(first, "", "the model returned an empty answer")
    assert empty[2]["content"]  # some APIs refuse an empty assistant message
    long = repair_messages(first, "x" * 50_000, "too long")
    assert len(long[2]["content"]) < 13_000


@pytest.mark.parametrize(
    "answer",
    [
        json.dumps({"svg": SVG}),
        "```json\n" + json.dumps({"svg": SVG}) + "\n```",
        "  " + json.dumps({"drawing": SVG, "notes": "a fox"}),
        f"```svg\n{SVG}\n```",
        f"Sure! Here it is: {SVG} Enjoy.",
        f'<?xml version="1.0"?>\n{SVG}',
    ],
)
def test_the_svg_is_cut_out_of_json_fences_and_prose(answer: str) -> None:
    assert extract_svg(answer) == SVG


def test_json_that_holds_no_svg_falls_back_to_the_text() -> None:
    assert extract_svg('{"svg": 3}') is None
    assert extract_svg('{"note": "no"} and then ' + SVG) == SVG
    assert extract_svg("{not json " + SVG) == SVG


def test_why_no_svg_names_the_concrete_problem() -> None:
    assert "cut off" in why_no_svg(SVG[:100], cut_off=False)
    assert "cut off" in why_no_svg("anything", cut_off=True)
    assert "no <svg>" in why_no_svg("I would draw a fox.", cut_off=False)
