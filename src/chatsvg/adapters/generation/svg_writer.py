"""The SVG sanitizer's parser target: the allow-list applied while parsing, and the serialiser."""

from __future__ import annotations

from chatsvg.adapters.generation.svg_attributes import (
    _clean_href,
    _element_allowed,
    _plain_or_safe_css,
    _viewbox,
)
from chatsvg.adapters.generation.svg_css import _clean_declaration_list, _clean_stylesheet
from chatsvg.adapters.generation.svg_rules import (
    _ATTRIBUTE_CASE,
    _ATTRIBUTES,
    _ELEMENT_CASE,
    _ELEMENTS,
    _TEXT_HOLDERS,
    _XLINK_HREF,
    _XML_NAMES,
    INVALID_SVG,
    SVG_NS,
    SVG_TOO_LARGE,
    XLINK_NS,
)
from chatsvg.application.ports import SvgRejected

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
