"""A first answer fast for ``bench pick``: a quick look at every model, full timing only where it can matter.

The quick protocol (``quick_protocol``) is one warm-up forward and ``QUICK_ITERATIONS`` timed ones with no
minimum time, stopped after the first timed forward when that one alone is over ``STOP_FACTOR`` x the budget.
Its rows are their own kind, measurement ``latency-quick`` (so their own workload key and identity): whatever
reads ``latency`` rows (the report, its claims, a full pick) never takes a quick reading for a full one, and
the answer labels every row with the protocol it came from (``precision``).

Which models the full protocol must then time is a pure function of the readings (``in_play``): those that
could be in the answer once every reading is full. A quick reading, or a noisy or contended full one, stands
for an interval (``reading_bounds``);
a model is in play if the low end of its interval is within the budget and no other model is surely within the
budget, surely faster and at least as accurate. A model whose exact MACs could not run within the budget even
at twice this core's measured matrix-product peak is not timed at all (``out_of_reach``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from bench.specs import LatencyConditions

QUICK_MEASUREMENT = "latency-quick"
#: One warm-up forward and this many timed ones: enough for a median and a CV, in a few tenths of a second.
QUICK_ITERATIONS = 5
#: A quick look stops after one timed forward above this many times the budget: more would not bring it within.
STOP_FACTOR = 2.0
#: A quick reading's interval: its median widened by this fraction at least, or by ``CV_MARGINS`` x its CV.
MIN_MARGIN = 0.25
CV_MARGINS = 3.0
#: ``out_of_reach`` allows a network this many times the core's measured matrix-product rate.
PEAK_SAFETY = 2.0


@dataclass(frozen=True)
class QuickProtocol:
    """How a quick reading is taken: the conditions (few forwards) and where a look stops early."""

    conditions: LatencyConditions
    stop_above_ms: float | None

    measurement = QUICK_MEASUREMENT


def quick_protocol(full: LatencyConditions, budget_ms: float) -> QuickProtocol:
    """The quick look at a ``budget_ms`` budget under ``full``'s conditions (device, threads, batch, ...)."""
    conditions = replace(
        full, warmup_iterations=1, min_iterations=QUICK_ITERATIONS, max_iterations=QUICK_ITERATIONS, min_time_s=0.0
    )
    return QuickProtocol(conditions, STOP_FACTOR * budget_ms)


def bound_applies(conditions: LatencyConditions) -> bool:
    """``out_of_reach`` holds on CPU at fp32, one thread, batch 1 (the zoo's conditions): there a matrix product
    runs its MACs as fast as anything (convolutions are direct, no Winograd; NNPACK needs batch 16). On the
    project's 2-core VM the peak measured 51-52 GMAC/s, and the fastest of the 155 zoo models ran its counted
    MACs at 37 GMAC/s (cs3edgenet_x, reports/measured/zoo_frontier_cpu.csv): well inside ``PEAK_SAFETY``."""
    c = conditions
    return c.device == "cpu" and c.precision == "fp32" and c.threads == 1 and c.batch_size == 1


def out_of_reach(macs: pd.Series, budget_ms: float, peak_gmacs: float) -> pd.Series:
    """True for networks whose exact ``macs`` (per image) would take longer than the budget, widened by the
    quick margin, even at ``PEAK_SAFETY`` x the core's peak (``bench.measure.latency.matmul_peak_gmacs``)."""
    fastest_ms = macs.astype(float) / (PEAK_SAFETY * peak_gmacs * 1e6)
    return fastest_ms > budget_ms * (1 + MIN_MARGIN)


def reading_bounds(points: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(lowest, highest) latency each reading allows. A quick reading spans its median +- its margin
    (``MIN_MARGIN``, or ``CV_MARGINS`` x its CV where larger); a full one that is noisy or contended spans
    +- ``CV_MARGINS`` x its CV; a full one within the CV target, taken undisturbed, is taken as it is. Where the
    process waited for a core, the low end starts from its CPU time (median x cpu_wall_ratio: the forwards
    undisturbed), as a busy machine slows every forward alike and leaves the CV low."""
    from bench.measure.latency import is_contended, is_noisy

    quick = points["timing"] == "quick"
    cv = pd.to_numeric(points["latency_cv"], errors="coerce")
    ratio = pd.to_numeric(points["cpu_wall_ratio"], errors="coerce")
    shaky = cv.map(is_noisy) | ratio.map(is_contended)
    cv, ratio = cv.fillna(0.0), ratio.fillna(1.0).clip(upper=1.0)
    margin = np.maximum(MIN_MARGIN, CV_MARGINS * cv).where(quick, (CV_MARGINS * cv).where(shaky, 0.0))
    latency = pd.to_numeric(points["latency_ms"], errors="coerce")
    low = (latency * ratio.where(quick | shaky, 1.0) * (1 - margin)).clip(lower=0.0)
    return low, latency * (1 + margin)


def in_play(points: pd.DataFrame, budget_ms: float) -> pd.Series:
    """True for each model the answer could include once every reading is full (``reading_bounds``): the low end
    of its reading within ``budget_ms``, and no model surely within it (high end), surely faster (high end below
    this one's low end) and at least as accurate. Also the paper's models (``paper_top1``) whose reading straddles
    the budget, as the answer names the largest that fits."""
    low, high = reading_bounds(points)
    top1 = pd.to_numeric(points["top1"], errors="coerce").to_numpy()
    known = ~np.isnan(top1)
    possible = known & (low.to_numpy() <= budget_ms)
    sure = known & (high.to_numpy() <= budget_ms)
    beaten = (
        sure[None, :] & (top1[None, :] >= top1[:, None]) & (high.to_numpy()[None, :] < low.to_numpy()[:, None])
    ).any(axis=1)
    paper = points["paper_top1"].notna().to_numpy() & (low.to_numpy() <= budget_ms) & (high.to_numpy() > budget_ms)
    return pd.Series((possible & ~beaten) | paper, index=points.index)


def precision(timing: str, iterations: float, cv: float) -> str:
    """A row's precision in words: ``quick (n=5, CV 3.1%)`` or ``full (n=14, CV 2.0%)``."""
    n = "?" if iterations != iterations else f"{int(iterations)}"
    spread = "" if cv != cv else f", CV {cv:.1%}"
    return f"{timing} (n={n}{spread})"
