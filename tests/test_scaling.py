"""The pure scaling rules, against the official rounding (timm's copy of it) and the paper."""

from __future__ import annotations

import math

import pytest
from timm.layers import make_divisible

from bench.models.families import FAMILIES
from bench.models.registry import presets
from bench.scaling.rules import (
    Coefficients,
    CompoundCoefficients,
    compound,
    round_channels,
    round_repeats,
    round_resolution,
)
from tests.conftest import read_reference


@pytest.mark.parametrize("channels", [8, 16, 24, 32, 40, 80, 112, 192, 320, 1280])
@pytest.mark.parametrize("multiplier", [0.25, 0.35, 0.5, 0.75, 1.0, 1.05, 1.1, 1.2, 1.4, 1.6, 1.8, 2.0, 2.2, 3.1, 4.3])
def test_round_channels_matches_timm_make_divisible(channels: int, multiplier: float) -> None:
    assert round_channels(channels, multiplier) == make_divisible(channels * multiplier, 8, round_limit=0.9)


def test_round_channels_rules() -> None:
    assert round_channels(32, 1.0) == 32
    assert round_channels(16, 0.25) == 8  # never below the divisor
    assert round_channels(40, 1.1) == 48  # 44 rounds half up to the multiple of 8 above
    assert round_channels(80, 1.1) == 88
    # rounding to the nearest multiple never loses more than 10%: 9 -> 8 is fine, 8.5 * ... not below 0.9x
    for c in range(8, 2000, 7):
        for m in (0.3, 0.55, 1.13, 2.7):
            rounded = round_channels(c, m)
            assert rounded % 8 == 0 and rounded >= 0.9 * c * m


def test_round_repeats_is_ceil() -> None:
    assert [round_repeats(r, 1.1) for r in (1, 2, 3, 4)] == [2, 3, 4, 5]
    assert round_repeats(4, 1.0) == 4
    assert round_repeats(3, 3.1) == 10


@pytest.mark.parametrize(
    ("r", "size"), [(1.0, 224), (1.3, 292), (1.5, 336), (1.7, 380), (2.0, 448), (2.2, 492), (2.5, 560), (1.15, 256)]
)
def test_round_resolution_to_multiple_of_four(r: float, size: int) -> None:
    assert round_resolution(224, r) == size


def test_compound_coefficients() -> None:
    point = compound(1.0)
    assert (point.width, point.depth, point.resolution) == pytest.approx((1.1, 1.2, 1.15))
    assert compound(0.0) == Coefficients(width=1.0, depth=1.0, resolution=1.0)  # phi = 0 is the baseline
    assert compound(2.5).depth == pytest.approx(1.2**2.5)
    assert compound(-1).width == pytest.approx(1 / 1.1)
    assert CompoundCoefficients().flops_base == pytest.approx(1.92, abs=1e-3)
    big = compound(12.0)
    assert math.isfinite(big.width) and big.depth == pytest.approx(1.2**12)


def test_compound_rejects_bad_coefficients() -> None:
    with pytest.raises(ValueError, match="alpha"):
        CompoundCoefficients(alpha=0.9)
    with pytest.raises(ValueError, match="phi"):
        compound(math.inf)


@pytest.mark.parametrize("row", read_reference("efficientnet_architectures.csv"), ids=lambda r: r["model"])
def test_efficientnet_presets_give_the_published_architectures(row: dict[str, str]) -> None:
    preset = presets()[row["model"]]
    arch = FAMILIES["efficientnet"].bases["efficientnet_b0"].scaled(preset.width, preset.depth)
    assert arch.stem == int(row["stem"])
    assert list(arch.channels) == [int(c) for c in row["channels"].split()]
    assert list(arch.repeats) == [int(r) for r in row["repeats"].split()]
    assert arch.blocks == int(row["blocks"])
    assert arch.head == int(row["head"])


def test_presets_are_the_published_coefficients() -> None:
    table = {name: (p.width, p.depth, p.input_size) for name, p in presets().items()}
    assert table == {
        "efficientnet_b0": (1.0, 1.0, 224),
        "efficientnet_b1": (1.0, 1.1, 240),
        "efficientnet_b2": (1.1, 1.2, 260),
        "efficientnet_b3": (1.2, 1.4, 300),
        "efficientnet_b4": (1.4, 1.8, 380),
        "efficientnet_b5": (1.6, 2.2, 456),
        "efficientnet_b6": (1.8, 2.6, 528),
        "efficientnet_b7": (2.0, 3.1, 600),
    }
