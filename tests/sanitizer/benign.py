"""The benign corpus: SVGs written the way language models write them, plus real icon sets.

The hand-written drawings use everything artwork needs (gradients, patterns, masks, clip paths,
filters, symbols, text, CSS, transforms) and the habits of model output (an XML declaration, a
DOCTYPE, comments, HTML entities, a missing xmlns, a missing viewBox). The icon sets come from
the npm registry, installed on first use into a cache directory.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

ICON_PACKAGES = {
    "feather-icons@4.29.2": "feather-icons/dist/icons",
    "@tabler/icons@3.52.0": "@tabler/icons/icons",
    "heroicons@2.2.0": "heroicons",
    "bootstrap-icons@1.13.2": "bootstrap-icons/icons",
}

DEFAULT_CACHE = Path(tempfile.gettempdir()) / "chatsvg-icon-sets"

# A real 4x4 RGBA PNG, so the embedded image actually draws.
_PNG_DOT = (
    "iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAYAAACp8Z5+AAAAK0lEQVR4nBXIQQ0AAAzCQIQhDGH4Y12a+1STNiOoRmYgqH+E"
    "gaD5UQaCdgdYXysh7c61nwAAAABJRU5ErkJggg=="
)

LLM_SVGS: dict[str, str] = {
    "sunset-gradient": """<?xml version="1.0" encoding="UTF-8"?>
<!-- A calm sunset over the sea -->
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300" width="400" height="300">
  <defs>
    <linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0%" stop-color="#ff7e5f"/>
      <stop offset="100%" stop-color="#feb47b"/>
    </linearGradient>
    <radialGradient id="sun" cx="50%" cy="50%" r="50%">
      <stop offset="0%" stop-color="#fff7ae"/>
      <stop offset="100%" stop-color="#ffcc33" stop-opacity="0.8"/>
    </radialGradient>
  </defs>
  <rect width="400" height="300" fill="url(#sky)"/>
  <circle cx="200" cy="190" r="60" fill="url(#sun)"/>
  <rect y="190" width="400" height="110" fill="#2b5876" opacity="0.9"/>
  <path d="M0 210 Q 100 200 200 210 T 400 210" stroke="#ffffff" stroke-opacity="0.4" fill="none" stroke-width="3"/>
</svg>""",
    "doctype-house": """<?xml version="1.0" standalone="no"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg version="1.1" xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="200" height="200" viewBox="0 0 200 200">
  <title>House</title>
  <desc>A small house with a red roof</desc>
  <rect x="50" y="90" width="100" height="80" fill="#f4e1c1" stroke="#333" stroke-width="2"/>
  <polygon points="40,95 100,40 160,95" fill="#c0392b" stroke="#333" stroke-width="2" stroke-linejoin="round"/>
  <rect x="88" y="125" width="24" height="45" fill="#7f5539"/>
  <rect x="60" y="105" width="20" height="20" fill="#aed9e0" stroke="#333"/>
  <rect x="120" y="105" width="20" height="20" fill="#aed9e0" stroke="#333"/>
</svg>""",
    "no-xmlns-badge": """<svg viewBox="0 0 120 120" width="120" height="120">
  <circle cx="60" cy="60" r="54" fill="#1abc9c" stroke="#16a085" stroke-width="8"/>
  <path d="M35 62 L52 79 L86 43" fill="none" stroke="#fff" stroke-width="10" stroke-linecap="round" stroke-linejoin="round"/>
</svg>""",
    "pattern-checker": """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 160 160">
  <defs>
    <pattern id="check" width="20" height="20" patternUnits="userSpaceOnUse">
      <rect width="10" height="10" fill="#444"/>
      <rect x="10" y="10" width="10" height="10" fill="#444"/>
    </pattern>
    <pattern id="dots" width="16" height="16" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
      <circle cx="8" cy="8" r="3" fill="#e67e22"/>
    </pattern>
  </defs>
  <rect width="160" height="80" fill="url(#check)"/>
  <rect y="80" width="160" height="80" fill="url(#dots)"/>
