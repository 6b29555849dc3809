"""The prompt reader on a table of prompts: subjects, counts, colours, sizes, relations, scenes."""

from __future__ import annotations

import pytest

from chatsvg.adapters.offline.parser import Relation, parse, with_scene_subjects
from chatsvg.adapters.offline.vocabulary import COLOURS

RED, BLUE, BLACK, GOLD = COLOURS["red"], COLOURS["blue"], COLOURS["black"], COLOURS["golden"]


@pytest.mark.parametrize(
    ("prompt", "subjects", "counts"),
    [
        ("a cat", ("cat",), (1,)),
        ("A CAT!", ("cat",), (1,)),
        ("three stars", ("star",), (3,)),
        ("3 cats and 2 dogs", ("cat", "dog"), (3, 2)),
        ("a few trees", ("tree",), (3,)),
        ("a pair of birds", ("bird",), (2,)),
        ("cats", ("cat",), (3,)),
        ("stars", ("star",), (5,)),
        ("a flock of birds over a field", ("bird",), (5,)),
        ("a hot air balloon over the mountains", ("hot-air-balloon", "mountain"), (1, 3)),
        ("one hundred cats", ("cat",), (9,)),  # capped: a picture, not a census
        ("a cup of coffee", ("mug",), (1,)),  # one cup, not a cup and a coffee
    ],
)
def test_subjects_and_counts(prompt: str, subjects: tuple[str, ...], counts: tuple[int, ...]) -> None:
    parsed = parse(prompt)
    assert parsed.subjects == subjects
    assert tuple(m.count for m in parsed.mentions) == counts


@pytest.mark.parametrize(
    ("prompt", "colours"),
    [
        ("a red fox and a blue bird", (RED, BLUE)),
        ("a fox and a blue bird", (None, BLUE)),
        ("a red fox next to a bird", (RED, None)),
        ("the cat is black", (BLACK,)),
        ("a golden crown", (GOLD,)),
        ("a girl in a red dress", (RED,)),
        ("a big friendly red dog", (RED,)),
    ],
)
def test_colours_qualify_the_subject_they_belong_to(
    prompt: str, colours: tuple[str | None, ...]
) -> None:
    assert tuple(m.colour for m in parse(prompt).mentions) == colours


def test_tones_and_multiword_colours() -> None:
    light, navy = parse("a light blue house"), parse("a navy blue car")
    assert light.mentions[0].colour not in (None, BLUE)
    assert navy.mentions[0].colour == COLOURS["navy blue"]
    assert parse("an orange cat").mentions[0].colour == COLOURS["orange"]


def test_a_colour_for_the_sky_or_background_is_the_backdrops() -> None:
    parsed = parse("a house under a purple sky")
    assert parsed.subjects == ("house",) and parsed.mentions[0].colour is None
    assert parsed.background == COLOURS["purple"]
    assert parse("a cat on a pink background").background == COLOURS["pink"]


@pytest.mark.parametrize(
    ("prompt", "relation"),
    [
        ("a fox under a moon", ("fox", "below", "moon")),
        ("a friendly red fox sitting under a crescent moon", ("fox", "below", "moon")),
        ("a bird above a house", ("bird", "above", "house")),
        ("a plane flying over a city of skyscrapers", ("airplane", "above", "skyscraper")),
        ("a cat on a table", ("cat", "on", "table")),
        ("a cat sitting on top of a car", ("cat", "on", "car")),
        ("a fish in a bowl", ("fish", "in", "fishbowl")),
        ("a cat inside a box", ("cat", "in", "box")),
        ("a dog next to a car", ("dog", "beside", "car")),
        ("a dog beside a tree", ("dog", "beside", "tree")),
        ("a tree to the left of a house", ("tree", "left", "house")),
        ("a tree right of a house", ("tree", "right", "house")),
        ("a sun behind a mountain", ("sun", "behind", "mountain")),
        ("a dog in front of a house", ("dog", "front", "house")),
        ("a girl riding a horse", ("person", "on", "horse")),
        ("a box of kittens", ("cat", "in", "box")),
        ("under a tree, a cat", ("cat", "below", "tree")),
    ],
)
def test_spatial_words_relate_the_subjects(prompt: str, relation: tuple[str, str, str]) -> None:
    parsed = parse(prompt)
    found = [
        (parsed.mentions[r.mover].subject, r.kind, parsed.mentions[r.anchor].subject)
        for r in parsed.relations
    ]
    assert found == [relation]


def test_and_starts_a_new_clause_without_a_relation() -> None:
    parsed = parse("a cat and a dog")
    assert parsed.subjects == ("cat", "dog") and parsed.relations == ()


def test_each_subject_hangs_from_one_anchor_at_most() -> None:
    # The cat is already on the table, so "next to a dog" places the table.
    parsed = parse("a cat on a table next to a dog")
    assert parsed.relations == (Relation(0, "on", 1), Relation(1, "beside", 2))


def test_sizes_and_variants() -> None:
    big, small = parse("a big cat"), parse("a tiny cat")
    assert big.mentions[0].size > 1 > small.mentions[0].size
    assert parse("a full moon").mentions[0].variant == "full"
    assert parse("a crescent moon").mentions[0].variant is None
    assert parse("a christmas tree").mentions[0].variant == "christmas"
    assert parse("a girl").mentions[0].variant == "dress"


@pytest.mark.parametrize(
    ("prompt", "scenes"),
    [
        ("a fox under the moon", ("night",)),
        ("a cat at night", ("night",)),
        ("a rocket", ("space",)),
        ("a whale in the ocean", ("sea",)),
        ("a turtle under the sea", ("underwater",)),
        ("a snowman", ("snow",)),
        ("a camp in the forest", ("forest",)),
        ("a cat", ()),
    ],
)
def test_scenes_come_from_words_and_from_subjects(prompt: str, scenes: tuple[str, ...]) -> None:
    assert parse(prompt).scenes == scenes


def test_a_scene_without_subjects_gets_its_usual_ones() -> None:
    assert set(with_scene_subjects(parse("a forest")).subjects) == {"pine", "tree"}
    assert with_scene_subjects(parse("the starry night")).subjects[0] == "moon"
    assert with_scene_subjects(parse("a cat in the forest")).subjects == ("cat",)


def test_unknown_words_are_kept_and_nothing_is_invented() -> None:
    parsed = parse("quantum entanglement of melancholy thoughts")
    assert parsed.mentions == () and parsed.scenes == ()
    assert parsed.unknown == ("quantum", "entanglement", "melancholy", "thoughts")


def test_hostile_and_odd_input_is_just_words() -> None:
    assert parse('<script>alert("cat")</script>').subjects == ("cat",)
    assert parse("").mentions == ()
    assert parse("\x00\ud800\ufffe").mentions == ()
    assert parse("cat " * 2000).mentions[0].subject == "cat"


def test_a_list_of_subjects_is_capped() -> None:
    assert len(parse("a cat " * 400).mentions) == 8


def test_a_plant_or_landform_naming_a_scene_is_the_scenes_kind() -> None:
    # "a snowman in a pine forest": a forest of pines around the snowman, not a snowman in a pine.
    parsed = parse("a snowman in a snowy pine forest")
    assert parsed.subjects == ("snowman",) and parsed.relations == ()
    assert parsed.scenery == ("pine",) and "forest" in parsed.scenes
    assert with_scene_subjects(parse("a mountain lake")).subjects[0] == "mountain"
    assert parse("a tree in a field").subjects == ("tree",)
