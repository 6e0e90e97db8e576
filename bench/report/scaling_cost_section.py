"""The report's sections on cost and runtime of *scaled* networks: which cost metric predicts the runtime of
EfficientNet/ResNet/MobileNet variants (suite ``scaled_cost_cpu``), and hardware-aware compound scaling
(``bench scale``: suites ``hw_scaling_xR`` and ``hw_scaling_xR_compare``). Pure functions over a results
table; each section is empty where its rows are missing."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from bench.report import frames
from bench.report.suite_section import SectionFigure
from bench.report.tables import Table
from bench.scaling.hardware import comparison_table, grid_table
from bench.zoo import predictors

SCALED_SUITE = "scaled_cost_cpu"
_HW_SUITE = re.compile(r"^hw_scaling_x(?P<ratio>[0-9.]+)$")


def _where(rows: pd.DataFrame, chosen: frames.Timings) -> str:
    r = rows.iloc[0]
    return f"{r['device']}, {int(r['threads'])} thread(s), {chosen.label}"


def scaled_cost_section(results: pd.DataFrame, current: str | None = None) -> tuple[list[Table], list[SectionFigure]]:
    """Rank agreement of params, MACs and activations with batch-1 latency and with batch-8 time per image
    over the scaled variants, per family and overall, and the worst MAC mis-rankings (this machine's rows
    where it has them, else the machine with the most, named)."""
    rows = results[(results["suite"] == SCALED_SUITE) & (results["measurement"] == "latency")]
    chosen = frames.timing_machine(rows, current)
    if chosen is None:
        return [], []
    machine = chosen.machine
    points = predictors.suite_points(results, SCALED_SUITE, machine)
    where = _where(rows[frames.machine_ids(rows) == machine], chosen)
    tables = [
        Table(
            "cost_predictors_scaled",
            "Which cost predicts runtime of scaled networks (batch 1)?",
            f"Over {len(points)} EfficientNet-B0, ResNet-18/50 and MobileNetV1/V2 variants scaled by width, depth, "
            f"resolution and compound phi (suite {SCALED_SUITE}): Spearman's rho of each counted cost with median "
            f"batch-1 latency ({where}) and the R² of a log-log fit, overall and per family.",
            predictors.rank_table(points),
        )
    ]
    batched = points.dropna(subset=["ms_per_image"])
    if not batched.empty:
        batch = int(batched["batch"].max())
        tables.append(
            Table(
                "cost_predictors_scaled_batch",
                f"Which cost predicts runtime of scaled networks (batch {batch})?",
                f"As above, against the median time per image at batch {batch} (same thread, same machine).",
                predictors.rank_table(batched, latency="ms_per_image"),
            )
        )
    worst = predictors.misrankings(points.assign(base=points["entry"]), "macs_g")
    tables.append(
        Table(
            "cost_misrankings_scaled",
            "Where MACs mis-rank the runtime of scaled networks most",
            "Pairs of variants ordered by cost ratio x slowdown (batch 1).",
            pd.DataFrame({"MACs mis-rank runtime": worst}),
        )
    )
    return tables, [_cost_figure(points, where)]


def _cost_figure(points: pd.DataFrame, where: str) -> SectionFigure:
    figure, axes = plt.subplots(1, 3, figsize=(13, 4.2), sharey=True)
    for ax, (column, label) in zip(axes, predictors.METRICS.items(), strict=True):
        for name, group in points.groupby("family"):
            ax.scatter(group[column], group["latency_ms"], s=18, label=name)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(f"{label} (counted; log)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("median latency, batch 1 (ms; log)")
    axes[0].legend(fontsize=8)
    figure.tight_layout()
    return SectionFigure(
        "scaled_cost_vs_latency",
        "New: params, MACs and activations against measured latency, scaled networks",
        f"Each point a scaled variant of suite {SCALED_SUITE}; latency ({where}).",
        figure,
    )


def hw_scaling_section(results: pd.DataFrame, current: str | None = None) -> tuple[list[Table], list[SectionFigure]]:
    """For each ``bench scale --latency-ratio R`` stored: the grid (gamma solved per alpha, beta) and the
    interleaved comparison of the paper's FLOPs-derived networks with the latency-derived ones."""
    tables: list[Table] = []
    figures: list[SectionFigure] = []
    for suite in sorted(s for s in results["suite"].dropna().unique() if _HW_SUITE.match(str(s))):
        ratio = float(_HW_SUITE.match(suite)["ratio"])  # type: ignore[index]
        rows = results[(results["suite"] == suite) & (results["measurement"] == "latency")]
        chosen = frames.timing_machine(rows, current)
        if chosen is None:
            continue
        machine = chosen.machine
        rows = rows[frames.machine_ids(rows) == machine]
        where = _where(rows, chosen)
        grid = grid_table(rows, ratio)
        tables.append(
            Table(
                f"{suite}_grid",
                f"Hardware-aware scaling: gamma solved for {ratio:g}x latency per phi",
                f"For each (alpha, beta), the phi = 1 network whose latency, timed ({where}) interleaved with "
                f"B0, came closest to {ratio:g}x B0; macs_growth = alpha beta² gamma² (the paper's 1.2, 1.1, 1.15: "
                "1.92); angle_deg = angle to the paper's direction. No accuracy is measured for these networks.",
                grid,
            )
        )
        compare = results[results["suite"] == f"{suite}_compare"]
        compare = compare[frames.machine_ids(compare) == machine]
        table = comparison_table(compare[compare["measurement"] == "latency"])
        if table.empty:
            continue
        tables.append(
            Table(
                f"{suite}_compare",
                f"FLOPs-derived against latency-derived compound scaling ({ratio:g}x per phi)",
                "flops = the paper's alpha, beta, gamma at phi (B1-B3-like); latency = the coefficients bench scale "
                f"chose from the grid. All timed ({where}) in interleaved rounds with B0; latency_x and macs_x "
                "are multiples of B0's.",
                table,
            )
        )
        figures.append(_hw_figure(table, ratio, suite, where, chosen.label))
    return tables, figures


def _hw_figure(table: pd.DataFrame, ratio: float, suite: str, where: str, label: str) -> SectionFigure:
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    phis = sorted(table["phi"].unique())
    for path, group in table.groupby("path"):
        axes[0].plot(group["phi"], group["latency_x"], marker="o", label=f"{path}-derived")
        axes[1].plot(group["phi"], group["macs_x"], marker="o", label=f"{path}-derived")
    axes[0].plot(phis, [ratio**p for p in phis], "k--", lw=1, label=f"{ratio:g}^phi")
    axes[1].plot(phis, [2.0**p for p in phis], "k--", lw=1, label="2^phi")
    for ax, label in zip(axes, ("latency, x B0 (measured)", "MACs, x B0 (counted)"), strict=True):
        ax.set_yscale("log", base=2)
        ax.set_xlabel("phi")
        ax.set_ylabel(label)
        ax.set_xticks(phis)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    figure.tight_layout()
    return SectionFigure(
        f"{suite}_paths",
        f"New: compound scaling derived from FLOPs against from latency, {label} ({ratio:g}x per phi)",
        f"Left: measured latency as a multiple of B0's, timed interleaved ({where}); right: counted MACs.",
        figure,
    )
