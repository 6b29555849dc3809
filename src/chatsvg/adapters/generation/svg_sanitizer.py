"""SvgSanitizer: untrusted SVG text in, a safe and normalised SVG document out.

Everything a model returns is hostile until proven otherwise, and the result is shown in three
contexts with different rules: as a top-level document (scripts would run), inside `<img>`
(nothing runs or loads) and inlined into HTML (the HTML parser, not an XML one, reads it). The
sanitizer therefore never edits the input text: it parses it with defusedxml, keeps only what an
explicit allow-list names, and writes a fresh document from the parsed pieces, escaping all text.
Anything it does not recognise is dropped, never passed through.

See docs/svg-safety.md for what is kept, what is removed and why.
"""

from __future__ import annotations

import html.entities
import math
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any
from xml.etree.ElementTree import ParseError

import tinycss2
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from chatsvg.application.ports import SvgRejected

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"

INVALID_SVG = "INVALID_SVG"
SVG_TOO_LARGE = "SVG_TOO_LARGE"

DEFAULT_VIEWBOX = "0 0 512 512"

# --- What is kept -----------------------------------------------------------------------------

# Elements that draw, group, reference or describe artwork. Absent on purpose: script, handler,
# listener, foreignObject (an HTML island), iframe/embed/object, a:link-like HTML, metadata (noise),
# cursor/font/glyph (obsolete, can load resources), discard, tref, view, and anything unknown.
_ELEMENTS = frozenset(
    {
        "svg", "g", "defs", "symbol", "use", "switch", "a", "title", "desc", "style",
        "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "image",
        "text", "tspan", "textPath",
        "linearGradient", "radialGradient", "stop", "pattern", "clipPath", "mask", "marker",
        "filter", "feBlend", "feColorMatrix", "feComponentTransfer", "feComposite",
        "feConvolveMatrix", "feDiffuseLighting", "feDisplacementMap", "feDistantLight",
        "feDropShadow", "feFlood", "feFuncA", "feFuncB", "feFuncG", "feFuncR",
        "feGaussianBlur", "feImage", "feMerge", "feMergeNode", "feMorphology", "feOffset",
        "fePointLight", "feSpecularLighting", "feSpotLight", "feTile", "feTurbulence",
        "animate", "animateMotion", "animateTransform", "set", "mpath",
    }
)  # fmt: skip

# Text inside these is rendered or read by assistive technology; elsewhere it is noise.
_TEXT_HOLDERS = frozenset({"text", "tspan", "textPath", "title", "desc", "a"})

_ANIMATIONS = frozenset({"animate", "set", "animateTransform", "animateMotion"})

# Attributes that browsers read as CSS: also the CSS properties allowed in style="" and <style>.
_PRESENTATION = frozenset(
    {
        "alignment-baseline", "baseline-shift", "clip", "clip-path", "clip-rule", "color",
        "color-interpolation", "color-interpolation-filters", "color-rendering", "direction",
        "display", "dominant-baseline", "fill", "fill-opacity", "fill-rule", "filter",
        "flood-color", "flood-opacity", "font", "font-family", "font-size", "font-size-adjust",
        "font-stretch", "font-style", "font-variant", "font-weight", "glyph-orientation-horizontal",
        "glyph-orientation-vertical", "image-rendering", "isolation", "kerning", "letter-spacing",
        "lighting-color", "marker", "marker-end", "marker-mid", "marker-start", "mask",
        "mask-type", "mix-blend-mode", "opacity", "overflow", "paint-order", "pointer-events",
        "shape-rendering", "stop-color", "stop-opacity", "stroke", "stroke-dasharray",
        "stroke-dashoffset", "stroke-linecap", "stroke-linejoin", "stroke-miterlimit",
        "stroke-opacity", "stroke-width", "text-anchor", "text-decoration", "text-rendering",
        "transform-origin", "unicode-bidi", "vector-effect", "visibility", "word-spacing",
        "writing-mode",
    }
)  # fmt: skip

