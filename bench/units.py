"""How counts are written for people: one place, so every message spells a MAC count the same way."""

from __future__ import annotations


def giga(count: float) -> str:
    """``count`` in units of 10^9, to 4 significant figures, never in exponent form.

    1.5e9 -> ``1.5``, 5e11 -> ``500``, 9e14 -> ``900,000`` (``{:.4g}`` would give ``9e+05``).
    """
    value = count / 1e9
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
