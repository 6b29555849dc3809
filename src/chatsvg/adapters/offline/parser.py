"""Prompt → what to draw: subjects with their counts, colours and sizes, how they relate, the scene.

A small, forgiving reader, not a grammar. The prompt is cut into words; at each position the
longest known phrase wins ("hot air balloon" before "air", "light blue" before "light", "on top
of" before "on"). Adjectives (colour, size, a variant such as "full" or "crescent") wait for the
next subject of their clause and qualify it: "a red fox and a blue bird" colours each animal.
A spatial word ("under", "next to", "on", "in", "behind", ...) ties the clause's subject to the
subject that follows it. Words it does not know are kept, so that a prompt with no known subject
still gets its own deterministic abstract picture.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .subjects import SUBJECTS
from .vocabulary import (
    BACKGROUND_WORDS,
    COLOURS,
    LINKING,
    NUMBERS,
    RELATIONS,
    SCENE_SUBJECTS,
    SCENERY,
    SCENES,
    SEPARATORS,
    SIZES,
    STOPWORDS,
    TONES,
    WEARING,
)

MAX_COPIES = 9
# A prompt naming more things than this gets the first eight: a picture, not a list.
MAX_MENTIONS = 8


@dataclass(frozen=True, slots=True)
class Mention:
    subject: str  # a key of SUBJECTS
    count: int = 1
    colour: str | None = None  # #rrggbb
    size: float = 1.0
    variant: str | None = None
    plural: bool = False


@dataclass(frozen=True, slots=True)
class Relation:
    mover: int  # index into ParsedPrompt.mentions
    kind: str  # below, above, on, in, beside, left, right, behind, front
    anchor: int


@dataclass(frozen=True, slots=True)
class ParsedPrompt:
    mentions: tuple[Mention, ...] = ()
    relations: tuple[Relation, ...] = ()
    scenes: tuple[str, ...] = ()  # in the order the prompt gave them
    background: str | None = None  # a colour given to the sky or background
    colours: tuple[str, ...] = ()  # every colour named, in order
    unknown: tuple[str, ...] = ()  # content words that were not understood
    scenery: tuple[str, ...] = ()  # subjects named only as a scene's kind ("a pine forest")

    @property
    def subjects(self) -> tuple[str, ...]:
        return tuple(m.subject for m in self.mentions)


# --- The phrase table ------------------------------------------------------------------------------


def _plural(word: str) -> str:
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in tuple("aeiou"):
        return word[:-1] + "ies"
    if word.endswith("f") and not word.endswith("ff"):
        return word[:-1] + "ves"
    return word + "s"


def _subject_phrases() -> dict[str, tuple[str, str | None, bool]]:
    """phrase → (subject, variant, plural). A word written "name:variant" selects a variant."""
    table: dict[str, tuple[str, str | None, bool]] = {}
    for subject in SUBJECTS.values():
        for entry in (subject.name.replace("-", " "), *subject.words):
            phrase, _, variant = entry.partition(":")
            plural = phrase.startswith("+")  # "+mice": an irregular plural, given as is
            phrase = phrase.lstrip("+")
            table.setdefault(phrase, (subject.name, variant or None, plural))
            if not plural:
                head, _, last = phrase.rpartition(" ")
                many = f"{head} {_plural(last)}".strip()
                table.setdefault(many, (subject.name, variant or None, True))
    return table


_SUBJECT_PHRASES = _subject_phrases()
_VARIANT_WORDS = frozenset(v for s in SUBJECTS.values() for v in s.variants)
_TABLES: tuple[tuple[str, frozenset[str]], ...] = (
    ("subject", frozenset(_SUBJECT_PHRASES)),
    ("number", frozenset(NUMBERS)),
    ("relation", frozenset(RELATIONS)),
    ("colour", frozenset(COLOURS)),
    ("scene", frozenset(SCENES)),
)
_LONGEST = max(len(p.split()) for _, table in _TABLES for p in table)
_TOKEN = re.compile(r"[a-z]+|\d+|[,;.!?]")


def tokens(prompt: str) -> list[str]:
    text = prompt.lower().replace("’", "'").replace("'s ", " ")
    return _TOKEN.findall(text.replace("-", " "))


def _match(words: list[str], i: int) -> tuple[str, str, int]:
    """The longest known phrase starting at words[i]: (kind, phrase, length)."""
    for length in range(min(_LONGEST, len(words) - i), 0, -1):
        phrase = " ".join(words[i : i + length])
        for kind, table in _TABLES:
            if phrase in table:
                return kind, phrase, length
    return "word", words[i], 1


# --- Reading -------------------------------------------------------------------------------------


@dataclass
class _Clause:
    head: int | None = None  # the first subject of the clause: what a spatial word moves
    last: int | None = None
    relation: str | None = None  # a spatial word waiting for the subject it points at
    count: int | None = None
    colour: str | None = None
    tone: str | None = None
    size: float = 1.0
    variant: str | None = None
    of: int | None = None  # "a cup of coffee", "a box of kittens": what holds the next subject


@dataclass
class _Reader:
    mentions: list[Mention] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    parents: dict[int, int] = field(default_factory=dict)
    scenes: list[str] = field(default_factory=list)
    colours: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    scenery: list[str] = field(default_factory=list)
    background: str | None = None
    fronted: tuple[str, int] | None = None

    def relate(self, mover: int, kind: str, anchor: int) -> None:
        if mover == anchor or mover in self.parents:
            return
        # No cycles: the anchor must not already hang (directly or not) from the mover.
        node: int | None = anchor
        while node is not None:
            if node == mover:
                return
            node = self.parents.get(node)
        self.parents[mover] = anchor
        self.relations.append(Relation(mover, kind, anchor))


def parse(prompt: str) -> ParsedPrompt:
    words = tokens(prompt)
    reader = _Reader()
    clause = _Clause()
    i = 0
    after_subject = -1  # where the last subject's words ended
    while i < len(words):
        kind, phrase, length = _match(words, i)
        word = words[i]
        following = words[i + length] if i + length < len(words) else ""
        if kind == "subject" and _describes_scene(phrase, words, i + length):
            # "a pine forest", "a flower garden": the scene's kind, not one more subject.
            reader.scenery.append(_SUBJECT_PHRASES[phrase][0])
        elif kind == "subject":
            _add_subject(reader, clause, phrase)
            after_subject = i + length
        elif word == "of" and i == after_subject and clause.last is not None:
            clause.of = clause.last
        elif kind == "number" or word.isdigit():
            clause.count = min(int(word) if word.isdigit() else NUMBERS[phrase], 99)
        elif kind == "relation":
            clause.relation = RELATIONS[phrase]
        elif kind == "colour":
            colour = COLOURS[phrase]
            if clause.tone:
                colour = TONES[clause.tone](colour)
                clause.tone = None
            reader.colours.append(colour)
            if following in BACKGROUND_WORDS:
                reader.background = colour
            elif _subject_ahead(words, i + length):
                clause.colour = colour
            elif (
                clause.last is not None
                and i > 0
                and (words[i - 1] in LINKING or following in WEARING)
                and reader.mentions[clause.last].colour is None
            ):
                m = reader.mentions[clause.last]
                reader.mentions[clause.last] = _with(m, colour=colour)
        elif kind == "scene":
            scene = SCENES[phrase]
            if scene not in reader.scenes:
                reader.scenes.append(scene)
        elif word in SEPARATORS:
            clause = _Clause()
        elif word in TONES:
            clause.tone = word
        elif word in SIZES:
            clause.size = SIZES[word]
        elif word in _VARIANT_WORDS:
            clause.variant = word
        elif word not in STOPWORDS and len(word) > 1:
            reader.unknown.append(word)
        i += length
    return ParsedPrompt(
        mentions=tuple(reader.mentions),
        relations=tuple(reader.relations),
        scenes=tuple(reader.scenes),
        background=reader.background,
        colours=tuple(reader.colours),
        unknown=tuple(reader.unknown),
        scenery=tuple(reader.scenery),
    )


def _subject_ahead(words: list[str], start: int, within: int = 4) -> bool:
    """A subject follows within a few words, before the clause ends or a spatial word."""
    j = start
    while j < len(words) and j < start + within:
        kind, _, length = _match(words, j)
        if kind == "subject":
            return True
        if kind == "relation" or words[j] in SEPARATORS:
            return False
        j += length
    return False


def _describes_scene(phrase: str, words: list[str], after: int) -> bool:
    if after >= len(words) or _SUBJECT_PHRASES[phrase][0] not in SCENERY:
        return False
    kind, _, _ = _match(words, after)
    return kind == "scene"


def _add_subject(reader: _Reader, clause: _Clause, phrase: str) -> None:
    if len(reader.mentions) >= MAX_MENTIONS:
        return
    name, variant, plural = _SUBJECT_PHRASES[phrase]
    subject = SUBJECTS[name]
    holder, clause.of = clause.of, None
    if holder is not None and reader.mentions[holder].subject == name:
        return  # "a cup of coffee" is one cup
    count = clause.count if clause.count is not None else (_default_count(name) if plural else 1)
    chosen = variant or (clause.variant if clause.variant in subject.variants else None)
    colour = clause.colour
    mention = Mention(
        subject=name,
        count=max(1, min(count, MAX_COPIES)),
        colour=colour,
        size=clause.size,
        variant=chosen,
        plural=plural or count > 1,
    )
    index = len(reader.mentions)
    reader.mentions.append(mention)
    for scene in subject.scenes:
        if scene not in reader.scenes:
            reader.scenes.append(scene)
    if clause.relation is not None and clause.head is not None:
        mover = clause.head if clause.head not in reader.parents else clause.last
        if mover is not None:
            reader.relate(mover, clause.relation, index)
        clause.relation = None
    elif clause.relation is not None:
        # "Under a tree, a cat sleeps": the spatial word came first, its mover comes later.
        reader.fronted = (clause.relation, index)
        clause.relation = None
    elif holder is not None:
        reader.relate(index, "in", holder)
    elif reader.fronted is not None and clause.head is None:
        kind, anchor = reader.fronted
        reader.relate(index, kind, anchor)
        reader.fronted = None
    if clause.head is None:
        clause.head = index
    clause.last = index
    clause.count = None
    clause.colour = None
    clause.tone = None
    clause.size = 1.0
    clause.variant = None


def _default_count(name: str) -> int:
    return 5 if name in ("star", "bird", "snowflake", "butterfly", "raindrop", "heart") else 3


def _with(m: Mention, *, colour: str) -> Mention:
    return Mention(m.subject, m.count, colour, m.size, m.variant, m.plural)


def with_scene_subjects(parsed: ParsedPrompt) -> ParsedPrompt:
    """A prompt that only names a scene gets the scene's usual subjects."""
    if parsed.mentions or not parsed.scenes:
        return parsed
    picks: list[tuple[str, int]] = []
    for name in (*parsed.scenery, *(n for n, _ in SCENE_SUBJECTS.get(parsed.scenes[0], ()))):
        if name not in (p[0] for p in picks):
            count = dict(SCENE_SUBJECTS.get(parsed.scenes[0], ())).get(name)
            picks.append((name, count or (2 if name == "mountain" else 3)))
    colours = iter(parsed.colours)
    mentions = tuple(
        Mention(name, count, next(colours, None) if i == 0 else None, plural=count > 1)
        for i, (name, count) in enumerate(picks)
    )
    return ParsedPrompt(
        mentions, (), parsed.scenes, parsed.background, parsed.colours, parsed.unknown,
        parsed.scenery,
    )  # fmt: skip