# Properties only meaningful in CSS (plus the SVG 2 geometry properties). No background, content,
# cursor, behavior, -moz-binding, list-style or anything else that can name a resource.
_CSS_ONLY_PROPERTIES = frozenset(
    {
        "transform", "transform-box", "transform-origin", "x", "y", "cx", "cy", "r", "rx", "ry",
        "width", "height", "d", "font-feature-settings", "font-kerning", "font-variant-caps",
        "font-variant-ligatures", "font-variant-numeric", "line-height", "text-decoration-line",
        "text-decoration-color", "text-decoration-style", "text-transform", "white-space",
        "animation", "animation-delay", "animation-direction", "animation-duration",
        "animation-fill-mode", "animation-iteration-count", "animation-name",
        "animation-play-state", "animation-timing-function", "transition", "transition-delay",
        "transition-duration", "transition-property", "transition-timing-function",
    }
)  # fmt: skip
_CSS_PROPERTIES = _PRESENTATION | _CSS_ONLY_PROPERTIES

# CSS functions that compute colours, lengths, transforms, shapes or timing. Absent on purpose:
# image(), image-set(), cross-fade(), element(), paint(), attr(), env(), expression(), src(), and
# every gradient (they are not SVG paint, only HTML backgrounds).
_CSS_FUNCTIONS = frozenset(
    {
        "rgb", "rgba", "hsl", "hsla", "hwb", "lab", "lch", "oklab", "oklch", "color",
        "color-mix", "calc", "min", "max", "clamp", "var",
        "matrix", "matrix3d", "translate", "translatex", "translatey", "translatez",
        "translate3d", "scale", "scalex", "scaley", "scalez", "scale3d", "rotate", "rotatex",
        "rotatey", "rotatez", "rotate3d", "skew", "skewx", "skewy", "perspective",
        "cubic-bezier", "steps", "linear",
        "blur", "brightness", "contrast", "drop-shadow", "grayscale", "hue-rotate", "invert",
        "opacity", "saturate", "sepia",
        "inset", "circle", "ellipse", "polygon", "path", "rect",
        "light-dark", "round", "mod", "rem", "abs", "sign", "sqrt", "pow", "sin", "cos", "tan",
    }
)  # fmt: skip

_CSS_BLOCK_AT_RULES = frozenset({"media", "supports"})
_CSS_KEYFRAMES = frozenset({"keyframes", "-webkit-keyframes"})

_ATTRIBUTES = _PRESENTATION | frozenset(
    {
        "id", "class", "style", "lang", "role", "aria-label", "aria-labelledby",
        "aria-describedby", "aria-hidden", "focusable", "transform",
        "width", "height", "viewBox", "preserveAspectRatio", "version", "x", "y",
        "systemLanguage", "requiredFeatures",
        "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "fx", "fy", "fr", "d", "points",
        "pathLength",
        "gradientUnits", "gradientTransform", "spreadMethod", "offset",
        "patternUnits", "patternContentUnits", "patternTransform",
        "clipPathUnits", "maskUnits", "maskContentUnits",
        "markerUnits", "markerWidth", "markerHeight", "refX", "refY", "orient",
        "filterUnits", "primitiveUnits", "in", "in2", "result", "stdDeviation", "dx", "dy",
        "mode", "type", "values", "operator", "k1", "k2", "k3", "k4", "order", "kernelMatrix",
        "divisor", "bias", "targetX", "targetY", "edgeMode", "kernelUnitLength",
        "preserveAlpha", "surfaceScale", "diffuseConstant", "specularConstant",
        "specularExponent", "scale", "xChannelSelector", "yChannelSelector", "baseFrequency",
        "numOctaves", "seed", "stitchTiles", "azimuth", "elevation", "z", "pointsAtX",
        "pointsAtY", "pointsAtZ", "limitingConeAngle", "tableValues", "slope", "intercept",
        "amplitude", "exponent", "radius",
        "rotate", "textLength", "lengthAdjust", "startOffset", "method", "spacing", "side",
        "attributeName", "attributeType", "begin", "dur", "end", "min", "max", "restart",
        "repeatCount", "repeatDur", "calcMode", "keyTimes", "keySplines", "from", "to", "by",
        "additive", "accumulate", "path", "keyPoints", "media",
    }
)  # fmt: skip

# Values of these are never read as CSS or URLs, so a "(" in them means nothing.
_PLAIN_ATTRIBUTES = frozenset({"id", "class", "role", "aria-label", "d", "points"})

