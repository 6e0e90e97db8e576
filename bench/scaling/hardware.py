"""Hardware-aware compound scaling: the alpha, beta, gamma whose *measured latency* grows by a set factor
per +1 of phi on this machine, where the paper's grow FLOPs by about 2.

The paper fixed phi = 1, searched a small grid of (alpha, beta, gamma) under alpha * beta^2 * gamma^2 ~ 2,
and kept the most accurate point. Here the constraint is latency measured here: for each (alpha, beta) of
a small grid, gamma >= 1 is solved so that the phi = 1 network (d = alpha, w = beta, r = gamma) runs
``ratio`` times as long as the base. Input sizes snap to a multiple of 4 px, so gamma is searched over
input sizes: a first guess from latency ~ r^2, then secant steps in log latency against log size, until
one lands within ``tolerance`` of the ratio or two neighbouring sizes bracket it.

Which solved point to keep needs an objective. The paper's was ImageNet accuracy, which this machine
cannot measure. ``select`` offers two stated rules: ``direction`` (default) keeps the point closest in
angle to the paper's accuracy-searched direction (log alpha, log beta, log gamma), which is the paper's
balance with a step that doubles latency instead of FLOPs; ``macs`` keeps the point that buys the most
MACs for the latency (a capacity heuristic). Accuracy of a choice, where claimed, comes from the proxy
task and is labelled so.

Every reading is a ratio timed in one run: the network and the base in alternating rounds
(bench.scaling.paired_timer.PairedTimer), each stored as a row with its own base reading beside it (entry
``base@NAME``), so a ratio carries no drift from the minutes between readings and a repeated search
times nothing twice. Everything here is pure or takes its readings through a ``Timer`` (spec ->
Reading), so the search is tested with a synthetic latency model; bench.commands.scale times real networks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pandas as pd

from bench.errors import InputError
from bench.models.families import scalable_family
from bench.models.registry import make_spec
from bench.scaling.rules import PAPER_COEFFICIENTS, CompoundCoefficients, round_resolution
from bench.specs import IMAGENET, InputSpec, ModelSpec


@dataclass(frozen=True)
class Reading:
    """A network's median latency and the base's, timed interleaved in one run."""

    ms: float
    base_ms: float

    @property
    def ratio(self) -> float:
        return self.ms / self.base_ms


Timer = Callable[[ModelSpec], Reading]
SELECTION_RULES = ("direction", "macs")
SOLVED = ("hit", "bracketed")
#: Each reading the search relies on is one measurement against one measurement of the base; the
#: tolerance is wider than the 4 px step (about 3.6 % in latency at 224 px) and narrower than the drift
#: between runs here, so the comparison at 2x / 4x / 8x is timed again, interleaved.
DEFAULT_TOLERANCE = 0.05


@dataclass(frozen=True)
class Grid:
    """The (alpha, beta) points searched, how far gamma may go, and when a ratio counts as hit."""

    alphas: tuple[float, ...] = (1.0, 1.1, 1.2, 1.3, 1.4)
    betas: tuple[float, ...] = (1.0, 1.05, 1.1, 1.15, 1.2)
    max_gamma: float = 2.0
    tolerance: float = DEFAULT_TOLERANCE
    max_probes: int = 6

    def __post_init__(self) -> None:
        if not self.alphas or not self.betas:
            raise InputError("the grid needs at least one alpha and one beta")
        for label, values in (("alpha", self.alphas), ("beta", self.betas)):
            bad = [v for v in values if not (math.isfinite(v) and 1.0 <= v <= 4.0)]
            if bad:
                raise InputError(f"{label} values must lie in [1, 4], got {bad[0]!r}")
        if not (math.isfinite(self.max_gamma) and 1.0 < self.max_gamma <= 4.0):
            raise InputError(f"max_gamma must lie in (1, 4], got {self.max_gamma!r}")
        if not 0 < self.tolerance < 0.5:
            raise InputError(f"tolerance must be a fraction in (0, 0.5), got {self.tolerance!r}")
        if self.max_probes < 1:
            raise InputError("max_probes must be at least 1")


@dataclass(frozen=True)
class Candidate:
    """One (alpha, beta) of the grid with gamma solved: the phi = 1 network measured closest to the ratio.

    ``status``: ``hit`` (a reading within tolerance), ``bracketed`` (two neighbouring sizes straddle the
    ratio: none in between to build), ``noisy`` (readings out of order or probes spent without either),
    ``over`` (alpha and beta alone already cost more than the ratio at gamma = 1), ``under`` (even
    ``max_gamma`` stays below it). ``hit`` and ``bracketed`` count as solved."""

    alpha: float
    beta: float
    gamma: float
    spec: ModelSpec
    reading: Reading
    status: str
    probes: int

    @property
    def coefficients(self) -> CompoundCoefficients:
        return CompoundCoefficients(self.alpha, self.beta, self.gamma)

    @property
    def ratio(self) -> float:
        return self.reading.ratio

    @property
    def solved(self) -> bool:
        return self.status in SOLVED


@dataclass(frozen=True)
class Search:
    """What ``search_grid`` found: the base, the target ratio and every grid point."""

    base: ModelSpec
    target_ratio: float
    candidates: tuple[Candidate, ...] = field(default_factory=tuple)

    @property
    def solved(self) -> list[Candidate]:
        return [c for c in self.candidates if c.solved]


def base_size(model: str, inputs: InputSpec = IMAGENET) -> int:
    return inputs.base_resolution or scalable_family(model).base_resolution


def phi_one_spec(model: str, alpha: float, beta: float, size: int, inputs: InputSpec = IMAGENET) -> ModelSpec:
    """The phi = 1 network of (alpha, beta) at ``size`` px: gamma = size / base size exactly."""
    gamma = size / base_size(model, inputs)
    return make_spec(model, phi=1.0, coefficients=CompoundCoefficients(alpha, beta, gamma), inputs=inputs)


def _snap(size: float, inputs: InputSpec) -> int:
    return round_resolution(1, size, inputs.resolution_divisor)


def solve_gamma(
    model: str,
    alpha: float,
    beta: float,
    *,
    target_ratio: float,
    timer: Timer,
    grid: Grid = Grid(),
    inputs: InputSpec = IMAGENET,
) -> Candidate:
    """Solve gamma for one (alpha, beta): the phi = 1 input size whose latency is ``target_ratio`` x base."""
    base_px = base_size(model, inputs)
    step = inputs.resolution_divisor
    largest = _snap(base_px * grid.max_gamma, inputs)
    measured: dict[int, Reading] = {}

    def ratio_at(size: int) -> float:
        if size not in measured:
            measured[size] = timer(phi_one_spec(model, alpha, beta, size, inputs))
        return measured[size].ratio

    def miss(size: int) -> float:
        return abs(math.log(measured[size].ratio / target_ratio))

    def result(status: str) -> Candidate:
        size = min(measured, key=miss)
        spec = phi_one_spec(model, alpha, beta, size, inputs)
        return Candidate(alpha, beta, size / base_px, spec, measured[size], status, len(measured))

    def hit(size: int) -> bool:
        return abs(measured[size].ratio / target_ratio - 1) <= grid.tolerance

    first = ratio_at(base_px)
    if hit(base_px):
        return result("hit")
    if first > target_ratio:
        return result("over")
    guess = _snap(base_px * math.sqrt(target_ratio / first), inputs)  # latency ~ pixels
    while len(measured) < grid.max_probes:
        lo = max(s for s in measured if measured[s].ratio < target_ratio)
        above = [s for s in measured if measured[s].ratio > target_ratio]
        hi = min(above) if above else None
        if hi is not None and hi - lo <= step:
            break  # neighbouring sizes bracket the ratio (or noise put readings out of order)
        guess = min(max(guess, lo + step), largest if hi is None else hi - step)
        if guess in measured:
            break
        ratio_at(guess)
        if hit(guess):
            return result("hit")
        if guess >= largest and measured[guess].ratio < target_ratio:
            return result("under")
        # next: secant in log latency against log size through the two readings nearest the ratio
        a, b = sorted(sorted(measured, key=miss)[:2])
        ra, rb = measured[a].ratio, measured[b].ratio
        slope = min(max(math.log(rb / ra) / math.log(b / a), 0.5), 4.0) if rb > ra else 2.0
        guess = _snap(a * (target_ratio / ra) ** (1 / slope), inputs)
    above = [s for s in measured if measured[s].ratio > target_ratio]
    if not above:
        return result("under")
    lo = max(s for s in measured if measured[s].ratio < target_ratio)
    return result("bracketed" if 0 < min(above) - lo <= step else "noisy")


def paired_base_name(name: str) -> str:
    """The entry of the base reading timed in the same run as network ``name``."""
    return f"base@{name}"


def search_grid(
    model: str,
    *,
    target_ratio: float,
    timer: Timer,
    grid: Grid = Grid(),
    inputs: InputSpec = IMAGENET,
    on_candidate: Callable[[Candidate], None] | None = None,
) -> Search:
    """Solve gamma for every (alpha, beta) of ``grid``."""
    if not (math.isfinite(target_ratio) and 1.0 < target_ratio <= 16.0):
        raise InputError(f"the latency ratio must lie in (1, 16], got {target_ratio!r}")
    candidates = []
    for alpha in grid.alphas:
        for beta in grid.betas:
            found = solve_gamma(model, alpha, beta, target_ratio=target_ratio, timer=timer, grid=grid, inputs=inputs)
            candidates.append(found)
            if on_candidate is not None:
                on_candidate(found)
    return Search(make_spec(model, inputs=inputs), target_ratio, tuple(candidates))


def direction_angle(coefficients: CompoundCoefficients, reference: CompoundCoefficients = PAPER_COEFFICIENTS) -> float:
    """Angle (degrees) between (log alpha, log beta, log gamma) of two sets of coefficients; 0 = same balance."""
    a = [math.log(coefficients.alpha), math.log(coefficients.beta), math.log(coefficients.gamma)]
    b = [math.log(reference.alpha), math.log(reference.beta), math.log(reference.gamma)]
    norm_a, norm_b = math.hypot(*a), math.hypot(*b)
    if norm_a == 0 or norm_b == 0:
        return 90.0
    cosine = sum(x * y for x, y in zip(a, b, strict=True)) / (norm_a * norm_b)
    return math.degrees(math.acos(max(-1.0, min(1.0, cosine))))


def select(candidates: Iterable[Candidate], rule: str, macs: Callable[[ModelSpec], int]) -> Candidate:
    """The solved candidate a rule keeps: ``direction`` (closest to the paper's balance) or ``macs`` (most
    MACs at the latency)."""
    if rule not in SELECTION_RULES:
        raise InputError(f"unknown selection rule {rule!r}; choose one of {', '.join(SELECTION_RULES)}")
    solved = [c for c in candidates if c.solved]
    if not solved:
        raise InputError("no (alpha, beta) of the grid reached the latency ratio; widen the grid or max gamma")
    if rule == "direction":
        return min(solved, key=lambda c: (direction_angle(c.coefficients), abs(c.ratio - 1)))
    return max(solved, key=lambda c: macs(c.spec))


@dataclass(frozen=True)
class ScalingPath:
    """One way to scale: the paper's FLOPs-derived coefficients or the latency-derived ones, at each phi."""

    label: str
    coefficients: CompoundCoefficients
    specs: tuple[ModelSpec, ...]