</svg>""",
    "mask-fade": """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 100" width="200" height="100">
  <defs>
    <linearGradient id="fade"><stop offset="0" stop-color="white"/><stop offset="1" stop-color="black"/></linearGradient>
    <mask id="m"><rect width="200" height="100" fill="url(#fade)"/></mask>
  </defs>
  <rect width="200" height="100" fill="#8e44ad" mask="url(#m)"/>
  <text x="100" y="60" font-family="DejaVu Sans, sans-serif" font-size="28" text-anchor="middle" fill="#fff">Fade</text>
</svg>""",
    "clip-portrait": """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">
  <clipPath id="circleClip"><circle cx="50" cy="50" r="40"/></clipPath>
  <g clip-path="url(#circleClip)">
    <rect width="100" height="100" fill="#f1c40f"/>
    <rect y="60" width="100" height="40" fill="#27ae60"/>
    <circle cx="70" cy="30" r="12" fill="#e74c3c"/>
  </g>
  <circle cx="50" cy="50" r="40" fill="none" stroke="#2c3e50" stroke-width="3"/>
</svg>""",
    "drop-shadow-card": """<svg xmlns="http://www.w3.org/2000/svg" width="240" height="160" viewBox="0 0 240 160">
  <defs>
    <filter id="shadow" x="-20%" y="-20%" width="140%" height="140%">
      <feGaussianBlur in="SourceAlpha" stdDeviation="4" result="blur"/>
      <feOffset in="blur" dx="3" dy="5" result="offsetBlur"/>
      <feFlood flood-color="#000" flood-opacity="0.35" result="color"/>
      <feComposite in="color" in2="offsetBlur" operator="in" result="shadow"/>
      <feMerge><feMergeNode in="shadow"/><feMergeNode in="SourceGraphic"/></feMerge>
    </filter>
  </defs>
  <rect x="30" y="25" width="180" height="100" rx="12" fill="#ecf0f1" filter="url(#shadow)"/>
  <rect x="50" y="45" width="60" height="60" rx="8" fill="#3498db"/>
  <rect x="125" y="50" width="70" height="10" rx="5" fill="#95a5a6"/>
  <rect x="125" y="70" width="50" height="10" rx="5" fill="#bdc3c7"/>
</svg>""",
    "turbulence-cloud": """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 120">
  <filter id="noise">
    <feTurbulence type="fractalNoise" baseFrequency="0.03" numOctaves="3" seed="7" result="n"/>
    <feDisplacementMap in="SourceGraphic" in2="n" scale="12" xChannelSelector="R" yChannelSelector="G"/>
  </filter>
  <rect width="200" height="120" fill="#87ceeb"/>
  <g filter="url(#noise)" fill="#fff">
    <ellipse cx="80" cy="60" rx="45" ry="25"/>
    <ellipse cx="120" cy="55" rx="40" ry="28"/>
  </g>
</svg>""",
    "color-matrix-photo": f"""<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 64 64" width="64" height="64">
  <filter id="sepia"><feColorMatrix type="matrix" values="0.39 0.77 0.19 0 0 0.35 0.69 0.17 0 0 0.27 0.53 0.13 0 0 0 0 0 1 0"/></filter>
  <image xlink:href="data:image/png;base64,{_PNG_DOT}" x="0" y="0" width="64" height="64" filter="url(#sepia)" image-rendering="pixelated"/>
  <rect x="4" y="4" width="56" height="56" fill="none" stroke="#222" stroke-width="2"/>
</svg>""",
    "symbol-use-stars": """<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 300 100">
  <defs>
    <symbol id="star" viewBox="0 0 24 24">
      <path d="M12 2l3.09 6.26L22 9.27l-5 4.87 1.18 6.88L12 17.77l-6.18 3.25L7 14.14 2 9.27l6.91-1.01L12 2z"/>
    </symbol>
  </defs>
  <use href="#star" x="10" y="20" width="60" height="60" fill="#f39c12"/>
  <use xlink:href="#star" x="120" y="20" width="60" height="60" fill="#f1c40f"/>
  <use href="#star" x="230" y="20" width="60" height="60" fill="#bdc3c7"/>
