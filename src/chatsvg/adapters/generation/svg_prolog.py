"""The SVG sanitizer's text pass before parsing: prolog/DOCTYPE, xlink and entity fixes."""

from __future__ import annotations

import html.entities
import re

from chatsvg.adapters.generation.svg_rules import _HTML_ENTITY, _XML_ENTITIES, INVALID_SVG, XLINK_NS
from chatsvg.application.ports import SvgRejected


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
