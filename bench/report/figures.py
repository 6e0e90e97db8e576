"""The report's figures (matplotlib, Agg). Each function takes tidy frames and returns a Figure.

Marker fill shows the accuracy's source: filled = measured here, hollow = reported by the
paper. A figure never mixes sources without saying so in its legend.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from bench.report.stats import Sample
from bench.zoo.pareto import frontier, pareto_mask

COLOURS = {
    "EfficientNet": "tab:red",
    "Comparison": "tab:blue",
    "width": "tab:blue",
    "depth": "tab:green",
    "resolution": "tab:orange",
    "compound": "tab:red",
    "baseline": "black",
}


def table2_points(comparison: pd.DataFrame) -> pd.DataFrame:
    """Fig. 1/5 points from the Table 2 comparison: our counts where we have them, else the paper's."""
    points = comparison.copy()
    points["family"] = points["model"].map(lambda m: "EfficientNet" if m.startswith("EfficientNet") else "Comparison")
    points["params_m"] = points["params_m_ours"].fillna(points["params_m_paper"])
    points["macs_b"] = points["macs_b_ours"].fillna(points["macs_b_paper"])
    points["x_source"] = points["macs_b_ours"].map(lambda v: "paper" if v != v else "counted")
    points["label"] = points["model"].str.replace("EfficientNet-", "", regex=False)
    return points[points["top1_reported"].notna()]


def _frontier_and_names(ax, group: pd.DataFrame, x: str, colour: str) -> None:
    """The family's Pareto frontier of reported top-1 against ``x`` as a step line, and each model's name."""
    edge = frontier(group[x].tolist(), group["top1_reported"].tolist())
    if len(edge) > 1:
        ax.plot(*zip(*edge), color=colour, lw=1, alpha=0.6, drawstyle="steps-post")
    for row in group.itertuples():
        ax.annotate(
            row.label, (getattr(row, x), row.top1_reported), fontsize=7, xytext=(3, 3), textcoords="offset points"
        )


def _reported_axes(ax, xlabel: str, title: str) -> None:
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("ImageNet top-1 (%), reported by the paper")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="lower right", title="lines: Pareto frontier per family", title_fontsize=7)


def accuracy_vs_cost(points: pd.DataFrame, x: str, xlabel: str, title: str) -> Figure:
    """Reported top-1 against a cost column, log-x, one Pareto frontier per family, names annotated."""
    fig, ax = plt.subplots(figsize=(8, 5.5), layout="constrained")
    for family, group in points.groupby("family"):
        colour = COLOURS[family]
        for source, marker in (("counted", "o"), ("paper", "s")):
            part = group[group["x_source"] == source]
            if not part.empty:
                ax.scatter(
                    part[x],
                    part["top1_reported"],
                    s=42,
                    marker=marker,
                    facecolors="none",
                    edgecolors=colour,
                    label=f"{family}: top-1 reported, x {'counted here' if source == 'counted' else 'from the paper'}",
                )
        _frontier_and_names(ax, group, x, colour)
    _reported_axes(ax, xlabel, title)
    return fig


MACHINE_MARKERS = ("o", "^", "D", "v", "P", "X")


def accuracy_vs_latency(points: pd.DataFrame, conditions: str) -> Figure:
    """Reported top-1 against measured latency (``latency_ms`` column); each machine (its ``machine_label``:
    "this machine (...)" or "measured on ...") is a series of its own, by marker."""
    fig, ax = plt.subplots(figsize=(8, 5.5), layout="constrained")
    labels = points["machine_label"] if "machine_label" in points else pd.Series("unlabelled", index=points.index)
    several = labels.nunique() > 1
    for machine, marker in zip(labels.unique(), itertools.cycle(MACHINE_MARKERS)):  # every machine drawn
        for family, group in points[labels == machine].groupby("family"):
            colour = COLOURS[family]
            where = machine
            ax.scatter(
                group["latency_ms"],
                group["top1_reported"],
                s=42,
                marker=marker,
                facecolors="none",
                edgecolors=colour,
                label=f"{family}: top-1 reported, {where}",
            )
            _frontier_and_names(ax, group, "latency_ms", colour)
    title = "Accuracy vs measured CPU latency" + (" on several machines" if several else f", {labels.iloc[0]}")
    _reported_axes(ax, f"median latency (ms), {conditions}", title)
    return fig


