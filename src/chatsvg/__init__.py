"""ChatSVG: type a prompt, get back a clean, safe SVG."""

__version__ = "0.1.0"
