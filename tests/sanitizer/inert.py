"""An independent judge of sanitizer output: lists every way a document could still act.

It deliberately shares nothing with the sanitizer's allow-lists, so a hole in those lists is not
mirrored here. Used on sanitized output (must find nothing) and on the raw corpus (must find
something, which shows each malicious sample really carries a payload this judge can see).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

import tinycss2
from defusedxml.ElementTree import fromstring

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"

ACTIVE_ELEMENTS = {
    "script", "foreignobject", "handler", "listener", "iframe", "embed", "object", "html",
    "body", "img", "meta", "link", "base", "frame", "frameset", "applet", "form", "input",
    "button", "video", "audio", "source", "math", "template", "portal", "xml-stylesheet",
}  # fmt: skip
ANIMATIONS = {"animate", "set", "animatetransform", "animatemotion", "animatecolor"}
RASTER = re.compile(r"data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/]*=*\Z")
SCHEMES = ("javascript:", "vbscript:", "data:", "http:", "https:", "file:", "ftp:", "blob:")
# Attributes a browser may read as a URL (href is checked more strictly above); a scheme in,
# say, cy="http://..." is inert text and only the canary check would care.
URL_ATTRIBUTES = {"src", "action", "formaction", "data", "poster", "background", "base", "to",
                  "from", "by", "values", "target", "ping", "srcdoc", "content"}  # fmt: skip
SAFE_AT_RULES = {"media", "supports", "keyframes", "-webkit-keyframes"}


def _local(name: str) -> tuple[str, str]:
    if name.startswith("{"):
        namespace, _, local = name[1:].partition("}")
        return namespace, local
    return "", name


def _squash(value: str) -> str:
    # Browsers ignore ASCII whitespace and control characters inside URL schemes.
    return re.sub(r"[\x00-\x20]", "", value).lower()


def _css_problems(tokens: Iterable[Any], where: str) -> list[str]:
    problems: list[str] = []
    for token in tokens:
        kind = token.type
        if kind == "url" and not token.value.strip().startswith("#"):
            problems.append(f"{where}: url({token.value})")
        elif kind == "function":
            if token.lower_name == "url":
                text = "".join(a.value for a in token.arguments if a.type == "string")
                if not text.strip().startswith("#"):
                    problems.append(f"{where}: url({text!r})")
            elif token.lower_name in {"expression", "image", "image-set", "-webkit-image-set",
                                      "element", "cross-fade", "paint", "src", "attr", "env"}:  # fmt: skip
                problems.append(f"{where}: {token.lower_name}()")
            problems += _css_problems(token.arguments, where)
        elif kind in ("() block", "[] block", "{} block"):
            problems += _css_problems(token.content, where)
        elif kind == "ident" and token.lower_value in {"-moz-binding", "behavior"}:
            problems.append(f"{where}: {token.value}")
    return problems


def _stylesheet_problems(css: str) -> list[str]:
    problems: list[str] = []
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    pending = list(rules)
    while pending:
        rule = pending.pop()
        if rule.type == "at-rule":
            if rule.lower_at_keyword not in SAFE_AT_RULES:
                problems.append(f"<style>: @{rule.at_keyword}")
            problems += _css_problems(rule.prelude, "<style> prelude")
            if rule.content is not None:
                pending += tinycss2.parse_rule_list(rule.content, skip_comments=True)
        elif rule.type == "qualified-rule":
            problems += _css_problems(rule.prelude, "<style> selector")
            for declaration in tinycss2.parse_blocks_contents(rule.content):
                if declaration.type == "declaration":
                    if declaration.lower_name in {"behavior", "-moz-binding"}:
                        problems.append(f"<style>: {declaration.name}")
                    problems += _css_problems(declaration.value, "<style>")
    return problems


def problems(svg: str, *, canary: str | None = None) -> list[str]:
    """Every active or loading construct in `svg`; empty means inert in all three contexts."""
    found: list[str] = []
    if "<!" in svg or "<?" in svg:
        found.append("comment, CDATA, DOCTYPE or processing instruction in output")
    if canary and canary in svg:
        found.append(f"canary address {canary} still present")
    try:
        root = fromstring(svg)
    except Exception as exc:  # any parse failure means the output is not a document
        return [*found, f"unparseable: {exc}"]
    if root.tag != f"{{{SVG_NS}}}svg":
        found.append(f"root is {root.tag}")
    for element in root.iter():
        if not isinstance(element.tag, str):
            found.append("comment or PI node")
            continue
        namespace, local = _local(element.tag)
        lowered = local.lower()
        if namespace != SVG_NS:
            found.append(f"element outside the SVG namespace: {element.tag}")
        if lowered in ACTIVE_ELEMENTS:
            found.append(f"active element <{local}>")
        for name, value in element.attrib.items():
            _, attribute = _local(name)
            squashed = _squash(value)
            if attribute.lower().startswith("on"):
                found.append(f"event handler {name} on <{local}>")
            if name == XML_BASE:
                found.append("xml:base")
            if attribute.lower() == "href" or name == XLINK_HREF:
                if not (
                    value.strip().startswith("#") or (lowered == "image" and RASTER.match(value))
                ):
                    found.append(f"<{local} href={value[:60]!r}>")
            elif attribute.lower() in URL_ATTRIBUTES and any(s in squashed for s in SCHEMES):
                found.append(f"<{local} {name}={value[:60]!r}> names a URL scheme")
            if "url(" in squashed or "\\" in value:
                tokens = tinycss2.parse_component_value_list(value)
                found += _css_problems(tokens, f"<{local} {name}>")
            if attribute == "style":
                for declaration in tinycss2.parse_blocks_contents(value):
                    if declaration.type == "declaration":
                        found += _css_problems(declaration.value, f"<{local} style>")
                        if declaration.lower_name in {"behavior", "-moz-binding"}:
                            found.append(f"<{local} style> {declaration.name}")
        if lowered in ANIMATIONS:
            target = _squash(element.get("attributeName", ""))
            if target.endswith("href") or target.startswith("on") or ":" in target:
                found.append(f"<{local}> animates {target}")
        if lowered == "style":
            kind = element.get("type", "text/css").strip().lower()
            if kind not in ("", "text/css"):
                found.append(f"<style type={kind!r}>")
            found += _stylesheet_problems(element.text or "")
    return found


def assert_inert(svg: str, *, canary: str | None = None) -> ET.Element:
    found = problems(svg, canary=canary)
    assert not found, "\n".join(found) + "\n" + svg[:2000]
    root: ET.Element = fromstring(svg)
    return root
