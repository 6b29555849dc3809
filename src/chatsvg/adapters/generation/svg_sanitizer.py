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

from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from chatsvg.adapters.generation.svg_prolog import (
    _declare_xlink,
    _named_entities_to_numeric,
    _strip_prolog,
)
from chatsvg.adapters.generation.svg_rules import (
    DEFAULT_VIEWBOX,
    INVALID_SVG,
    SVG_NS,
    SVG_TOO_LARGE,
    XLINK_NS,
    XML_NS,
)
from chatsvg.adapters.generation.svg_writer import _SafeSvgWriter
from chatsvg.application.ports import SvgRejected

__all__ = [
    "DEFAULT_VIEWBOX",
    "INVALID_SVG",
    "SVG_NS",
    "SVG_TOO_LARGE",
    "XLINK_NS",
    "XML_NS",
    "SvgRejected",
    "SvgSanitizer",
]


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
