"""Every sample of the malicious corpus comes out inert, judged on the parsed output."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from chatsvg.adapters.generation.svg_sanitizer import SvgSanitizer
from chatsvg.application.ports import SvgRejected
from tests.sanitizer.corpus import CATEGORIES, UNIT_CANARY, Sample, malicious_corpus
from tests.sanitizer.inert import assert_inert, problems

CORPUS = malicious_corpus(UNIT_CANARY)
CANARY_HOST = UNIT_CANARY.split("//", 1)[1]
SVG = "{http://www.w3.org/2000/svg}"
TEXT_ELEMENTS = {
    f"{SVG}text",
    f"{SVG}tspan",
    f"{SVG}textPath",
    f"{SVG}title",
    f"{SVG}desc",
    f"{SVG}a",
}


def test_the_corpus_covers_every_class_of_attack() -> None:
    assert len(CORPUS) >= 150
    per_class = Counter(sample.category for sample in CORPUS)
    assert set(per_class) == set(CATEGORIES)
    assert min(per_class.values()) >= 5, per_class


@pytest.mark.parametrize("sample", CORPUS, ids=lambda s: s.name)
def test_sample_comes_out_inert(sample: Sample) -> None:
    if not sample.trap:
        # The same judge finds something in the raw sample: it really carries a payload.
        assert problems(sample.svg, canary=CANARY_HOST), "the raw sample looks harmless"
    try:
        out = SvgSanitizer().sanitize(sample.svg)
    except SvgRejected as rejection:
        assert sample.may_reject, f"rejected a document that could have been cleaned: {rejection}"
        assert rejection.code == "INVALID_SVG"
        return
    root = assert_inert(out, canary=CANARY_HOST)
    # The harmless drawing around the payload survives: inert is not the same as empty.
    assert root.find(".//*[@id='keep']") is not None
    if sample.trap:
        # The markup-looking text must stay text: escaped, never turned back into tags.
        tags = set(re.findall(r"</?([A-Za-z][\w:.-]*)", out))
        assert tags <= {element.tag.removeprefix(SVG) for element in root.iter()}, tags
    for element in root.iter():
        if not sample.trap:
            assert not any("__hit" in value for value in element.attrib.values()), element.attrib
        if element.tag not in TEXT_ELEMENTS:
            # A payload may only survive as escaped text that something will read, never as code.
            assert "__hit" not in (element.text or ""), element.tag
    assert SvgSanitizer().sanitize(out) == out


def test_entity_tricks_are_rejected_not_expanded() -> None:
    rejected = [s for s in CORPUS if s.category == "dtd-entity" and s.may_reject]
    assert len(rejected) >= 5
    for sample in rejected:
        with pytest.raises(SvgRejected) as caught:
            SvgSanitizer().sanitize(sample.svg)
        assert caught.value.code == "INVALID_SVG"
