"""The report's first screen, as data: how the claims' verdicts add up, and this machine's pick at a few budgets.

The picks are ``bench pick``'s answer (bench.zoo.select.pick: the most accurate model within the budget that no other
within it beats in both top-1 and cost, ImageNet-1k-only weights, timm's published top-1) over the rows given.
MACs budgets are answered from exact counts (the shipped zoo counts, the same on every machine); latency
budgets only from rows timed on this machine: rows of another machine never answer for this one, and where
this machine has none the table says so and names the command that times them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pandas as pd

from bench.report import frames
from bench.report.stats import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED
from bench.report.tables import Table
from bench.zoo import select as zoo

MACS_BUDGETS_G = (0.5, 1.0, 4.0)
LATENCY_BUDGETS_MS = (10.0, 30.0, 100.0)
#: What a reader runs to time the zoo on their machine (the answer to a latency budget).
TIME_THE_ZOO = "python -m bench pick --latency-ms 30"
PICK_COLUMNS = [
    "budget",
    "answered from",
    "pick",
    "top-1 (%)",
    "G MACs",
    "ms here",
    "paper's B-model within it",
    "its top-1 (%)",
    "pick - paper (pt)",
]


@dataclass(frozen=True)
class Picks:
    """The picks table (its caption in full, for its files), the caption short enough for the first screen,
    and one line on the latency budgets where this machine has no timed rows ('' else)."""

    table: Table
    summary: str
    latency_note: str


def verdict_counts(claims: pd.DataFrame) -> str:
    """'15 claims: 3 reproduced, 5 not reproduced, 7 inconclusive'."""
    counts = Counter(claims["verdict"]) if not claims.empty else Counter()
    parts = [f"{counts[v]} {v}" for v in (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE)]
    return f"{len(claims)} claims: " + ", ".join(parts)


@dataclass(frozen=True)
class TimedHere:
    """This machine's timed zoo points, whose they are ('this machine (CPU [fingerprint])') and how they were
    timed ('cpu, 1 thread(s), batch 1'); empty points and labels where this machine has none."""

    points: pd.DataFrame
    machine: str = ""
    conditions: str = ""


def timed_here(results: pd.DataFrame, current: str | None) -> TimedHere:
    """This machine's timed zoo points, under the conditions it has most rows of."""
    rows = frames.rows_of(results, zoo.ZOO_SUITE, "latency")
    if current is not None and not rows.empty:
        rows = rows[frames.machine_ids(rows) == current]
    if current is None or rows.empty:
        return TimedHere(zoo.zoo_points(rows.iloc[0:0]))
    device, threads, batch = rows.groupby(["device", "threads", "batch_size"]).size().idxmax()
    points = zoo.zoo_points(results, machine=current, device=device, threads=threads, batch_size=batch)
    chosen = frames.timing_machine(rows, current)
    label = chosen.label if chosen else "this machine"
    return TimedHere(points, label, f"{device}, {int(threads)} thread(s), batch {int(batch)}")


def _row(budget: zoo.Budget, basis: str, points: pd.DataFrame) -> dict:
    chosen = zoo.pick(points, budget)
    paper = zoo.paper_model_within(points, budget)
    row = dict.fromkeys(PICK_COLUMNS, None)
    row.update({"budget": budget.describe(), "answered from": basis})
    if chosen.empty:
        row["pick"] = "none fits"
    else:
        best = chosen.iloc[0]
        noisy = budget.metric == "latency_ms" and bool(zoo.shaky(chosen.head(1)).iloc[0])
        row.update(
            {
                "pick": f"{best['base']}.{best['tag']}" + (" (noisy/contended)" if noisy else ""),
                "top-1 (%)": float(best["top1"]),
                "G MACs": float(best["macs_g"]),
                "ms here": float(best["latency_ms"]),
            }
        )
    if paper is None:
        row["paper's B-model within it"] = "none of B0-B7 fits"
    else:
        row.update({"paper's B-model within it": paper["base"], "its top-1 (%)": paper["top1"]})
        if not chosen.empty:
            row["pick - paper (pt)"] = round(float(chosen.iloc[0]["top1"]) - float(paper["top1"]), 2)
    return row


def budget_picks(results: pd.DataFrame, current: str | None, counts: pd.DataFrame | None = None) -> Picks:
    """This machine's pick at ``MACS_BUDGETS_G`` (from ``counts``: entry, model, input_size, params, macs,
    activations; default the shipped zoo counts) and at ``LATENCY_BUDGETS_MS`` (from this machine's timed rows
    of the zoo only)."""
    from bench.zoo.counts import counts_origin, shipped_counts

    counts = shipped_counts() if counts is None else counts
    counts = counts.assign(base=counts["model"].astype(str).str.split("@").str[0])
    here = timed_here(results, current)
    counted = zoo.counted_points(counts, here.points)
    rows = [_row(zoo.Budget(macs_g=g), "exact counts", counted) for g in MACS_BUDGETS_G]
    note = ""
    if here.points.empty:
        others = frames.rows_of(results, zoo.ZOO_SUITE, "latency")
        elsewhere = frames.timing_machine(others, None) if not others.empty else None
        note = (
            "Latency budgets: this machine has no timed zoo rows, so none is answered here"
            + (f" (the zoo section shows the rows {elsewhere.label}, not this machine's)" if elsewhere else "")
            + f"; {TIME_THE_ZOO} times them on this machine."
        )
    else:
        basis = "timed here"
        rows += [_row(zoo.Budget(latency_ms=ms), basis, here.points) for ms in LATENCY_BUDGETS_MS]
    timed = f"{here.machine}, {here.conditions}" if here.machine else "this machine"
    summary = (
        f"bench pick's answer among the {len(counted)} zoo models: the most accurate within the budget, "
        "ImageNet-1k-only weights, top-1 as timm publishes it (reported-timm). MACs budgets: exact counts, the same "
        f"on every machine. Latency budgets and 'ms here': only rows timed on {timed}; noisy/contended: CV above "
        "5% or timed while waiting for a core. Paper's B-model: the largest tf_efficientnet_b0-b7 within the "
        "budget, the paper's own weights."
    )
    caption = (
        f"{summary} A pick is a model no other within the budget beats in both top-1 and cost ({zoo.ZOO_SUITE}; "
        f"counts {counts_origin()}); bench pick --remeasure re-times noisy rows."
    )
    frame = pd.DataFrame(rows, columns=PICK_COLUMNS)
    return Picks(Table("picks", "This machine's pick at a few budgets", caption, frame), summary, note)