def scaling_paths(
    model: str, chosen: CompoundCoefficients, phis: tuple[int, ...] = (1, 2, 3), inputs: InputSpec = IMAGENET
) -> tuple[ScalingPath, ScalingPath]:
    """The networks compared at 2x, 4x, 8x: the paper's coefficients at phi (FLOPs ~2^phi; B1-B3-like)
    and the latency-derived ones at phi (latency ~ratio^phi)."""

    def specs(coefficients: CompoundCoefficients, prefix: str) -> tuple[ModelSpec, ...]:
        return tuple(
            make_spec(model, phi=float(p), coefficients=coefficients, inputs=inputs, name=f"{prefix}-phi{p}")
            for p in phis
        )

    return (
        ScalingPath("flops", PAPER_COEFFICIENTS, specs(PAPER_COEFFICIENTS, "flops")),
        ScalingPath("latency", chosen, specs(chosen, "latency")),
    )


def _newest_per_entry(rows: pd.DataFrame) -> pd.DataFrame:
    """The most recent row of each entry (a rerun with other coefficients stores rows under new keys)."""
    ordered = rows.sort_values("timestamp", kind="stable") if "timestamp" in rows else rows
    return ordered.drop_duplicates("entry", keep="last")


def comparison_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The FLOPs- and latency-derived networks side by side per phi, from the comparison's latency rows
    (entries ``base``, ``flops-phiN``, ``latency-phiN``): MACs, params, median latency, and both ratios
    to the base, which was timed in the same interleaved rounds."""
    timed = _newest_per_entry(rows).set_index("entry")
    if "base" not in timed.index:
        return pd.DataFrame()
    base = timed.loc["base"]
    out = []
    for entry, r in timed.iterrows():
        if entry == "base" or "-phi" not in str(entry):
            continue
        path, phi = str(entry).split("-phi")
        out.append(
            {
                "phi": int(float(phi)),
                "path": path,
                "depth": r["depth"],
                "width": r["width"],
                "input_size": int(r["input_size"]),
                "macs_g": r["macs"] / 1e9,
                "params_m": r["params"] / 1e6,
                "latency_ms": r["latency_ms_p50"],
                "latency_x": r["latency_ms_p50"] / base["latency_ms_p50"],
                "macs_x": r["macs"] / base["macs"],
            }
        )
    frame = pd.DataFrame(out)
    return frame.sort_values(["phi", "path"]).reset_index(drop=True) if not frame.empty else frame


def grid_table(rows: pd.DataFrame, target_ratio: float) -> pd.DataFrame:
    """Per (alpha, beta) of a search's rows (phi = 1 networks: d = alpha, w = beta, r = gamma, each with its
    base reading ``base@NAME``): the network read closest to ``target_ratio`` x the base, with its MACs,
    MAC growth per phi and angle to the paper's direction."""
    rows = _newest_per_entry(rows)
    bases = {str(r["entry"]): float(r["latency_ms_p50"]) for r in rows.to_dict("records")}
    probes = rows[pd.to_numeric(rows["phi"], errors="coerce") == 1.0]
    probes = probes.assign(base_ms=probes["entry"].map(lambda e: bases.get(paired_base_name(str(e)))))
    probes = probes.dropna(subset=["base_ms"])
    out = []
    for (depth, width), group in probes.groupby(["depth", "width"]):
        ratios = group["latency_ms_p50"] / group["base_ms"]
        best = group.loc[(ratios / target_ratio).map(math.log).abs().idxmin()]
        gamma = float(best["resolution"])
        out.append(
            {
                "alpha": float(depth),
                "beta": float(width),
                "gamma": gamma,
                "input_size": int(best["input_size"]),
                "sizes_timed": len(group),
                "latency_x": float(best["latency_ms_p50"]) / float(best["base_ms"]),
                "macs_g": float(best["macs"]) / 1e9,
                "macs_growth": float(depth) * float(width) ** 2 * gamma**2,
                "angle_deg": direction_angle(CompoundCoefficients(float(depth), float(width), max(gamma, 1.0))),
            }
        )
    return pd.DataFrame(out)