#: How every measured proxy point and its error bar read: said once in the legend's title or the caption,
#: never in an axis label (a label reads as the quantity on the axis).
ERROR_BARS = "points: mean over seeds; bars: its 95% CI (Student's t)"
Y_MEASURED = "proxy top-1 (%), measured"


def ci95(rows: pd.DataFrame) -> pd.Series:
    """The 95% confidence half-width of each row's mean top-1 over its seeds (0 where unknown)."""
    return pd.Series(
        [Sample(r["top1"], r["top1_std"], int(r["n_seeds"])).ci_half_width() for r in rows.to_dict("records")],
        index=rows.index,
        dtype=float,
    ).fillna(0.0)


def accuracy_vs_throughput(points: pd.DataFrame, conditions: str) -> Figure:
    """Reported top-1 against measured images/s (log-x; more is better), the Pareto frontier of the fastest
    model at each accuracy, each model named."""
    fig, ax = plt.subplots(figsize=(8, 5.5), layout="constrained")
    points = points[points["top1_reported"].notna()].sort_values("throughput_ips")
    family = points["model"].map(lambda m: "EfficientNet" if str(m).startswith("efficientnet") else "Comparison")
    for name, group in points.groupby(family):
        ax.scatter(
            group["throughput_ips"],
            group["top1_reported"],
            s=42,
            facecolors="none",
            edgecolors=COLOURS[name],
            label=f"{name}: top-1 reported, images/s measured",
        )
    keep = pareto_mask((-points["throughput_ips"]).tolist(), points["top1_reported"].tolist())
    edge = points[keep]
    if len(edge) > 1:
        ax.plot(edge["throughput_ips"], edge["top1_reported"], color="grey", lw=1, alpha=0.7, drawstyle="steps-pre")
    for row in points.itertuples():
        ax.annotate(
            row.entry.replace("efficientnet_", ""),
            (row.throughput_ips, row.top1_reported),
            fontsize=7,
            xytext=(3, 3),
            textcoords="offset points",
        )
    ax.set_xscale("log")
    ax.set_xlabel(f"images/s, best batch of the sweep ({conditions})")
    ax.set_ylabel("ImageNet top-1 (%), reported by the paper")
    ax.set_title(f"Accuracy vs measured GPU throughput ({conditions.rsplit(', ', 1)[-1]})")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="lower left", title="line: Pareto frontier (faster or more accurate)", title_fontsize=7)
    return fig


def _errorbars(
    ax, rows: pd.DataFrame, colour: str, label: str, line: bool = True, x: str = "macs", scale: float = 1e6
) -> None:
    """Points with 95% CI bars; upsampled inputs (larger than the images' own size) get a hollow ring."""
    rows = rows.sort_values(x)
    ax.errorbar(
        rows[x] / scale,
        rows["top1"],
        yerr=ci95(rows),
        color=colour,
        marker="o",
        ms=5,
        capsize=3,
        lw=1 if line else 0,
        elinewidth=1,
        label=label,
    )
    up = (
        rows[rows["upsampled"].map(lambda v: str(v) in ("True", "1", "1.0"))] if "upsampled" in rows else rows.iloc[0:0]
    )
    if not up.empty:
        ax.scatter(
            up[x] / scale,
            up["top1"],
            s=110,
            facecolors="none",
            edgecolors=colour,
            linewidths=1,
            label=f"{label.split(' (')[0]}: upsampled input (no new detail)",
        )


