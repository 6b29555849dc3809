"""The SVG sanitizer's per-element and per-attribute checks: animation targets, hrefs, viewBox."""

from __future__ import annotations

import math

from chatsvg.adapters.generation.svg_css import _css_value_is_safe
from chatsvg.adapters.generation.svg_rules import (
    _ANIMATABLE,
    _ANIMATIONS,
    _ASCII_WHITESPACE,
    _FRAGMENT,
    _LENGTH_PX,
    _PLAIN_ATTRIBUTES,
    _RASTER_DATA_URL,
    _TRANSFORM_LIST,
    _TRANSFORM_TARGETS,
    _VIEWBOX,
    DEFAULT_VIEWBOX,
)


def _plain_or_safe_css(name: str, value: str) -> bool:
    if "(" not in value or name in _PLAIN_ATTRIBUTES:
        return True  # without a function or block, nothing in a value can load or run
    if name == "transform" and _TRANSFORM_LIST.match(value):
        return True
    return _css_value_is_safe(value)


def _element_allowed(local: str, attrib: dict[str, str]) -> bool:
    if local == "style":
        kind = attrib.get("type")
        return kind is None or kind.strip().lower() in ("", "text/css")
    if local in _ANIMATIONS and local != "animateMotion":
        target = attrib.get("attributeName")
        if target is None:
            return False
        target = target.strip()
        if local == "animateTransform":
            return target in _TRANSFORM_TARGETS
        return target in _ANIMATABLE
    return True


def _clean_href(element: str, value: str) -> str | None:
    """Keep same-document references everywhere, and raster data: URLs in <image> only."""
    value = value.strip("\t\n\f\r ")
    if _FRAGMENT.match(value):
        return value
    if element == "image":
        match = _RASTER_DATA_URL.match(_ASCII_WHITESPACE.sub("", value))
        if match:
            kind = match.group(1).lower()
            return f"data:image/{'jpeg' if kind == 'jpg' else kind};base64,{match.group(2)}"
    return None


def _viewbox(attributes: dict[str, str]) -> str:
    given = attributes.get("viewBox")
    if given is not None:
        match = _VIEWBOX.match(given)
        if (
            match
            and _positive(match.group(3))
            and _positive(match.group(4))
            and all(math.isfinite(float(part)) for part in match.groups())
        ):
            return " ".join(match.groups())
    width = _LENGTH_PX.match(attributes.get("width", ""))
    height = _LENGTH_PX.match(attributes.get("height", ""))
    if width and height and _positive(width.group(1)) and _positive(height.group(1)):
        return f"0 0 {width.group(1)} {height.group(1)}"
    return DEFAULT_VIEWBOX


def _positive(number: str) -> bool:
    value = float(number)
    return math.isfinite(value) and value > 0
