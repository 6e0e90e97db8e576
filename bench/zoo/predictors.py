"""Which cost metric predicts runtime? Params, MACs and activations against measured latency.

Pure functions over points with ``base``, ``params_m``, ``macs_g``, ``activations_m`` and ``latency_ms``
columns (``bench.zoo.select.zoo_points``). Rank agreement is Spearman's rho (scipy's ``spearmanr``, average ranks
for ties); the fit is a least-squares line of log latency on log cost (scipy's ``linregress``), reported as R².
Dollár et al. (2021, "Fast and Accurate Model Scaling") found activations a better predictor of GPU
runtime than FLOPs; ``rank_table`` lets that claim be checked on any machine's rows.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

METRICS = {"params_m": "params", "macs_g": "MACs", "activations_m": "activations"}


def family(base: str) -> str:
    """A model's family from its timm name: letters up to the first digit or size word (``tf_`` kept apart)."""
    name = base.removeprefix("tf_")
    match = re.match(r"[a-z]+", name)
    return match.group(0) if match else name


def spearman(x: pd.Series, y: pd.Series) -> float:
    """Spearman's rho (average ranks for ties); NaN below three points."""
    from scipy.stats import spearmanr

    return float(spearmanr(x, y).statistic) if len(x) > 2 else float("nan")


def loglog_r2(x: pd.Series, y: pd.Series) -> float:
    """R² of the least-squares line log y = a + b log x (NaN below three points or when log y is constant)."""
    from scipy.stats import linregress

    if len(x) < 3:
        return float("nan")
    lx, ly = np.log(x.to_numpy(float)), np.log(y.to_numpy(float))
    if np.ptp(ly) == 0 or np.ptp(lx) == 0:
        return float("nan")
    return float(linregress(lx, ly).rvalue ** 2)


def rank_table(points: pd.DataFrame, latency: str = "latency_ms", min_family: int = 3) -> pd.DataFrame:
    """Per metric: Spearman's rho with latency and the log-log R², over all points and per family (families
    with at least ``min_family`` points; a ``family`` column where the points have one, else from the name)."""
    points = points.dropna(subset=[latency, *METRICS])
    if "family" not in points:
        points = points.assign(family=points["base"].map(family))
    groups = [("all", points)] + [(name, group) for name, group in points.groupby("family") if len(group) >= min_family]
    rows = []
    for name, group in groups:
        row: dict = {"family": name, "n": len(group)}
        for column, label in METRICS.items():
            row[f"rho_{label}"] = spearman(group[column], group[latency])
            row[f"r2_{label}"] = loglog_r2(group[column], group[latency])
        rows.append(row)
    return pd.DataFrame(rows)


def misrankings(points: pd.DataFrame, metric: str = "macs_g", latency: str = "latency_ms", top: int = 5) -> list[str]:
    """The pairs the metric ranks most wrongly: A costs less than B by the metric but runs slower, ordered by
    how wrong (cost ratio x slowdown); a sentence each."""
    rows = points.dropna(subset=[metric, latency]).to_dict("records")
    pairs = []
    for a in rows:
        for b in rows:
            if a[metric] < b[metric] and a[latency] > b[latency]:
                fewer, slower = b[metric] / a[metric], a[latency] / b[latency]
                pairs.append((fewer * slower, fewer, slower, a, b))
    pairs.sort(key=lambda p: -p[0])
    label = METRICS.get(metric, metric)
    return [
        f"{a['base']} has {fewer:.1f}x fewer {label} than {b['base']} but is {slower:.1f}x slower here "
        f"({a[latency]:.1f} vs {b[latency]:.1f} ms)"
        for _, fewer, slower, a, b in pairs[:top]
    ]


def rho_difference(
    points: pd.DataFrame, a: str, b: str, latency: str = "latency_ms", draws: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """Spearman's rho of metric ``a`` with latency minus that of ``b``, and its 95 % bootstrap interval
    (models resampled with replacement, percentile interval; both rhos on the same resample)."""
    from scipy.stats import rankdata

    points = points.dropna(subset=[a, b, latency]).reset_index(drop=True)
    observed = spearman(points[a], points[latency]) - spearman(points[b], points[latency])
    values = points[[a, b, latency]].to_numpy(float)
    rng = np.random.default_rng(seed)
    samples = values[rng.integers(0, len(values), (draws, len(values)))]  # draws x models x 3
    ranks = rankdata(samples, axis=1)  # average ranks for ties, per draw and column
    ranks -= ranks.mean(axis=1, keepdims=True)
    norms = np.sqrt((ranks**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (ranks[:, :, :2] * ranks[:, :, 2:]).sum(axis=1) / (norms[:, :2] * norms[:, 2:])
    low, high = np.nanpercentile(rho[:, 0] - rho[:, 1], [2.5, 97.5])
    return float(observed), float(low), float(high)


def suite_points(results: pd.DataFrame, suite: str, machine: str) -> pd.DataFrame:
    """One row per entry of ``suite`` timed on ``machine``: its family, method, counts, batch-1 median latency
    (``latency_ms``) and, where the suite swept throughput, the median time per image at the largest batch
    (``ms_per_image``, with that ``batch``)."""
    rows = results[(results["suite"] == suite) & (results["machine"] == machine)]
    latency = rows[rows["measurement"] == "latency"]
    latency = latency.drop_duplicates("entry", keep="last").set_index("entry")
    sweep = rows[rows["measurement"] == "throughput"]
    sweep = sweep.sort_values("batch_size").drop_duplicates("entry", keep="last").set_index("entry")
    out = []
    for entry, r in latency.iterrows():
        batch = sweep.loc[entry] if entry in sweep.index else None
        out.append(
            {
                "entry": entry,
                "base": r["base"],
                "family": r["family"],
                "method": r["method"],
                "params_m": r["params"] / 1e6,
                "macs_g": r["macs"] / 1e9,
                "activations_m": r["activations"] / 1e6,
                "latency_ms": r["latency_ms_p50"],
                "ms_per_image": None if batch is None else batch["latency_ms_p50"] / batch["batch_size"],
                "batch": None if batch is None else int(batch["batch_size"]),
            }
        )
    return pd.DataFrame(out)
