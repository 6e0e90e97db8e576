"""The Python API: ``bench.count``, ``bench.latency``, ``bench.solve``, ``bench.read_results``.

The same functions the command line calls, behind a small surface for notebooks: a model is
named as on the command line (a timm name, a scalable base such as ``efficientnet_b0``, a preset,
or your own ``package.module:function``) or given as an ``nn.Module``; scaling is given by the
command line's option names (``w``, ``d``, ``r``, ``phi``, ``alpha``, ``beta``, ``gamma``, and
``total_stride`` for a scalable base built with fewer strides). Each
result is a frozen dataclass that prints on one line and converts with ``to_dict()`` and
``to_frame()`` (a one-row DataFrame; ``pandas.DataFrame([r.to_dict() for r in results])`` for many).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.errors import InputError
from bench.specs import imagenet_at

if TYPE_CHECKING:
    import pandas as pd
    from torch import nn

    from bench.specs import ModelSpec

#: The scaling keywords ``count`` and ``latency`` take: the command line's option names (``total_stride`` is
#: ``--total-stride``: a scalable base built with fewer strides, e.g. 8, the proxy's geometry).
SCALE_KEYWORDS = ("w", "d", "r", "phi", "alpha", "beta", "gamma", "total_stride")


class _Row:
    """``to_dict`` / ``to_frame`` and a one-line repr for the result dataclasses below."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([self.to_dict()])

    def __repr__(self) -> str:
        shown = []
        for item in fields(self):  # type: ignore[arg-type]
            value = getattr(self, item.name)
            if value is None or (item.name in ("width", "depth", "resolution") and value == 1.0):
                continue
            shown.append(f"{item.name}={_show(value)}")
        return f"{type(self).__name__}({', '.join(shown)})"


