"""The offline model: draws what the prompt names from a built-in library, with no network.

`render(prompt, style)` reads the prompt (parser.py), places its subjects (layout.py), paints
the scene behind them (backdrops.py) and draws each from the library (subjects/) under the
style's rules (styles.py). Prompts with nothing the library knows get an abstract composition
of their own (abstract.py). Everything is deterministic: the same prompt and style always give
the same document, which the sanitizer passes through unchanged.
"""

from .render import plan, render

__all__ = ["plan", "render"]
