"""MAC counts as people read them."""

from __future__ import annotations

import pytest

from bench.units import giga


@pytest.mark.parametrize(
    ("count", "text"),
    [(1.5e9, "1.5"), (385_797_384, "0.3858"), (5e11, "500"), (9_999e9, "9999"), (1e13, "10,000"), (9e14, "900,000")],
)
def test_giga_never_writes_an_exponent_for_large_counts(count: float, text: str) -> None:
    assert giga(count) == text


@pytest.mark.parametrize(
    ("count", "text"),
    [(1000, "0.000001"), (12_346, "0.00001235"), (99_990, "0.00009999"), (0, "0"), (-2.5e9, "-2.5")],
)
def test_giga_never_writes_an_exponent_for_small_counts(count: float, text: str) -> None:
    assert giga(count) == text
