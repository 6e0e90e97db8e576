"""Compound scaling as pure functions: coefficients in, architecture numbers out.

Every rounding rule lives here, named, so a test can check it against the paper and
against the official builders:

* channels  -> nearest multiple of 8, never below 8 and never more than 10 % below the
  exact value (TF ``round_filters``, timm ``make_divisible(divisor=8, round_limit=0.9)``);
* repeats   -> ``ceil(d * repeats)`` per stage (TF ``round_repeats``, timm ``depth_trunc='ceil'``);
* resolution -> nearest multiple of 4 pixels of ``base * r`` (pycls' rule; every published
  EfficientNet input size is a multiple of 4 while 260, 300 and 380 are not multiples of 8).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bench.errors import InputError

CHANNEL_DIVISOR = 8
CHANNEL_ROUND_LIMIT = 0.9
RESOLUTION_DIVISOR = 4


@dataclass(frozen=True)
class ScaleLimits:
    """The largest (and smallest) scaling this tool builds: far past B7 (w=2, d=3.1, 600 px, phi ~ 7),
    short of networks whose construction alone costs minutes and gigabytes. A value outside is
    refused with the limit named, before anything is built."""

    max_width: float = 8.0
    max_depth: float = 16.0
    min_phi: float = -4.0
    max_phi: float = 12.0
    min_input_size: int = 8
    max_input_size: int = 2048


LIMITS = ScaleLimits()


def check_scale(
    *,
    width: float | None = None,
    depth: float | None = None,
    resolution: float | None = None,
    phi: float | None = None,
    input_size: int | None = None,
    limits: ScaleLimits = LIMITS,
) -> None:
    """ValueError (one line, naming the coefficient and its limit) for a coefficient out of range."""
    for label, value, top in (("w", width, limits.max_width), ("d", depth, limits.max_depth), ("r", resolution, None)):
        if value is None:
            continue
        if not (math.isfinite(value) and value > 0):
            raise InputError(f"{label} must be a positive number, got {value!r}")
        if top is not None and value > top:
            raise InputError(f"{label}={value:g} is past the limit {label} <= {top:g}")
    if phi is not None and not (math.isfinite(phi) and limits.min_phi <= phi <= limits.max_phi):
        raise InputError(f"phi={phi!r} is outside {limits.min_phi:g} <= phi <= {limits.max_phi:g}")
    if input_size is not None and not limits.min_input_size <= input_size <= limits.max_input_size:
        raise InputError(f"input size {input_size!r} px is outside {limits.min_input_size}-{limits.max_input_size} px")


@dataclass(frozen=True)
class CompoundCoefficients:
    """Per-dimension growth bases: depth d = alpha**phi, width w = beta**phi, resolution r = gamma**phi."""

    alpha: float = 1.2
    beta: float = 1.1
    gamma: float = 1.15

    def __post_init__(self) -> None:
        for field_name in ("alpha", "beta", "gamma"):
            value = getattr(self, field_name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 1.0):
                raise InputError(f"{field_name} must be a finite number >= 1, got {value!r}")

    @property
    def flops_base(self) -> float:
        """alpha * beta**2 * gamma**2: the factor by which each +1 of phi multiplies cost (paper: ~2)."""
        return self.alpha * self.beta**2 * self.gamma**2


PAPER_COEFFICIENTS = CompoundCoefficients()


def compound_bases(
    phi: float | None,
    alpha: float | None = None,
    beta: float | None = None,
    gamma: float | None = None,
    *,
    flag: str = "",
) -> CompoundCoefficients:
    """The compound bases to scale by (the paper's where not given); a base given without phi would be ignored,
    so it is an InputError. ``flag`` prefixes the names in that message ("--" on the command line)."""
    given = [name for name, value in (("alpha", alpha), ("beta", beta), ("gamma", gamma)) if value is not None]
    if given and phi is None:
        names = " and ".join(f"{flag}{name}" for name in given)
        raise InputError(f"{names} only {'applies' if len(given) == 1 else 'apply'} with {flag}phi (compound scaling)")
    return CompoundCoefficients(
        PAPER_COEFFICIENTS.alpha if alpha is None else alpha,
        PAPER_COEFFICIENTS.beta if beta is None else beta,
        PAPER_COEFFICIENTS.gamma if gamma is None else gamma,
    )


@dataclass(frozen=True)
class Coefficients:
    """A point in (width, depth, resolution) space; 1.0 everywhere is the unscaled baseline."""

    width: float = 1.0
    depth: float = 1.0
    resolution: float = 1.0


def compound(phi: float, coefficients: CompoundCoefficients = PAPER_COEFFICIENTS) -> Coefficients:
    """Coefficients of compound coefficient ``phi`` (any real phi; phi=0 is the baseline)."""
    if not math.isfinite(phi):
        raise InputError(f"phi must be finite, got {phi!r}")
    return Coefficients(
        width=coefficients.beta**phi,
        depth=coefficients.alpha**phi,
        resolution=coefficients.gamma**phi,
    )


def round_channels(
    channels: int,
    multiplier: float = 1.0,
    divisor: int = CHANNEL_DIVISOR,
    round_limit: float = CHANNEL_ROUND_LIMIT,
) -> int:
    """Scale a channel count and round it to the nearest multiple of ``divisor``.

    Never returns less than ``divisor`` and never rounds down by more than ``1 - round_limit``
    (then one more ``divisor`` is added), exactly as TF's ``round_filters`` does.
    """
    exact = channels * multiplier
    rounded = max(divisor, int(exact + divisor / 2) // divisor * divisor)
    if rounded < round_limit * exact:
        rounded += divisor
    return rounded


def round_repeats(repeats: int, multiplier: float = 1.0) -> int:
    """Scale a stage's block count, rounding up so any multiplier > 1 deepens every stage."""
    return int(math.ceil(repeats * multiplier))


def round_resolution(base: int, multiplier: float = 1.0, divisor: int = RESOLUTION_DIVISOR) -> int:
    """Input size for resolution coefficient ``multiplier``: nearest multiple of ``divisor``."""
    return max(divisor, int(round(base * multiplier / divisor)) * divisor)