# What <animate>/<set> may change: drawing properties and geometry, never a reference (href),
# an event handler, style or class.
_ANIMATABLE = _PRESENTATION | frozenset(
    {
        "x", "y", "width", "height", "cx", "cy", "r", "rx", "ry", "fx", "fy", "fr", "x1", "y1",
        "x2", "y2", "d", "points", "offset", "stdDeviation", "dx", "dy", "viewBox",
        "startOffset", "pathLength", "baseFrequency", "numOctaves", "scale", "radius",
        "k1", "k2", "k3", "k4", "values", "slope", "intercept", "amplitude", "exponent",
        "tableValues", "textLength",
    }
)  # fmt: skip
_TRANSFORM_TARGETS = frozenset({"transform", "gradientTransform", "patternTransform"})

_XML_NAMES = {f"{{{XML_NS}}}space": "xml:space", f"{{{XML_NS}}}lang": "xml:lang"}
_XLINK_HREF = f"{{{XLINK_NS}}}href"

# A document without a namespace is an HTML-style paste; HTML would fix the case of these names.
_ELEMENT_CASE = {name.lower(): name for name in _ELEMENTS}
_ATTRIBUTE_CASE = {name.lower(): name for name in _ATTRIBUTES}

# --- Small grammars ---------------------------------------------------------------------------

# Possessive quantifiers: a number can be matched one way only, so no input makes these backtrack.
_NUMBER = r"[-+]?+(?:\d++(?:\.\d*+)?+|\.\d++)(?:[eE][-+]?+\d++)?+"
_LENGTH_PX = re.compile(rf"\s*({_NUMBER})\s*(?:px)?\s*\Z")
_VIEWBOX = re.compile(rf"\s*({_NUMBER})[\s,]+({_NUMBER})[\s,]+({_NUMBER})[\s,]+({_NUMBER})\s*\Z")
_FRAGMENT = re.compile(r"#[^\x00-\x20\"'<>\\()]+\Z")
_RASTER_DATA_URL = re.compile(
    r"data:image/(png|jpeg|jpg|gif|webp);base64,([A-Za-z0-9+/]*={0,2})\Z", re.IGNORECASE
)
_ASCII_WHITESPACE = re.compile(r"[\t\n\f\r ]+")
# The SVG 1.1 transform-list grammar: a value matching it cannot name a resource, so the CSS
# parser (the slow path) is only needed for the rare transform written any other way.
_TRANSFORM_LIST = re.compile(
    r"(?:[\s,]*+(?:matrix|translate|scale|rotate|skewX|skewY)\s*+"
    rf"\(\s*+(?:{_NUMBER}(?:[\s,]++{_NUMBER})*+)?+\s*+\))*+[\s,]*+\Z"
)
_HTML_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]{1,31});")
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})

_MAX_CSS_NESTING = 16


