"""One short example drawing per style, shown to the model in the system prompt, and each style's
rules in words. Each example draws a different everyday subject, so the model copies the style,
not the subject; each passes the sanitizer unchanged in meaning and renders (tests check both)."""

from __future__ import annotations

STYLE_HINTS: dict[str, str] = {
    "outline": 'Strokes only, no fills (fill="none"), one uniform stroke width of 8 to 12, '
    "rounded caps and joins, two or three stroke colours on a plain light background.",
    "filled": "Solid flat fills with clear silhouettes, no outlines, a few shades per colour for "
    "the parts.",
    "minimal": "As few shapes as possible, lots of empty space, two or three colours, no detail "
    "that the subject can be recognised without.",
    "modern": "Clean geometric shapes, soft rounded corners, a contemporary muted palette, a "
    "soft gradient background and a round backdrop behind the subject.",
    "flat": "Flat colours, no gradients, no shadows, no outlines, simple geometric forms.",
    "gradient": "Smooth linear or radial gradients on the subject and the background, vivid "
    "colours blending into each other.",
    "line-art": 'Continuous, even-weight black lines (stroke="#111", one width) on a white '
    "background, no fills, no colour.",
    "3d": "Suggest volume with radial gradients (a light top-left, a dark bottom-right), a "
    "highlight, and a soft elliptical shadow on the ground.",
    "cartoon": 'Bold dark outlines (stroke="#222", width 8 to 10), bright saturated fills, '
    "playful exaggerated shapes, a friendly face where it fits.",
}

_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">'

STYLE_EXAMPLES: dict[str, str] = {
    # A coffee cup.
    "outline": _SVG + '<rect width="512" height="512" fill="#f8fafc"/>'
    '<g fill="none" stroke-width="10" stroke-linecap="round" stroke-linejoin="round">'
    '<path d="M136 200h200v120a80 80 0 0 1-80 80h-40a80 80 0 0 1-80-80z" stroke="#0f766e"/>'
    '<path d="M336 230h30a40 40 0 0 1 0 80h-34" stroke="#0f766e"/>'
    '<path d="M196 150c-14-20 14-30 0-50M256 150c-14-20 14-30 0-50" stroke="#f59e0b"/>'
    '<path d="M116 430h280" stroke="#0f766e"/></g></svg>',
    # A house.
    "filled": _SVG + '<rect width="512" height="512" fill="#e0f2fe"/>'
    '<rect x="0" y="400" width="512" height="112" fill="#65a30d"/>'
    '<rect x="136" y="230" width="240" height="180" fill="#fbbf24"/>'
    '<path d="M106 240L256 110l150 130z" fill="#b91c1c"/>'
    '<rect x="226" y="310" width="60" height="100" fill="#7c2d12"/>'
    '<rect x="160" y="270" width="46" height="46" fill="#bae6fd"/>'
    '<rect x="306" y="270" width="46" height="46" fill="#bae6fd"/></svg>',
    # A sun over a hill.
    "minimal": _SVG + '<rect width="512" height="512" fill="#fff7ed"/>'
    '<circle cx="300" cy="210" r="70" fill="#f97316"/>'
    '<path d="M0 390q256-120 512 0v122H0z" fill="#1e3a8a"/></svg>',
    # A leaf badge.
    "modern": _SVG + '<defs><linearGradient id="bg" x1="0" y1="0" x2="1" y2="1">'
    '<stop offset="0" stop-color="#eef2ff"/><stop offset="1" stop-color="#e0e7ff"/>'
    "</linearGradient></defs>"
    '<rect width="512" height="512" fill="url(#bg)"/>'
    '<circle cx="256" cy="256" r="170" fill="#c7d2fe"/>'
    '<path d="M170 340c0-120 80-190 190-190 0 120-70 200-190 190z" fill="#4f46e5"/>'
    '<path d="M180 330l120-120" stroke="#eef2ff" stroke-width="10" stroke-linecap="round"/>'
    "</svg>",
    # A rocket.
    "flat": _SVG + '<rect width="512" height="512" fill="#1e293b"/>'
    '<path d="M256 80c60 50 80 130 60 230h-120c-20-100 0-180 60-230z" fill="#e2e8f0"/>'
    '<circle cx="256" cy="200" r="30" fill="#38bdf8"/>'
    '<path d="M196 260l-50 80h60zM316 260l50 80h-60z" fill="#ef4444"/>'
    '<path d="M226 310h60l-30 90z" fill="#f59e0b"/></svg>',
    # A sunset over the sea.
    "gradient": _SVG + '<defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">'
    '<stop offset="0" stop-color="#7c3aed"/><stop offset="1" stop-color="#fb923c"/>'
    '</linearGradient><radialGradient id="sun"><stop offset="0" stop-color="#fef08a"/>'
    '<stop offset="1" stop-color="#f97316"/></radialGradient>'
    '<linearGradient id="sea" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#0ea5e9"/>'
    '<stop offset="1" stop-color="#1e3a8a"/></linearGradient></defs>'
    '<rect width="512" height="512" fill="url(#sky)"/>'
    '<circle cx="256" cy="320" r="100" fill="url(#sun)"/>'
    '<rect y="320" width="512" height="192" fill="url(#sea)"/></svg>',
    # A cat's face.
    "line-art": _SVG + '<rect width="512" height="512" fill="#ffffff"/>'
    '<g fill="none" stroke="#111" stroke-width="8" stroke-linecap="round" stroke-linejoin="round">'
    '<path d="M146 200l10-90 70 50h60l70-50 10 90c30 110-30 190-110 190s-140-80-110-190z"/>'
    '<path d="M206 250q15-15 30 0M276 250q15-15 30 0M240 300l16 14 16-14"/>'
    '<path d="M256 314v20M120 300l80 10M120 340l80-10M392 300l-80 10M392 340l-80-10"/></g></svg>',
    # A ball.
    "3d": _SVG + '<defs><radialGradient id="ball" cx="0.35" cy="0.3" r="0.75">'
    '<stop offset="0" stop-color="#fde68a"/><stop offset="0.5" stop-color="#f59e0b"/>'
    '<stop offset="1" stop-color="#92400e"/></radialGradient>'
    '<radialGradient id="shadow"><stop offset="0" stop-color="#000" stop-opacity="0.35"/>'
    '<stop offset="1" stop-color="#000" stop-opacity="0"/></radialGradient></defs>'
    '<rect width="512" height="512" fill="#f1f5f9"/>'
    '<ellipse cx="256" cy="420" rx="130" ry="26" fill="url(#shadow)"/>'
    '<circle cx="256" cy="250" r="140" fill="url(#ball)"/>'
    '<ellipse cx="206" cy="190" rx="36" ry="22" fill="#fff" opacity="0.6"/></svg>',
    # A smiling star.
    "cartoon": _SVG + '<rect width="512" height="512" fill="#bae6fd"/>'
    '<path d="M256 70l52 110 120 14-90 82 24 120-106-60-106 60 24-120-90-82 120-14z" '
    'fill="#facc15" stroke="#222" stroke-width="10" stroke-linejoin="round"/>'
    '<circle cx="220" cy="250" r="14" fill="#222"/><circle cx="292" cy="250" r="14" fill="#222"/>'
    '<path d="M222 300q34 30 68 0" fill="none" stroke="#222" stroke-width="10" '
    'stroke-linecap="round"/></svg>',
}
