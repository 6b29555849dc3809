"""The SVG sanitizer's tables: namespaces, error codes, allow-lists and small regex grammars."""

from __future__ import annotations

import re

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
