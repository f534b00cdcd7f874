"""Number and badge formats every text of the book shares: one definition each (numbers with units and thousands
separators, signed values with a true minus sign, a config field's value, a grade badge's HTML)."""
from __future__ import annotations

import html as _html

import numpy as np


def signed(v, fmt: str = "+,.0f") -> str:
    """`v` with its sign for a reader: '+1,234', '−1,234' (a minus sign, not a hyphen), and '0' without a sign for
    a value that rounds to zero under `fmt` (which must carry '+')."""
    s = format(v, fmt).replace("-", "−")
    return s[1:] if not s.lstrip("+−").strip("0.,") else s


def num(v, unit: str = "") -> str:
    """One number for a reader: steps and layers as integers with thousands separators, accuracies and fractions
    with 2-3 digits, decades signed; '–' for a value that does not exist."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "–"
    if isinstance(v, float) and np.isinf(v):
        return "never"
    if unit == "steps":
        return f"{int(round(v)):,} steps"
    if unit == "layers":
        return f"{int(round(v))} layer{'s' * (int(round(v)) != 1)}"
    if unit == "accuracy":
        return f"{v:.3f}"
    if unit == "decades":
        return f"{signed(v, '+.2f')} decades"
    if unit == "rank":
        return f"{v:,g}"
    if unit in ("fraction", "fraction of width", "fraction of the rise"):
        return signed(v, "+.2f") if unit == "fraction of the rise" else f"{v:.2f}"
    return f"{v:,.3g}" if isinstance(v, float) else f"{v:,}"


def field_value(v) -> str:
    """A config field's value as a label writes it: 61, 2,000, 0.002."""
    return f"{v:,}" if isinstance(v, int) else f"{v:g}" if isinstance(v, float) else str(v)


def badge_span(classes: str, word: str, tip: str) -> str:
    """One badge (HTML): `word` on the colour of `classes` (grokkit-<grade>, book/_static/grokkit.css), `tip` on
    hover. Every badge of the book is made here (grades, the slider's grades, the interventions' stories)."""
    return f'<span class="grokkit-badge {classes}" title="{_html.escape(tip)}">{_html.escape(word)}</span>'