def _show(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return repr(value)
    if isinstance(value, int):
        return f"{value:_}"
    return f"{value:.4g}" if math.isfinite(value) else repr(value)


@dataclass(frozen=True, repr=False)
class Count(_Row):
    """Exact per-image params, MACs (FLOPs = 2 x MACs) and activations of one model at one input size."""

    model: str
    method: str
    input_size: int
    params: int
    macs: int
    activations: int
    width: float | None = None
    depth: float | None = None
    resolution: float | None = None
    phi: float | None = None

    @property
    def flops(self) -> int:
        return 2 * self.macs


@dataclass(frozen=True, repr=False)
class Latency(_Row):
    """Per-forward timings of one model (milliseconds) under the conditions listed with them."""

    model: str
    input_size: int
    device: str
    batch_size: int
    threads: int
    precision: str
    channels_last: bool
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    cv: float
    iterations: int
    images_per_s: float
    peak_memory_mb: float | None = None


@dataclass(frozen=True, repr=False)
class Solved(_Row):
    """The variant of one scaling method whose MACs land nearest a target, as ``bench solve`` finds it."""

    model: str
    method: str
    width: float
    depth: float
    resolution: float
    input_size: int
    macs: int
    target_macs: float
    rel_error: float
    networks_counted: int
    phi: float | None = None


def _spec(model: str, input_size: int | None, scale: dict[str, Any]) -> ModelSpec:
    """The ModelSpec the command line builds from the same options (bench.commands.args.spec_from_args)."""
    from bench.models.registry import make_spec
    from bench.scaling.rules import compound_bases

    unknown = sorted(set(scale) - set(SCALE_KEYWORDS) - {"model_args"})
    if unknown:
        expected = ", ".join(SCALE_KEYWORDS)
        raise TypeError(f"unknown scaling keyword(s) {', '.join(unknown)}; expected some of {expected}")
    coefficients = compound_bases(scale.get("phi"), scale.get("alpha"), scale.get("beta"), scale.get("gamma"))
    return make_spec(
        model,
        width=scale.get("w"),
        depth=scale.get("d"),
        resolution=scale.get("r"),
        phi=scale.get("phi"),
        coefficients=coefficients,
        input_size=input_size,
        inputs=imagenet_at(scale.get("total_stride")),
        model_args=scale.get("model_args"),
    )


def _own(spec: ModelSpec) -> dict[str, float | None]:
    """Coefficients that are ours to state (not a timm or user model's)."""
    if spec.method in ("timm", "user"):
        return {"width": None, "depth": None, "resolution": None, "phi": None}
    return {"width": spec.width, "depth": spec.depth, "resolution": spec.resolution, "phi": spec.phi}


def count(model: str | nn.Module, input_size: int | None = None, **scale: Any) -> Count:
    """Exact params, MACs and activations, counted as ``bench count`` counts them (on the meta device).

    ``model`` is a name (``"efficientnet_b0"``, ``"resnet50"``, ``"mylab.nets:tiny"``) or an
    ``nn.Module`` (counted as given, at ``input_size``, default 224, with 3 channels). ``scale``
    takes ``w``, ``d``, ``r`` or ``phi`` (with ``alpha``, ``beta``, ``gamma``), ``total_stride`` (a scalable
    base built with fewer strides), and ``model_args`` (a dict) for your own model's function:
    ``bench.count("efficientnet_b0", phi=1.5)``. Counts are at 3 input channels and 1,000 classes.
    """
    from bench.measure.complexity import count_complexity, count_module

    if not isinstance(model, str):
        if scale:
            raise TypeError("a module is counted as built: scale it before passing it, or pass its name")
        size = input_size or 224
        counts = count_module(model, (3, size, size))
        return Count(type(model).__name__, "module", size, counts.params, counts.macs, counts.activations)
    from bench.models.registry import described_method

    spec = _spec(model, input_size, scale)
    counts = count_complexity(spec)
    return Count(
        spec.name, described_method(spec), spec.input_size, counts.params, counts.macs, counts.activations, **_own(spec)
    )


def latency(
    model: str | nn.Module,
    input_size: int | None = None,
    *,
    device: str = "cpu",
    batch_size: int = 1,
    threads: int | None = 1,
    precision: str = "fp32",
    channels_last: bool = False,
    warmup: int = 5,
    iterations: int = 20,
    min_time_s: float = 1.0,
    **scale: Any,
) -> Latency:
    """Time forwards of one model as ``bench latency`` does (one pinned CPU thread and batch 1 by default).

    ``model`` and ``scale`` as for ``count``; ``threads=None`` leaves torch's thread count alone.
    The model is built with random weights (timing does not depend on them).
    """
    from bench.measure.latency import measure_latency
    from bench.models.registry import build_model
    from bench.specs import LatencyConditions

    conditions = LatencyConditions(
        device=device,
        batch_size=batch_size,
        threads=threads,
        precision=precision,
        channels_last=channels_last,
        warmup_iterations=warmup,
        min_iterations=iterations,
        min_time_s=min_time_s,
        max_iterations=max(1000, iterations),
    )
    if isinstance(model, str):
        spec = _spec(model, input_size, scale)
        name, shape, module = spec.name, spec.input_shape, build_model(spec)
    else:
        if scale:
            raise TypeError("a module is timed as built: scale it before passing it, or pass its name")
        size = input_size or 224
        name, shape, module = type(model).__name__, (3, size, size), model
    result = measure_latency(module, shape, conditions)
    stats = result.stats
    return Latency(
        name,
        shape[-1],
        device,
        result.batch_used,
        result.threads,
        precision,
        channels_last,
        stats.p50,
        stats.p90,
        stats.p99,
        stats.mean,
        stats.cv,
        stats.iterations,
        result.throughput,
        result.peak_memory_mb,
    )


def solve(
    model: str,
    method: str,
    macs: float | str | None = None,
    *,
    macs_ratio: float | None = None,
    match_phi: float | None = None,
    tolerance: float = 0.03,
    total_stride: int | None = None,
) -> Solved:
    """The ``method`` ("width", "depth", "resolution" or "compound") variant of a scalable base whose MACs
    hit a target, as ``bench solve`` finds it. Give exactly one target: ``macs`` (a number or ``"1.8G"``),
    ``macs_ratio`` (a multiple of the unscaled model's MACs) or ``match_phi`` (compound scaling's MACs at phi).
    ``total_stride`` builds every candidate with fewer strides (``--total-stride``).
    Raises ``bench.scaling.solver.SolverError`` when no variant lands within ``tolerance``.
    """
    from bench.models.registry import make_spec
    from bench.scaling.solver import solve as solve_macs
    from bench.store.count_cache import ComplexityCache
    from bench.suites import parse_number

    if sum(target is not None for target in (macs, macs_ratio, match_phi)) != 1:
        raise TypeError("give exactly one of macs, macs_ratio, match_phi")
    cache = ComplexityCache(None)
    inputs = imagenet_at(total_stride)
    if macs is not None:
        target = parse_number(macs) if isinstance(macs, str) else macs
        if target is None or not target > 0:
            raise InputError(f"macs must be a positive number like 1.8e9 or '1.8G', got {macs!r}")
    elif macs_ratio is not None:
        target = macs_ratio * cache.macs(make_spec(model, inputs=inputs))
    else:
        target = cache.macs(make_spec(model, phi=match_phi, inputs=inputs))
    match = solve_macs(model, method, target, cache.macs, tolerance=tolerance, inputs=inputs)
    spec = match.spec
    return Solved(
        spec.name,
        spec.method,
        spec.width,
        spec.depth,
        spec.resolution,
        spec.input_size,
        match.macs,
        match.target_macs,
        match.rel_error,
        match.evaluations,
        spec.phi,
    )


def read_results(path: str | Path) -> pd.DataFrame:
    """A results store (CSV or Parquet, as ``bench run --results`` writes it) as a DataFrame. A path that is
    not there raises FileNotFoundError (as pandas does: a typo is not an empty store), and a file that is not
    a complete store raises ``ResultsFormatError``."""
    from bench.store.results import read_results as read_store

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such results store: {path}")
    return read_store(path)
