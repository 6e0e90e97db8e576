"""The report's tables: paper vs ours (Tables 2, 3, 7), latency ratios (Table 4), proxy
accuracy, pretrained evaluation, claims and conditions. Pure functions over frames."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bench.reference import paper_claims, paper_rows
from bench.report import frames
from bench.report.stats import Sample
from bench.shipped import MEASURED

#: Table 4 of the paper: (faster model, slower model, paper's speed-up).
#: Table 4's pairs: (fast timm model, slow timm model or None where timm lacks it, the paper's stated
#: ratio, the slow model's name), from bench/reference/paper_claims.csv (claims 8 and 11).
TABLE4_PAIRS = tuple(
    (
        paper_rows()[paper_claims()[c]["small"]]["timm_name"],
        paper_rows()[paper_claims()[c]["big"]]["timm_name"] or None,
        float(paper_claims()[c]["latency_ratio"]),
        paper_rows()[paper_claims()[c]["big"]]["model"],
    )
    for c in ("8", "11")
)


@dataclass(frozen=True)
class Table:
    """A titled table with a caption that says where its numbers come from."""

    name: str
    title: str
    caption: str
    frame: pd.DataFrame


def _pct(value: float) -> str:
    return "" if value != value else f"{value:+.1%}"


def comparison_table(results: pd.DataFrame, table: str, suite: str, title: str) -> Table:
    frame = frames.paper_comparison(results, table, suite)
    counted = frame["macs_b_ours"].notna().sum()
    caption = (
        f"Paper ({table.replace('table', 'Table ')}) against our exact counts from suite '{suite}' "
        f"({counted} of {len(frame)} models counted; blank: not buildable in timm). MACs = multiply-adds, "
        f"the paper's 'FLOPS'; FLOPs = 2 x MACs. Top-1 is the paper's (source: reported)."
    )
    shown = frame.assign(params_delta=frame["params_delta"].map(_pct), macs_delta=frame["macs_delta"].map(_pct))
    return Table(table, title, caption, shown.round({"params_m_ours": 2, "macs_b_ours": 3}))


def latency_ratio_table(results: pd.DataFrame, suite: str = "paper_table4", *, current: str | None = None) -> Table:
    """Measured batch-1 CPU latency ratios next to the paper's (Table 4), from one machine: this one where it
    has rows (``current``), else the one with the most, named."""
    rows = frames.latency(results, suite)
    chosen = frames.timing_machine(rows, current)
    rows = frames.latency(results, suite, chosen.machine) if chosen else rows
    by_model = {r["model"]: r for r in rows.to_dict("records")}
    out = []
    for fast, slow, paper_ratio, paper_slow in TABLE4_PAIRS:
        if slow is None:  # GPipe is not in timm: the largest comparison model we timed stands in
            stand_in = frames.gpipe_stand_in(rows)
            slow = stand_in["model"] if stand_in else None
        a, b = by_model.get(fast), by_model.get(slow)
        ratio = b["latency_ms_p50"] / a["latency_ms_p50"] if a and b else float("nan")
        out.append(
            {
                "faster": fast,
                "slower": slow or "(not timed)",
                "paper_slower": paper_slow,
                "faster_ms": a["latency_ms_p50"] if a else np.nan,
                "slower_ms": b["latency_ms_p50"] if b else np.nan,
                "speedup_ours": round(ratio, 2) if ratio == ratio else np.nan,
                "speedup_paper": paper_ratio,
            }
        )
    conditions = ""
    if not rows.empty and chosen is not None:
        r = rows.iloc[0]
        conditions = f" Timed on {chosen.label}, {int(r['threads'])} thread(s), batch {int(r['batch_size'])}."
    caption = (
        "Median batch-1 CPU latency, ours vs the paper's speed-up (Table 4). GPipe is not in timm; the "
        "largest comparison model we timed stands in for it, so that row is not the paper's comparison." + conditions
    )
    return Table("table4", "Table 4 analogue: CPU latency", caption, pd.DataFrame(out))


def proxy_table(results: pd.DataFrame, suite: str, title: str, *, curve: bool = False) -> Table:
    """A proxy suite's rows: the model, its geometry and MACs, validation and test top-1, its final training
    loss (flagged where above its unscaled network's: an optimisation failure, not a scaling result) and
    the cost of training it (images/s per run, seconds per seed run). ``curve``: a row per epoch count."""
    from bench.report.proxy_v2 import FLAG, flagged

    rows = frames.measured_accuracy(results, suite, curve=curve)
    if rows.empty:
        caption = f"No measured rows yet. Produce them with: python -m bench run suites/{suite}.yaml"
        return Table(suite, title, caption, rows)
    columns = ["entry", "base", "method", "width", "depth", "input_size", "total_stride", "upsampled", "macs"]
    columns += ["epochs"] if curve else []
    columns += ["val_top1", "top1", "top1_std", "n_seeds", "train_loss", "train_images_per_s", "match_of"]
    shown = rows[columns].copy()
    if rows["reused_from"].notna().any():  # trained once, for another suite
        shown["reused_from"] = rows["reused_from"]
    shown.insert(
        shown.columns.get_loc("top1_std") + 1,
        "top1_ci95",
        [Sample(r["top1"], r["top1_std"], int(r["n_seeds"])).ci_half_width() for r in rows.to_dict("records")],
    )
    shown.insert(
        shown.columns.get_loc("train_images_per_s") + 1, "train_s_per_seed", rows["train_seconds"] / rows["n_seeds"]
    )
    baselines = {r["base"]: r for r in rows[rows["method"] == "baseline"].to_dict("records")}
    shown["flag"] = [
        FLAG if r["method"] != "baseline" and flagged(r, baselines.get(r["base"])) else ""
        for r in rows.to_dict("records")
    ]
    for column in ("val_top1", "train_loss"):
        if shown[column].isna().all():
            shown = shown.drop(columns=column)
    shown["macs"] = (shown["macs"] / 1e6).round(2)
    shown = (
        shown.rename(columns={"macs": "macs_m", "top1": "test_top1", "top1_std": "test_top1_std"})
        .sort_values(["base", "macs_m", *(["epochs"] if curve else [])], kind="stable")
        .drop(columns="base")
        .round({"val_top1": 2, "test_top1": 2, "test_top1_std": 2, "top1_ci95": 2, "train_loss": 3})
        .round({"train_images_per_s": 0, "train_s_per_seed": 0})
    )
    caption = (
        f"Top-1 (%) trained from scratch here (source: measured): validation (where the budget holds images out) "
        f"and test mean, std and 95% CI half-width (t) over seeds; train_loss = the mean final training loss (flag: "
        f"above the unscaled network's, an optimisation failure, not a scaling result); training speed (images/s "
        f"per run) and seconds per seed run, each the mean over the row's seed runs as each was timed, slower where "
        f"other work ran beside it (equal MACs is not equal training time); 'upsampled' marks inputs larger than the "
        f"images' own size (no new detail); 'reused_from', where shown, names the suite/entry whose training (same "
        f"network, budget, seeds) a row copies. Budget: {frames.budget_summary(rows['budget'].iloc[0])}. "
        f"Proxy-task accuracy is not ImageNet accuracy."
    )
    return Table(suite, title, caption, shown.reset_index(drop=True))


def v2_decisions_table(results: pd.DataFrame) -> Table:
    """What the v2 protocol's rules decide from the rows (probe, augmentation, epochs, grid leaders)."""
    from bench.report.proxy_v2 import PROTOCOL, decisions

    caption = (
        f"Every choice of the v2 proxy, made on the validation split by the rule its protocol fixed before the "
        f"first v2 run ({PROTOCOL}); 'pending' until its rows exist. The suites that follow a decision were "
        f"written from it."
    )
    return Table("proxy_v2_decisions", "Proxy v2: protocol decisions", caption, decisions(results))


#: Tab-separated (the report reads every .csv of reports/measured/ as a results store).
DEVIATIONS = MEASURED / "proxy_v2_deviations.tsv"


def deviations_table(path: Path = DEVIATIONS) -> Table:
    """Every deviation of the v2 runs from their protocol, as recorded beside it (reports/measured/)."""
    frame = pd.read_csv(path, sep="\t") if path.is_file() else pd.DataFrame(columns=["part", "deviation", "reason"])
    caption = (
        "Where the v2 runs depart from the protocol (reports/measured/proxy_v2_protocol.md), and why "
        f"({len(frame)} so far)."
    )
    if frame.empty:  # a table that says so, not a missing one
        frame = pd.DataFrame([{"part": "all", "deviation": "none so far", "reason": ""}])
    return Table("proxy_v2_deviations", "Proxy v2: deviations from the protocol", caption, frame)


def learning_curve_table(results: pd.DataFrame) -> Table:
    """Top-1 at E and 2E epochs per entry, and the budget the rule picks."""
    curve = frames.learning_curve(results)
    name, title = "learning_curve", "Proxy budget: the learning curve"
    if curve.empty:
        return Table(
            name,
            title,
            f"No rows yet. Produce them with: python -m bench run suites/{frames.LEARNING_CURVE_SUITE}.yaml",
            curve,
        )
    gains = frames.doubling_gains(curve).round({"top1": 2, "top1_doubled": 2, "gain": 2})
    chosen = frames.chosen_epochs(curve)
    verdict = (
        f"the smallest E at which doubling gains at most {frames.CONVERGED_GAIN:g} points for every entry is {chosen}"
        if chosen
        else f"no E measured here gains {frames.CONVERGED_GAIN:g} points or less for every entry"
    )
    caption = (
        f"One seed per point (source: measured), each epoch count its own run. Rule: {verdict}. Budget: "
        f"{frames.curve_budget(curve)}."
    )
    return Table(name, title, caption, gains)


def pretrained_table(results: pd.DataFrame) -> Table:
    rows = frames.pretrained(results)
    caption = "Checkpoints evaluated here on an image folder (source: pretrained-eval). " + (
        "None yet: python -m bench eval tf_efficientnet_lite0 FOLDER --checkpoint lite0"
        if rows.empty
        else "A handful of photographs is a smoke check of the weights, not an ImageNet accuracy."
    )
    return Table("pretrained", "Pretrained evaluation", caption, rows)


def conditions_table(results: pd.DataFrame, environment: dict) -> Table:
    """Machine, versions, threads, date and commit: of this report, and of the stored rows."""
    items = [
        ("report generated", environment.get("timestamp")),
        ("git commit", environment.get("git_commit")),
        ("cpu", environment.get("cpu")),
        ("cpu count", environment.get("cpu_count")),
        ("gpu", environment.get("gpu") or "none"),
        ("torch threads", environment.get("torch_threads")),
        ("python", environment.get("python")),
        ("torch", environment.get("torch")),
        ("timm", environment.get("timm")),
        ("platform", environment.get("platform")),
    ]
    if not results.empty:
        items.append(("rows in the results store", len(results)))
        items.append(("rows measured on", ", ".join(sorted(results["cpu"].dropna().astype(str).unique()))))
        stamps = results["timestamp"].dropna().astype(str)
        if len(stamps):
            items.append(("rows dated", f"{stamps.min()} .. {stamps.max()}"))
    return Table(
        "conditions",
        "Conditions",
        "Where and with what these numbers were produced.",
        pd.DataFrame(items, columns=["item", "value"]),
    )


def cell(value: object) -> str:
    """A table cell as text: blanks for missing values, 4 significant digits for floats."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def markdown(table: Table) -> str:
    """The table as Markdown with its title and caption."""
    if table.frame.empty:
        body = "_(no rows)_"
    else:
        columns = list(table.frame.columns)
        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += [
            "| " + " | ".join(cell(v).replace("|", "/") for v in row) + " |"
            for row in table.frame.itertuples(index=False)
        ]
        body = "\n".join(lines)
    return f"## {table.title}\n\n{table.caption}\n\n{body}\n"