class SvgSanitizer:
    """Turns untrusted SVG text into a safe document, or raises SvgRejected."""

    def __init__(
        self, *, max_bytes: int = 512_000, max_elements: int = 5_000, max_depth: int = 64
    ) -> None:
        self._max_bytes = max_bytes
        self._max_elements = max_elements
        self._max_depth = max_depth

    def sanitize(self, svg: str) -> str:
        if (
            len(svg) > self._max_bytes
            or len(svg.encode("utf-8", "surrogatepass")) > self._max_bytes
        ):
            raise SvgRejected(SVG_TOO_LARGE, f"the SVG is larger than {self._max_bytes} bytes")
        body = _declare_xlink(_named_entities_to_numeric(_strip_prolog(svg)))
        writer = _SafeSvgWriter(max_elements=self._max_elements, max_depth=self._max_depth)
        # forbid_dtd is a second line behind _strip_prolog: a DOCTYPE anywhere it missed fails.
        parser = DefusedXMLParser(
            target=writer, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
        try:
            parser.feed(body)
            parser.close()
        except SvgRejected:
            raise
        except (ParseError, DefusedXmlException, ValueError) as exc:
            raise SvgRejected(INVALID_SVG, f"not a well-formed SVG document: {exc}") from None
        result = writer.result()
        if len(result.encode("utf-8")) > self._max_bytes:
            raise SvgRejected(
                SVG_TOO_LARGE, f"the sanitized SVG is larger than {self._max_bytes} bytes"
            )
        return result


# --- Before parsing ---------------------------------------------------------------------------


def _strip_prolog(text: str) -> str:
    """Drop the XML declaration, prolog comments/PIs and a plain DOCTYPE; reject a DTD subset.

    The declaration goes because the text is already decoded (its encoding= would lie), and a
    bare DOCTYPE only names an external DTD that nothing should fetch. An internal subset is
    where entities live (XXE, billion laughs), so it is refused outright.
    """
    i = 0
    text = text.lstrip("\ufeff\t\n\r ")
    while True:
        if text.startswith("<?", i):
            end = text.find("?>", i + 2)
            if end < 0:
                raise SvgRejected(INVALID_SVG, "unterminated processing instruction")
            i = end + 2
        elif text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            if end < 0:
                raise SvgRejected(INVALID_SVG, "unterminated comment")
            i = end + 3
        elif text[i : i + 9].upper() == "<!DOCTYPE":
            i = _end_of_doctype(text, i + 9)
        else:
            return text[i:]
        while i < len(text) and text[i] in "\t\n\r ":
            i += 1


def _end_of_doctype(text: str, i: int) -> int:
    quote = ""
    for j in range(i, len(text)):
        c = text[j]
        if quote:
            if c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "[":
            raise SvgRejected(
                INVALID_SVG, "DTD internal subsets (entity declarations) are not allowed"
            )
        elif c == ">":
            return j + 1
    raise SvgRejected(INVALID_SVG, "unterminated DOCTYPE")


_ROOT_SVG_TAG = re.compile(r"<svg(?=[\s/>])")


def _declare_xlink(text: str) -> str:
    # Models often write xlink:href without declaring the prefix, which XML refuses outright.
    # Declaring it on the root changes nothing else: unused, it never reaches the output.
    if "xlink:" not in text or "xmlns:xlink" in text or not _ROOT_SVG_TAG.match(text):
        return text
    return f'<svg xmlns:xlink="{XLINK_NS}"{text[4:]}'


def _named_entities_to_numeric(text: str) -> str:
    # Models write HTML entities (&nbsp; &mdash;) that XML does not define; as numeric references
    # they parse to the same plain characters and can never become markup.
    if "&" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in _XML_ENTITIES:
            return match.group(0)
        characters = html.entities.html5.get(f"{name};")
        if characters is None:
            return match.group(0)
        return "".join(f"&#{ord(c)};" for c in characters)

    return _HTML_ENTITY.sub(replace, text)


# --- The allow-list, applied while parsing ------------------------------------------------------

_DROP, _KEEP, _KEEP_TEXT, _STYLE = 0, 1, 2, 3


class _SafeSvgWriter:
    """An ElementTree parser target that writes only allowed markup, as it is parsed.

    Writing while parsing keeps memory flat and lets the element and depth caps stop a hostile
    document before it is built. Comments and processing instructions never reach a target
    without comment()/pi() methods, so they vanish by construction.
    """

    def __init__(self, *, max_elements: int, max_depth: int) -> None:
        self._max_elements = max_elements
        self._max_depth = max_depth
        self._elements = 0
        self._parts: list[str] = [""]  # [0] is the root start tag, written last
        self._stack: list[tuple[int, str, int]] = []  # (mode, name, index of its start tag)
        self._root_attributes: list[tuple[str, str]] | None = None
        self._lax = False
        self._uses_xlink = False
        self._style_text: list[str] = []

    # ElementTree target protocol

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self._elements += 1
        if self._elements > self._max_elements:
            raise SvgRejected(SVG_TOO_LARGE, f"the SVG has more than {self._max_elements} elements")
        if len(self._stack) >= self._max_depth:
            raise SvgRejected(SVG_TOO_LARGE, f"the SVG is nested deeper than {self._max_depth}")
        if self._stack and self._stack[-1][0] in (_DROP, _STYLE):
            self._stack.append((_DROP, "", 0))
            return

        namespace, _, local = tag[1:].rpartition("}") if tag[0] == "{" else ("", "", tag)
        if self._root_attributes is None:
            if local != "svg" or namespace not in (SVG_NS, ""):
                raise SvgRejected(INVALID_SVG, "the document's root element is not <svg>")
            self._lax = namespace == ""
        elif self._lax and namespace == "":
            local = _ELEMENT_CASE.get(local.lower(), local)
        elif namespace != SVG_NS:
            self._stack.append((_DROP, "", 0))
            return
        if local not in _ELEMENTS or not _element_allowed(local, attrib):
            self._stack.append((_DROP, "", 0))
            return

        attributes = self._clean_attributes(local, attrib)
        if self._root_attributes is None:
            self._root_attributes = attributes
            self._stack.append((_KEEP, local, 0))
            return
        self._parts.append(_start_tag(local, attributes))
        if local == "style":
            mode = _STYLE
            self._style_text = []
        else:
            mode = _KEEP_TEXT if local in _TEXT_HOLDERS else _KEEP
        self._stack.append((mode, local, len(self._parts) - 1))

    def end(self, tag: str) -> None:
        mode, local, index = self._stack.pop()
        if mode == _DROP or not self._stack:  # the root is closed by result()
            return
        if mode == _STYLE:
            css = _clean_stylesheet("".join(self._style_text))
            if not css:
                del self._parts[index:]
                return
            self._parts.append(_escape_text(css))
        if index == len(self._parts) - 1:
            self._parts[index] = self._parts[index][:-1] + "/>"
        else:
            self._parts.append(f"</{local}>")

    def data(self, text: str) -> None:
        if not self._stack:
            return
        mode = self._stack[-1][0]
        if mode == _KEEP_TEXT:
            self._parts.append(_escape_text(text))
        elif mode == _STYLE:
            self._style_text.append(text)

    def close(self) -> None:
        return None

    # Output

    def result(self) -> str:
        if self._root_attributes is None:
            raise SvgRejected(INVALID_SVG, "no <svg> element found")
        attributes = [(n, v) for n, v in self._root_attributes if n != "viewBox"]
        given = dict(self._root_attributes)
        attributes.insert(0, ("viewBox", _viewbox(given)))
        attributes.insert(0, ("xmlns", SVG_NS))
        if self._uses_xlink:
            attributes.insert(1, ("xmlns:xlink", XLINK_NS))
        self._parts[0] = _start_tag("svg", attributes)
        if len(self._parts) == 1:
            self._parts[0] = self._parts[0][:-1] + "/>"
        else:
            self._parts.append("</svg>")
        return "".join(self._parts)

    def _clean_attributes(self, element: str, attrib: dict[str, str]) -> list[tuple[str, str]]:
        kept: list[tuple[str, str]] = []
        for raw_name, value in attrib.items():
            if raw_name[0] == "{":
                if raw_name == _XLINK_HREF:
                    href = _clean_href(element, value)
                    if href is not None:
                        self._uses_xlink = True
                        kept.append(("xlink:href", href))
                elif raw_name in _XML_NAMES:
                    kept.append((_XML_NAMES[raw_name], value))
                continue
            name = _ATTRIBUTE_CASE.get(raw_name.lower(), raw_name) if self._lax else raw_name
            if name == "href":
                href = _clean_href(element, value)
                if href is not None:
                    kept.append(("href", href))
            elif name not in _ATTRIBUTES:
                continue
            elif name == "style":
                style = _clean_declaration_list(value)
                if style:
                    kept.append(("style", style))
            elif name == "attributeName":
                kept.append((name, value.strip()))
            elif _plain_or_safe_css(name, value):
                kept.append((name, value))
        return kept


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


# --- CSS, through a real CSS parser -------------------------------------------------------------


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


# --- Writing --------------------------------------------------------------------------------------


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attribute(value: str) -> str:
    value = (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )
    if "\n" in value or "\r" in value or "\t" in value:
        value = value.replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    return value


def _start_tag(name: str, attributes: list[tuple[str, str]]) -> str:
    if not attributes:
        return f"<{name}>"
    rendered = " ".join(f'{key}="{_escape_attribute(value)}"' for key, value in attributes)
    return f"<{name} {rendered}>"
