"""How counts are written for people: one place, so every message spells a MAC count the same way."""

from __future__ import annotations

import math

#: Significant figures of a count written in giga.
FIGURES = 4


def giga(count: float) -> str:
    """``count`` in units of 10^9, to 4 significant figures, never in exponent form.

    1.5e9 -> ``1.5``, 5e11 -> ``500``, 9e14 -> ``900,000`` (``{:.4g}`` would give ``9e+05``),
    1000 -> ``0.000001`` (``{:.4g}`` would give ``1e-06``).
    """
    value = count / 1e9
    if not math.isfinite(value) or value == 0:
        return f"{value:g}"
    if abs(value) >= 1e4:
        return f"{value:,.0f}"
    decimals = max(0, FIGURES - 1 - math.floor(math.log10(abs(value))))
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