</svg>""",
    "style-classes": """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200">
  <style>
    .bg { fill: #fdf6e3; }
    .petal { fill: #ff6b81; stroke: #c44569; stroke-width: 2; }
    .center { fill: #f8c291; }
    /* the stem */
    #stem { stroke: #218c74; stroke-width: 6; stroke-linecap: round; }
    @media (min-width: 1px) { .center { stroke: #e58e26; stroke-width: 3 } }
  </style>
  <rect class="bg" width="200" height="200"/>
  <line id="stem" x1="100" y1="110" x2="100" y2="190"/>
  <g transform="translate(100 80)">
    <ellipse class="petal" rx="18" ry="38" transform="rotate(0)"/>
    <ellipse class="petal" rx="18" ry="38" transform="rotate(60)"/>
    <ellipse class="petal" rx="18" ry="38" transform="rotate(120)"/>
    <circle class="center" r="16"/>
  </g>
</svg>""",
    "cdata-style": """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">
  <style type="text/css"><![CDATA[
    rect > .x, circle { fill: #0984e3 }
    .ring { fill: none; stroke: #6c5ce7; stroke-width: 6; stroke-dasharray: 12 6 }
  ]]></style>
  <circle cx="50" cy="50" r="20"/>
  <circle class="ring" cx="50" cy="50" r="38"/>
</svg>""",
    "inline-styles": """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 80" width="240" height="160">
  <rect x="5" y="5" width="110" height="70" rx="10" style="fill:#2d3436;stroke:#636e72;stroke-width:3"/>
  <circle cx="40" cy="40" r="18" style="fill: #00b894; opacity: .9"/>
  <circle cx="80" cy="40" r="18" style="fill:#fdcb6e;mix-blend-mode:screen;fill-opacity:0.8"/>
</svg>""",
    "css-variables": """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">
  <style>
    svg { --main: #e17055; --accent: #74b9ff; }
    .a { fill: var(--main); }
    .b { fill: var(--accent, blue); }
  </style>
  <rect class="a" x="10" y="10" width="40" height="80"/>
  <rect class="b" x="50" y="10" width="40" height="80"/>
</svg>""",
    "text-tspans": """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 120" width="300" height="120">
  <rect width="300" height="120" fill="#222831"/>
  <text x="20" y="55" font-family="DejaVu Sans" font-size="32" fill="#eeeeee">Hello&nbsp;<tspan fill="#00adb5" font-weight="bold">World</tspan></text>
  <text x="20" y="95" font-family="DejaVu Serif" font-size="18" fill="#aaaaaa" xml:space="preserve">made   with &lt;svg&gt; &amp; love &#8212; 2024</text>
</svg>""",
    "text-on-path": """<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 300 160">
  <defs><path id="arc" d="M 30 130 A 120 120 0 0 1 270 130"/></defs>
  <use xlink:href="#arc" fill="none" stroke="#ddd"/>
  <text font-family="DejaVu Sans" font-size="20" fill="#d63031"><textPath xlink:href="#arc" startOffset="50%" text-anchor="middle">Curved text on an arc</textPath></text>
</svg>""",
    "markers-arrows": """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 120">
  <defs>
    <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
      <path d="M0 0 L10 5 L0 10 z" fill="#2d3436"/>
    </marker>
    <marker id="dot" markerWidth="6" markerHeight="6" refX="3" refY="3"><circle cx="3" cy="3" r="2" fill="#0984e3"/></marker>
  </defs>
  <polyline points="20,100 60,40 100,80 140,20 180,60" fill="none" stroke="#2d3436" stroke-width="2"
    marker-start="url(#dot)" marker-mid="url(#dot)" marker-end="url(#arrow)"/>
</svg>""",
    "nested-transforms": """<svg xmlns="http://www.w3.org/2000/svg" viewBox="-100 -100 200 200">
  <g transform="scale(0.9)">
    <g transform="rotate(15)">
      <rect x="-60" y="-60" width="120" height="120" fill="#55efc4"/>
      <g transform="matrix(0.7 0.7 -0.7 0.7 0 0)"><rect x="-30" y="-30" width="60" height="60" fill="#00cec9"/></g>
      <g transform="translate(40,-40) skewX(20)"><rect width="20" height="20" fill="#0984e3"/></g>
    </g>
  </g>
</svg>""",
    "nested-svg-viewport": """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 100">
  <rect width="200" height="100" fill="#dfe6e9"/>
  <svg x="10" y="10" width="80" height="80" viewBox="0 0 10 10" preserveAspectRatio="xMidYMid meet">
    <circle cx="5" cy="5" r="5" fill="#e84393"/>
  </svg>
  <svg x="110" y="10" width="80" height="80" viewBox="0 0 20 10" preserveAspectRatio="none">
    <circle cx="10" cy="5" r="5" fill="#fd79a8"/>
  </svg>
</svg>""",
    "missing-viewbox": """<svg xmlns="http://www.w3.org/2000/svg" width="150" height="100">
  <rect x="10" y="10" width="130" height="80" fill="#a29bfe" rx="15"/>
  <circle cx="75" cy="50" r="25" fill="#6c5ce7"/>
</svg>""",
    "inkscape-export": """<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!-- Created with Inkscape (http://www.inkscape.org/) -->
<svg width="100mm" height="60mm" viewBox="0 0 100 60" version="1.1" id="svg5"
   xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"
   xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd"
   xmlns="http://www.w3.org/2000/svg" xmlns:svg="http://www.w3.org/2000/svg"
   xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:cc="http://creativecommons.org/ns#">
  <sodipodi:namedview id="namedview7" pagecolor="#ffffff" inkscape:zoom="1.5"/>
  <defs id="defs2"/>
  <metadata><rdf:RDF><cc:Work rdf:about=""/></rdf:RDF></metadata>
  <g inkscape:label="Layer 1" inkscape:groupmode="layer" id="layer1">
    <path style="fill:#ff9f43;stroke:#000000;stroke-width:0.5;stroke-opacity:1" d="M 10,50 30,10 50,50 Z" id="path1" sodipodi:nodetypes="cccc"/>
    <circle style="fill:#48dbfb;fill-opacity:0.8" id="circle1" cx="70" cy="30" r="20"/>
  </g>
</svg>""",
    "gradient-href-chain": """<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 200 100">
  <defs>
    <linearGradient id="base"><stop offset="0" stop-color="#fd79a8"/><stop offset="1" stop-color="#6c5ce7"/></linearGradient>
    <linearGradient id="diag" xlink:href="#base" x1="0" y1="0" x2="1" y2="1"/>
    <radialGradient id="rad" href="#base" fx="0.3" fy="0.3" spreadMethod="reflect" r="0.3"/>
  </defs>
  <rect width="100" height="100" fill="url(#diag)"/>
  <rect x="100" width="100" height="100" fill="url('#rad')"/>
</svg>""",
    "dashed-chart": """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 240 140">
  <g stroke="#b2bec3" stroke-width="1" stroke-dasharray="4 4">
    <line x1="30" y1="20" x2="230" y2="20"/><line x1="30" y1="60" x2="230" y2="60"/><line x1="30" y1="100" x2="230" y2="100"/>
  </g>
  <g fill="#0984e3">
    <rect x="45" y="70" width="25" height="50"/><rect x="95" y="40" width="25" height="80"/>
    <rect x="145" y="85" width="25" height="35"/><rect x="195" y="25" width="25" height="95"/>
  </g>
  <path d="M30 120 H230 M30 10 V120" stroke="#2d3436" stroke-width="2" fill="none"/>
</svg>""",
    "animated-spinner": """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 50 50" width="50" height="50">
  <circle cx="25" cy="25" r="20" fill="none" stroke="#dfe6e9" stroke-width="5"/>
  <path d="M25 5 A20 20 0 0 1 45 25" fill="none" stroke="#0984e3" stroke-width="5" stroke-linecap="round">
    <animateTransform attributeName="transform" type="rotate" from="0 25 25" to="360 25 25" dur="1s" repeatCount="indefinite"/>
  </path>
  <circle cx="25" cy="25" r="4" fill="#0984e3"><animate attributeName="r" values="4;6;4" dur="1s" repeatCount="indefinite"/></circle>
</svg>""",
    "css-keyframes": """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">
  <style>
    @keyframes pulse { 0% { opacity: 1 } 50% { opacity: .4 } 100% { opacity: 1 } }
    .p { animation: pulse 2s infinite ease-in-out; fill: #e17055; transform-origin: center; }
  </style>
  <circle class="p" cx="50" cy="50" r="30"/>
</svg>""",
    "entities-and-comments": """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 80">
  <!-- Background -->
  <rect width="200" height="80" fill="#fab1a0"/>
  <!-- Label: uses HTML entities the way models often do -->
  <text x="100" y="48" text-anchor="middle" font-family="DejaVu Sans" font-size="20" fill="#2d3436">Caf&eacute; &mdash; &copy;&nbsp;2024</text>
</svg>""",
    "lighting-emboss": """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 120">
  <filter id="emboss">
    <feGaussianBlur in="SourceAlpha" stdDeviation="3" result="blur"/>
    <feSpecularLighting in="blur" surfaceScale="5" specularConstant="0.8" specularExponent="20" lighting-color="#ffffff" result="spec">
      <fePointLight x="-50" y="-100" z="200"/>
    </feSpecularLighting>
    <feComposite in="spec" in2="SourceAlpha" operator="in" result="specOut"/>
    <feComposite in="SourceGraphic" in2="specOut" operator="arithmetic" k1="0" k2="1" k3="1" k4="0"/>
  </filter>
  <circle cx="60" cy="60" r="45" fill="#00b894" filter="url(#emboss)"/>
</svg>""",
    "component-transfer": """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">
  <linearGradient id="g"><stop offset="0" stop-color="#000"/><stop offset="1" stop-color="#fff"/></linearGradient>
  <filter id="posterize"><feComponentTransfer>
    <feFuncR type="discrete" tableValues="0 0.5 1"/><feFuncG type="discrete" tableValues="0 0.5 1"/>
    <feFuncB type="table" tableValues="1 0"/><feFuncA type="identity"/>
  </feComponentTransfer></filter>
  <rect width="100" height="100" fill="url(#g)" filter="url(#posterize)"/>
</svg>""",
    "morphology-outline": """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 140 60">
  <filter id="outline"><feMorphology in="SourceAlpha" operator="dilate" radius="2" result="thick"/>
    <feFlood flood-color="#2d3436"/><feComposite in2="thick" operator="in"/>
    <feMerge><feMergeNode/><feMergeNode in="SourceGraphic"/></feMerge></filter>
  <text x="70" y="40" font-family="DejaVu Sans" font-size="30" font-weight="bold" text-anchor="middle" fill="#ffeaa7" filter="url(#outline)">SALE</text>
</svg>""",
    "switch-lang": """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 40">
  <switch>
    <g systemLanguage="xx-none"><rect width="100" height="40" fill="red"/></g>
    <g><rect width="100" height="40" fill="#74b9ff"/></g>
  </switch>
</svg>""",
    "accessible-logo": """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" role="img" aria-labelledby="t d" focusable="false">
  <title id="t">Acme logo</title>
  <desc id="d">A blue hexagon with a white A</desc>
  <polygon points="32,4 56,18 56,46 32,60 8,46 8,18" fill="#0652dd"/>
  <path d="M22 46 L32 18 L42 46 M26 36 H38" stroke="#fff" stroke-width="4" fill="none" stroke-linejoin="round"/>
</svg>""",
    "opacity-groups": """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 120">
  <g opacity="0.6"><circle cx="45" cy="50" r="30" fill="#d63031"/><circle cx="75" cy="50" r="30" fill="#0984e3"/></g>
  <g fill-opacity="0.5" stroke="#2d3436" stroke-width="2" paint-order="stroke"><circle cx="60" cy="78" r="30" fill="#00b894"/></g>
  <rect x="0" y="0" width="120" height="120" fill="none" stroke="#000" vector-effect="non-scaling-stroke"/>
</svg>""",
    "fill-rule-evenodd": """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">
  <path fill-rule="evenodd" clip-rule="evenodd" fill="#e67e22" d="M10 10h80v80h-80z M30 30h40v40h-40z"/>
  <path fill="#2c3e50" d="M50 35 l15 30 h-30 z" transform="rotate(180 50 50)"/>
</svg>""",
}


def install_icon_sets(cache: Path = DEFAULT_CACHE) -> dict[str, list[Path]]:
    """The SVG files of each icon package, installed with npm into `cache` if not there yet."""
    modules = cache / "node_modules"
    missing = [p for p, sub in ICON_PACKAGES.items() if not (modules / sub).is_dir()]
    if missing:
        npm = shutil.which("npm")
        if npm is None:
            raise FileNotFoundError("npm is not installed")
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(cache),
                "--no-save",
                "--ignore-scripts",
                "--no-audit",
                "--no-fund",
                *ICON_PACKAGES,
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return {
        package.rsplit("@", 1)[0]: sorted((modules / sub).rglob("*.svg"))
        for package, sub in ICON_PACKAGES.items()
    }
