"""The SVG sanitizer's CSS handling: style="" and <style> checked through tinycss2."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import tinycss2

from chatsvg.adapters.generation.svg_rules import (
    _CSS_BLOCK_AT_RULES,
    _CSS_FUNCTIONS,
    _CSS_KEYFRAMES,
    _CSS_PROPERTIES,
    _FRAGMENT,
    _MAX_CSS_NESTING,
)

# tinycss2 turns numbers into Python ints and floats, which refuses absurdly long digit runs
# (ValueError); such CSS is not artwork, so it is dropped like any other unsafe CSS.
_CSS_FAILURES = (ValueError, RecursionError)


@lru_cache(maxsize=4096)
def _css_value_is_safe(value: str) -> bool:
    try:
        return _tokens_are_safe(tinycss2.parse_component_value_list(value), 0)
    except _CSS_FAILURES:
        return False


def _tokens_are_safe(tokens: Iterable[Any], depth: int, *, selector: bool = False) -> bool:
    """True when the tokens can only compute a value: no loads, no unknown functions.

    In a selector every function is a pseudo-class (`:not()`, `:nth-child()`), which matches
    elements and cannot load anything, so there only `url()` is refused.
    """
    if depth > _MAX_CSS_NESTING:
        return False
    for token in tokens:
        kind = token.type
        if kind == "url":
            if not _FRAGMENT.match(token.value.strip()):
                return False
        elif kind == "function":
            name = token.lower_name
            if name == "url":
                arguments = [a for a in token.arguments if a.type not in ("whitespace", "comment")]
                if len(arguments) != 1 or arguments[0].type != "string":
                    return False
                if not _FRAGMENT.match(arguments[0].value.strip()):
                    return False
            else:
                known = selector or name in _CSS_FUNCTIONS
                if not known or not _tokens_are_safe(token.arguments, depth + 1, selector=selector):
                    return False
        elif kind in ("() block", "[] block"):
            if not _tokens_are_safe(token.content, depth + 1, selector=selector):
                return False
        elif kind in ("error", "at-keyword", "{} block"):
            # A {} block has no use in a value and would only blur where a rule ends.
            return False
    return True


_CUSTOM_PROPERTY = re.compile(r"--[A-Za-z0-9_-]+\Z")


def _clean_declarations(nodes: Iterable[Any]) -> list[str]:
    kept: list[str] = []
    for node in nodes:
        if node.type != "declaration":
            continue
        name = node.lower_name
        if name not in _CSS_PROPERTIES:
            # Custom properties are kept (models use them) because their values pass the same
            # check, so var() can only ever substitute something already judged safe.
            if not _CUSTOM_PROPERTY.match(node.name):
                continue
            name = node.name
        if not _tokens_are_safe(node.value, 0):
            continue
        value = tinycss2.serialize(node.value).strip()
        if value:
            kept.append(f"{name}:{value}{' !important' if node.important else ''}")
    return kept


@lru_cache(maxsize=4096)
def _clean_declaration_list(css: str) -> str:
    try:
        nodes = tinycss2.parse_blocks_contents(css, skip_comments=True, skip_whitespace=True)
        return ";".join(_clean_declarations(nodes))
    except _CSS_FAILURES:
        return ""


def _clean_stylesheet(css: str) -> str:
    try:
        rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
        return "".join(_clean_rules(rules, 0))
    except _CSS_FAILURES:
        return ""


def _clean_rules(rules: Sequence[Any], depth: int) -> list[str]:
    """Keep style rules with safe declarations, and @media/@supports/@keyframes around them.

    Every other at-rule goes: @import and @font-face load resources, @namespace and @charset
    change how the rest is read, and the rest are not needed for artwork.
    """
    kept: list[str] = []
    if depth > 4:
        return kept
    for rule in rules:
        if rule.type == "qualified-rule":
            if not _tokens_are_safe(rule.prelude, 0, selector=True):
                continue
            body = tinycss2.parse_blocks_contents(
                rule.content, skip_comments=True, skip_whitespace=True
            )
            declarations = _clean_declarations(body)
            selector = tinycss2.serialize(rule.prelude).strip()
            if declarations and selector:
                kept.append(f"{selector}{{{';'.join(declarations)}}}")
        elif rule.type == "at-rule" and rule.content is not None:
            keyword = rule.lower_at_keyword
            if keyword not in _CSS_BLOCK_AT_RULES and keyword not in _CSS_KEYFRAMES:
                continue
            if not _tokens_are_safe(rule.prelude, 0):
                continue
            inner = tinycss2.parse_rule_list(rule.content, skip_comments=True, skip_whitespace=True)
            if keyword in _CSS_KEYFRAMES:
                inner = [r for r in inner if r.type == "qualified-rule"]
            body_rules = _clean_rules(inner, depth + 1)
            if body_rules:
                prelude = tinycss2.serialize(rule.prelude).strip()
                kept.append(f"@{keyword} {prelude}{{{''.join(body_rules)}}}")
    return kept