def single_dimension_panels(rows: pd.DataFrame, budget: str) -> Figure:
    """Fig. 3 analogue: proxy top-1 vs MACs for width, depth and resolution scaling, one panel each."""
    fig, axes = plt.subplots(1, 3, figsize=(12, 4), sharey=True, layout="constrained")
    base = rows[rows["method"] == "baseline"]
    for ax, method in zip(axes, ("width", "depth", "resolution")):
        curve = pd.concat([base, rows[rows["method"] == method]]).drop_duplicates("entry")
        _errorbars(ax, curve, COLOURS[method], f"{method} only (measured)")
        for row in curve.itertuples():
            ax.annotate(
                f"{int(row.input_size)} px" if method == "resolution" else f"{method[0]}={getattr(row, method):g}",
                (row.macs / 1e6, row.top1),
                fontsize=7,
                xytext=(3, -10),
                textcoords="offset points",
            )
        _log_millions(ax)
        ax.set_xlabel("MACs (millions) at the proxy resolution")
        ax.set_title(f"B0 scaled by {method}")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7, loc="lower right")
    axes[0].set_ylabel(Y_MEASURED)
    fig.suptitle(f"Single-dimension scaling on the proxy task ({ERROR_BARS}). {budget}", fontsize=8)
    return fig


def _log_millions(ax) -> None:
    """A log x axis labelled in plain numbers at 1, 1.5, 2, 3, 5, 7 x 10^k, other ticks unlabelled:
    matplotlib's own labels crowd (1.25x10^1, ...) or vanish on a range shorter than a decade."""
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1, 1.5, 2, 3, 5, 7)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _methods(ax, rows: pd.DataFrame, short: tuple[str, str] = ("efficientnet_b0", "b0")) -> None:
    """Each scaling method's rows as error bars on ``ax`` (log MACs), every point named."""
    for method in ("baseline", "width", "depth", "resolution", "compound"):
        group = rows[rows["method"] == method]
        if not group.empty:
            _errorbars(ax, group, COLOURS[method], f"{method} (measured)", line=len(group) > 1)
            for row in group.itertuples():
                ax.annotate(
                    row.entry.replace(*short),
                    (row.macs / 1e6, row.top1),
                    fontsize=6,
                    xytext=(3, 3),
                    textcoords="offset points",
                )
    _log_millions(ax)
    ax.set_xlabel("MACs (millions) at the proxy resolution")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="best", title=ERROR_BARS, title_fontsize=7)


def compound_vs_single(rows: pd.DataFrame) -> Figure:
    """Fig. 8 analogue: proxy top-1 vs MACs for each scaling method of B0."""
    fig, ax = plt.subplots(figsize=(8, 5.5), layout="constrained")
    _methods(ax, rows)
    ax.set_ylabel(Y_MEASURED)
    ax.set_title("Scaling B0 four ways on the proxy task")
    return fig


def networks_compound_vs_single(rows: pd.DataFrame) -> Figure:
    """Table 3 analogue: one panel per base network, proxy top-1 vs MACs for each scaling method."""
    bases = sorted(rows["base"].dropna().unique())
    fig, axes = plt.subplots(1, len(bases), figsize=(4.5 * len(bases), 4.5), layout="constrained", squeeze=False)
    for ax, base in zip(axes[0], bases):
        _methods(ax, rows[rows["base"] == base], short=(f"{base}-", ""))
        methods = [m for m in ("width", "depth", "resolution") if (rows[rows["base"] == base]["method"] == m).any()]
        ax.set_title(f"{base}: compound vs {', '.join(methods) or 'no single dimension'}", fontsize=9)
    axes[0][0].set_ylabel(Y_MEASURED)
    return fig


