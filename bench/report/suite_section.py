"""The report's section for a suite with no paper section of its own (a researcher's suite): a table of
its entries (counts, latency, accuracy with its source, the frontier) and figures over the same rows.

Which of *my* models is best for my budget: accuracy against MACs (and against latency where timed),
frontier drawn, when the rows have accuracy from any source; latency against MACs otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from bench.accuracy import MEASURED
from bench.report import frames
from bench.report.tables import Table
from bench.zoo.pareto import pareto_mask


@dataclass(frozen=True)
class SectionFigure:
    """A drawn figure, and where it has one the hover text of its points by gid (bench.report.hover)."""

    stem: str
    title: str
    caption: str
    figure: Figure
    hover: tuple[tuple[str, str], ...] = ()


@dataclass
class Parts:
    """What one part of the report adds: figures, tables, and lines saying what is missing and how to make it."""

    figures: list[SectionFigure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def add(self, other: Parts) -> None:
        self.figures += other.figures
        self.tables += other.tables
        self.missing += other.missing


@dataclass(frozen=True)
class SuiteSection:
    table: Table
    figures: tuple[SectionFigure, ...]


def _latency(results: pd.DataFrame, suite: str, current: str | None) -> tuple[pd.DataFrame, str]:
    """Each entry's median latency on one machine (this one where it has rows, else the one with the most,
    named) and its conditions."""
    timed = frames.rows_of(results, suite, "latency")
    chosen = frames.timing_machine(timed, current)
    if chosen is None:
        return pd.DataFrame(columns=["entry", "latency_ms", "latency_cv", "throughput_ips"]), ""
    others = timed["machine"].nunique() - 1
    timed = timed[frames.machine_ids(timed) == chosen.machine]
    r = timed.iloc[0]
    conditions = f"{r['device']}, batch {int(r['batch_size'])}, {int(r['threads'])} thread(s), {chosen.label}" + (
        f"; {others} other machine(s) not shown" if others else ""
    )
    frame = timed.rename(columns={"latency_ms_p50": "latency_ms"})[
        ["entry", "latency_ms", "latency_cv", "throughput_ips"]
    ]
    return frame.drop_duplicates("entry", keep="last"), conditions


def _accuracy(results: pd.DataFrame, suite: str) -> pd.DataFrame:
    """Each entry's top-1 with its source: measured (the suite's newest budget) or any other labelled source."""
    columns = ["entry", "top1", "top1_std", "n_seeds", "accuracy_source"]
    measured = frames.measured_accuracy(results, suite)
    rows = frames.rows_of(results, suite, "accuracy")
    other = rows[(rows["accuracy_source"] != MEASURED) & rows["top1"].notna()] if not rows.empty else rows
    parts = [p.reindex(columns=columns) for p in (measured, other) if not p.empty]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True).drop_duplicates("entry", keep="first")


def entry_frame(results: pd.DataFrame, suite: str, current: str | None = None) -> tuple[pd.DataFrame, str]:
    """One row per entry of ``suite``, cheapest in MACs first: what it is, what it costs, how fast and how
    accurate it is, and whether it is on the frontier: no other entry is cheaper in MACs and more accurate;
    without accuracy, none is faster and has more MACs (the most compute a latency budget buys)."""
    counted = frames.rows_of(results, suite, "complexity")
    if counted.empty:
        return pd.DataFrame(), ""
    frame = counted[["entry", "base", "method", "input_size", "params", "macs"]].drop_duplicates("entry", keep="last")
    frame = frame.assign(params_m=frame["params"] / 1e6, macs_m=frame["macs"] / 1e6).drop(columns=["params", "macs"])
    latency, conditions = _latency(results, suite, current)
    frame = frame.merge(latency, on="entry", how="left").merge(_accuracy(results, suite), on="entry", how="left")
    for column in ("latency_ms", "latency_cv", "throughput_ips", "top1", "top1_std", "n_seeds"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    if frame["top1"].notna().any():
        frame["frontier"] = pareto_mask(frame["macs_m"].tolist(), frame["top1"].tolist())
    elif frame["latency_ms"].notna().any():  # the most compute for the time: no other is faster with more MACs
        frame["frontier"] = pareto_mask(frame["latency_ms"].tolist(), frame["macs_m"].tolist())
    else:
        frame["frontier"] = False
    return frame.sort_values("macs_m", kind="stable").reset_index(drop=True), conditions


def _scatter(
    frame: pd.DataFrame,
    x: str,
    y: str,
    labels: tuple[str, str],
    title: str,
    mask: list[bool],
    many: int = 25,
    highlight_label: str = "highlighted",
) -> Figure:
    """``y`` against ``x`` (log x; log y for latency), the frontier entries (``mask``) joined by a line;
    every entry named, or past ``many`` points only the frontier's and those with ``highlight`` set
    (drawn in black)."""
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    keep = (frame[x].notna() & frame[y].notna()).tolist()
    points = frame[keep]
    error = points["top1_std"] if y == "top1" and points["top1_std"].notna().any() else None
    ax.errorbar(points[x], points[y], yerr=error, fmt="o", color="tab:red", capsize=2, ms=5)
    edge = points[[m for m, k in zip(mask, keep) if k]].sort_values(x)
    if len(edge) > 1:
        ax.plot(edge[x], edge[y], color="tab:red", lw=1, alpha=0.6, label="frontier")
        ax.legend(fontsize=7, loc="best")
    marked = points["highlight"].fillna(False).astype(bool) if "highlight" in points else pd.Series(False, points.index)
    if marked.any():
        ax.plot(points.loc[marked, x], points.loc[marked, y], "o", color="black", ms=5, label=highlight_label, zorder=5)
        ax.legend(fontsize=7, loc="best")
    on_edge = pd.Series([m for m, k in zip(mask, keep) if k], index=points.index)
    for index, row in zip(points.index, points.itertuples()):
        if len(points) <= many or on_edge[index] or marked[index]:
            ax.annotate(
                str(row.entry),
                (getattr(row, x), getattr(row, y)),
                fontsize=7,
                xytext=(3, 3),
                textcoords="offset points",
            )
    ax.set_xscale("log")
    if y == "latency_ms":
        ax.set_yscale("log")
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return fig


def suite_section(results: pd.DataFrame, suite: str, current: str | None = None) -> SuiteSection | None:
    """The section of ``suite``, or None when it has no rows (``current``: this machine's fingerprint)."""
    frame, conditions = entry_frame(results, suite, current)
    if frame.empty:
        return None
    sources = ", ".join(sorted(frame["accuracy_source"].dropna().unique())) or "none"
    has_accuracy, has_latency = frame["top1"].notna().any(), frame["latency_ms"].notna().any()
    table = Table(
        f"suite_{suite}",
        f"Suite {suite}: every entry",
        "Params and MACs counted here (exact); latency"
        + (f" ({conditions})" if conditions else " (not timed)")
        + f"; top-1 with its source ({sources}). frontier: "
        + (
            "no other entry is both cheaper in MACs and more accurate."
            if has_accuracy
            else "no other entry is both faster and larger in MACs (the most compute for the time)."
        ),
        frame,
    )
    macs, latency, top1 = (
        ("macs_m", "MACs (millions), log scale"),
        ("latency_ms", "median latency (ms), log scale"),
        (
            "top1",
            "top-1 (%)",
        ),
    )
    drawn = []
    if has_accuracy:
        drawn.append(
            SectionFigure(
                f"suite_{suite}_accuracy_vs_macs",
                f"Suite {suite}: top-1 against MACs",
                f"Top-1 ({sources}; bars: std over seeds where there are several) against MACs counted here; "
                "the line joins the frontier.",
                scatter_figure(frame, macs, top1, suite, pareto_mask(frame["macs_m"].tolist(), frame["top1"].tolist())),
            )
        )
    if has_accuracy and has_latency:
        drawn.append(
            SectionFigure(
                f"suite_{suite}_accuracy_vs_latency",
                f"Suite {suite}: top-1 against latency",
                f"Top-1 ({sources}) against median latency ({conditions}); the line joins the "
                "entries no other is both faster and more accurate than.",
                scatter_figure(
                    frame, latency, top1, suite, pareto_mask(frame["latency_ms"].tolist(), frame["top1"].tolist())
                ),
            )
        )
    if has_latency and not has_accuracy:
        drawn.append(
            SectionFigure(
                f"suite_{suite}_latency_vs_macs",
                f"Suite {suite}: latency against MACs",
                f"Median latency ({conditions}) against MACs counted here; the line joins the "
                "entries no other is both faster and larger than.",
                scatter_figure(frame, macs, latency, suite, frame["frontier"].tolist()),
            )
        )
    return SuiteSection(table, tuple(drawn))


def scatter_figure(
    frame: pd.DataFrame,
    x: tuple[str, str],
    y: tuple[str, str],
    title: str,
    mask: list[bool],
    highlight_label: str = "highlighted",
) -> Figure:
    return _scatter(frame, x[0], y[0], (x[1], y[1]), title, mask, highlight_label=highlight_label)