def grid_search(rows: pd.DataFrame, paper_entry: str) -> Figure:
    """The phi = 1 grid: proxy top-1 against the input size (gamma), one line per depth coefficient (alpha),
    each point labelled with the width (beta) that brings it to the target MACs; the paper's point
    (entry ``paper_entry``, which costs less than 2x) starred on its own. Every point is drawn, however many
    depths and sizes the grid has."""
    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    grid = rows[rows["entry"] != paper_entry]
    star = "tab:red"
    colours = itertools.cycle(
        ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink", "tab:gray", "tab:olive")
    )  # not the star's red
    offsets = itertools.cycle(((4, -9), (4, 4)))  # labels below / above, alternating by depth
    for (depth, group), colour, offset in zip(grid.groupby("depth"), colours, offsets):
        group = group.sort_values("input_size")
        ax.errorbar(
            group["input_size"],
            group["top1"],
            yerr=ci95(group),
            color=colour,
            marker="o",
            capsize=3,
            lw=1,
            label=f"d={depth:g} (measured)",
        )
        for row in group.itertuples():
            ax.annotate(
                f"w={row.width:g}",
                (row.input_size, row.top1),
                fontsize=6,
                xytext=offset,
                textcoords="offset points",
                color=colour,
            )
    for row in rows[rows["entry"] == paper_entry].itertuples():
        ax.errorbar(
            [row.input_size],
            [row.top1],
            yerr=ci95(rows[rows["entry"] == paper_entry]).tolist(),
            color=star,
            marker="*",
            ms=12,
            capsize=3,
            lw=0,
            elinewidth=1,
            label=f"paper's d={row.depth:g} w={row.width:g}, {int(row.input_size)} px, "
            f"{row.macs / 1e6:.1f}M MACs (measured)",
        )
    ax.set_xlabel("input size (px): gamma x the base size (width beta chosen so that MACs = 2x B0)")
    ax.set_ylabel(Y_MEASURED)
    ax.set_title("Splitting 2x B0's MACs between depth, width and resolution (phi = 1)")
    ax.margins(x=0.08)  # room for the last point's label
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best", title=ERROR_BARS, title_fontsize=7)
    return fig


def learning_curve(rows: pd.DataFrame) -> Figure:
    """Proxy top-1 against training epochs (log2 axis), one line per entry: where doubling stops paying."""
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    spare = iter(("tab:purple", "tab:brown", "tab:pink", "tab:olive"))
    for entry, group in rows.groupby("entry", sort=False):
        colour = COLOURS.get(str(group["method"].iloc[0])) or next(spare, "grey")
        _errorbars(ax, group, colour, f"{entry} (measured)", x="epochs", scale=1)
        for row in group.itertuples():
            ax.annotate(
                f"{row.top1:.2f}",
                (row.epochs, row.top1),
                fontsize=7,
                xytext=(3, -10),
                textcoords="offset points",
                color=colour,
            )
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.set_xlabel("training epochs (each its own run, cosine schedule)")
    ax.set_ylabel("proxy top-1 (%), measured")
    ax.set_title("Learning curve: top-1 at E and 2E epochs")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="lower right")
    return fig


def probe(rows: pd.DataFrame) -> Figure:
    """Proxy v2 probe: validation top-1 against input size, a line per total stride, each point's MACs named."""
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    for (stride, group), colour in zip(rows.groupby("total_stride", sort=True), itertools.cycle(("tab:blue", "black"))):
        group = group.sort_values("input_size")
        ax.plot(group["input_size"], group["val_top1"], marker="o", color=colour, label=f"total stride {int(stride)}")
        for row in group.itertuples():
            ax.annotate(
                f"{row.macs / 1e6:.1f}M",
                (row.input_size, row.val_top1),
                fontsize=7,
                xytext=(3, -10),
                textcoords="offset points",
                color=colour,
            )
    ax.set_xlabel("input size (px; Fashion-MNIST's own images are 28 px)")
    ax.set_ylabel("validation top-1 (%), measured")
    ax.set_title("B0 at its input sizes (one seed; two at 14 px, stride 8)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    return fig


def save(fig: Figure, stem: Path) -> None:
    """Write ``stem``.png and ``stem``.svg, then close the figure."""
    for suffix in (".png", ".svg"):
        fig.savefig(stem.with_suffix(suffix), dpi=130 if suffix == ".png" else None)
    plt.close(fig)
