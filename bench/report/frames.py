"""Pure functions from the results table (and the paper's reported numbers) to tidy frames.

Every frame that carries an accuracy carries its source (``measured``, ``pretrained-eval``,
``reported``) beside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from bench.accuracy import MEASURED, PRETRAINED_EVAL, REPORTED
from bench.models.families import family_of_base
from bench.reference import paper_rows
from bench.store.results import IDENTITY_COLUMNS, newest_budget


def latest(results: pd.DataFrame) -> pd.DataFrame:
    """One row per identity (suite, entry, measurement, workload key): the most recent."""
    if results.empty:
        return results
    ordered = results.sort_values("timestamp", kind="stable") if "timestamp" in results else results
    return ordered.drop_duplicates(list(IDENTITY_COLUMNS), keep="last").reset_index(drop=True)


def reported() -> pd.DataFrame:
    """The paper's Tables 2, 3, 4 and 7 as numbers (source ``reported``)."""
    frame = pd.DataFrame(list(paper_rows().values()))
    for column in ("d", "w", "r", "input_size", "params_m", "macs_b", "top1", "top5", "latency_s"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    frame["accuracy_source"] = REPORTED
    return frame


def rows_of(results: pd.DataFrame, suite: str, measurement: str) -> pd.DataFrame:
    if results.empty:
        return results
    return results[(results["suite"] == suite) & (results["measurement"] == measurement)]


def paper_comparison(results: pd.DataFrame, table: str, suite: str) -> pd.DataFrame:
    """Paper vs ours for the refs of ``table`` (e.g. 'table2') counted by ``suite``: params, MACs, deltas.

    Paper models we cannot build stay in the frame with empty 'ours' cells.
    """
    paper = reported()
    paper = paper[paper["ref"].str.startswith(f"{table}/")]
    ours = rows_of(results, suite, "complexity")
    ours = ours[ours["paper_ref"].notna()] if not ours.empty else ours
    merged = paper.merge(
        ours[["paper_ref", "entry", "input_size", "params", "macs"]]
        if not ours.empty
        else pd.DataFrame(columns=["paper_ref", "entry", "input_size", "params", "macs"]),
        how="left",
        left_on="ref",
        right_on="paper_ref",
        suffixes=("_paper", ""),
    )
    out = pd.DataFrame(
        {
            "model": merged["model"],
            "entry": merged["entry"],
            "input_px": merged["input_size"].fillna(merged["input_size_paper"]),
            "params_m_paper": merged["params_m"],
            "params_m_ours": pd.to_numeric(merged["params"]) / 1e6,
            "macs_b_paper": merged["macs_b"],
            "macs_b_ours": pd.to_numeric(merged["macs"]) / 1e9,
            "top1_reported": merged["top1"],
        }
    )
    out["params_delta"] = out["params_m_ours"] / out["params_m_paper"] - 1
    out["macs_delta"] = out["macs_b_ours"] / out["macs_b_paper"] - 1
    return out[
        [
            "model",
            "entry",
            "input_px",
            "params_m_paper",
            "params_m_ours",
            "params_delta",
            "macs_b_paper",
            "macs_b_ours",
            "macs_delta",
            "top1_reported",
        ]
    ]


def latency(results: pd.DataFrame, suite: str, machine: str | None = None) -> pd.DataFrame:
    """Median latency (ms) per entry of ``suite`` with its conditions (of one ``machine`` when given)."""
    rows = rows_of(results, suite, "latency")
    if machine is not None and not rows.empty:
        rows = rows[machine_ids(rows) == machine]
    columns = [
        "entry",
        "model",
        "paper_ref",
        "params",
        "macs",
        "latency_ms_p50",
        "latency_cv",
        "device",
        "threads",
        "batch_size",
        "input_size",
        "cpu",
        "machine",
    ]
    return rows.reindex(columns=columns).reset_index(drop=True) if not rows.empty else pd.DataFrame(columns=columns)


def machine_label(row: dict | pd.Series) -> str:
    """A machine as a reader knows it: its CPU (and GPU), with the fingerprint when one was stored."""
    gpu = row.get("gpu")
    name = str(row.get("cpu") or "unknown CPU") + (f" + {gpu}" if isinstance(gpu, str) and gpu else "")
    machine = row.get("machine")
    return f"{name} [{machine}]" if isinstance(machine, str) and machine else name


@dataclass(frozen=True)
class Timings:
    """Whose timings a figure or table shows: a machine's fingerprint, how to name it, whether it is this one."""

    machine: str
    label: str
    here: bool


def timing_machine(rows: pd.DataFrame, current: str | None) -> Timings | None:
    """The machine whose timed ``rows`` to show: the machine the report is built on when it has rows (rows of
    another machine never stand in for it), else the one with the most rows, named as such. None: nothing
    timed. ``label`` reads "this machine (CPU [fingerprint])" or "measured on CPU [fingerprint]"."""
    if rows.empty:
        return None
    machines = machine_ids(rows)
    machine = current if current and current in set(machines) else str(machines.value_counts().index[0])
    name = machine_label(rows[machines == machine].iloc[0])
    here = machine == current
    return Timings(machine, f"this machine ({name})" if here else f"measured on {name}", here)


def machine_ids(rows: pd.DataFrame) -> pd.Series:
    """Each row's machine fingerprint as text ("" for rows stored before rows carried one)."""
    column = rows["machine"] if "machine" in rows else pd.Series("", index=rows.index)
    return column.astype(object).where(column.notna(), "").astype(str)


def best_throughput(results: pd.DataFrame, suite: str, machine: str | None = None) -> pd.DataFrame:
    """Per entry of a throughput suite: its best images/s over the batch sweep (with that batch, precision,
    peak memory and machine), and the paper's reported top-1 where the entry names a paper row (of one
    ``machine`` when given)."""
    rows = rows_of(results, suite, "throughput")
    if machine is not None and not rows.empty:
        rows = rows[machine_ids(rows) == machine]
    columns = [
        "entry",
        "model",
        "paper_ref",
        "throughput_ips",
        "batch_size",
        "batch_requested",
        "precision",
        "memory_format",
        "compile",
        "peak_memory_mb",
        "gpu",
        "device",
        "cpu",
        "machine",
        "top1_reported",
    ]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    best = rows.sort_values("throughput_ips").drop_duplicates(
        ["entry", "machine"] if "machine" in rows else ["entry"], keep="last"
    )
    top1 = reported().set_index("ref")["top1"]
    best = best.assign(top1_reported=best["paper_ref"].map(lambda ref: top1.get(ref) if isinstance(ref, str) else None))
    return best.reindex(columns=columns).reset_index(drop=True)


def gpipe_stand_in(timed: pd.DataFrame) -> dict | None:
    """GPipe is not in timm: the timed comparison model (not an EfficientNet) with the most MACs stands in."""
    others = [r for r in timed.to_dict("records") if not str(r["model"]).startswith("efficientnet")]
    return max(others, key=lambda r: r["macs"]) if others else None


def measured_accuracy(results: pd.DataFrame, suite: str, *, curve: bool = False) -> pd.DataFrame:
    """Proxy accuracy rows of ``suite`` (source ``measured``), from the suite's most recent budget only:
    one row per entry (the newest), or with ``curve`` one per entry and epoch count (a learning curve)."""
    rows = rows_of(results, suite, "accuracy")
    columns = [
        "entry",
        "base",
        "method",
        "width",
        "depth",
        "resolution",
        "phi",
        "input_size",
        "params",
        "macs",
        "total_stride",
        "top1",
        "top1_std",
        "top1_per_seed",
        "val_images",
        "val_top1",
        "val_top1_std",
        "val_top1_per_seed",
        "train_loss",
        "n_seeds",
        "seeds",
        "upsampled",
        "match_of",
        "paper_ref",
        "dataset",
        "epochs",
        "budget",
        "train_seconds",
        "train_images_per_s",
        "accuracy_source",
        "reused_from",
        "timestamp",
    ]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rows = rows[rows["accuracy_source"] == MEASURED]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rows = newest_budget(rows).sort_values("timestamp", kind="stable")
    rows = rows.drop_duplicates(["entry"] if not curve else ["entry", "epochs"], keep="last")
    # rows stored before the matched entry had its own column named it in a sentence
    rows = rows.assign(
        match_of=rows["match_of"].map(
            lambda m: m[len(_MATCH_PROSE) :] if isinstance(m, str) and m.startswith(_MATCH_PROSE) else m
        )
    )
    rows = rows.reindex(columns=columns)
    # rows stored before networks could be built with fewer strides ran at their family's own total stride
    native = rows["base"].map(lambda b: family.bases[b].total_stride if (family := family_of_base(b)) else None)
    rows["total_stride"] = pd.to_numeric(rows["total_stride"]).fillna(pd.to_numeric(native))
    return rows.reset_index(drop=True)


_MATCH_PROSE = "MACs of "


#: The suite whose entries are trained at E and 2E epochs to choose the proxy budget.
LEARNING_CURVE_SUITE = "proxy_learning_curve"
#: Doubling the epochs may gain at most this much (points of top-1) at the chosen budget.
CONVERGED_GAIN = 0.5


def learning_curve(results: pd.DataFrame, suite: str = LEARNING_CURVE_SUITE) -> pd.DataFrame:
    """The learning-curve suite's rows, one per entry and epoch count, in epoch order."""
    rows = measured_accuracy(results, suite, curve=True)
    return rows.sort_values(["entry", "epochs"], kind="stable").reset_index(drop=True)


def doubling_gains(curve: pd.DataFrame) -> pd.DataFrame:
    """Per entry and epoch count E that has a 2E row: top-1 at E, at 2E, and the gain."""
    out = []
    for entry, group in curve.groupby("entry", sort=False):
        by_epochs = dict(zip(group["epochs"].astype(int), group["top1"]))
        out += [
            {"entry": entry, "epochs": e, "top1": a, "top1_doubled": by_epochs[2 * e], "gain": by_epochs[2 * e] - a}
            for e, a in sorted(by_epochs.items())
            if 2 * e in by_epochs
        ]
    return pd.DataFrame(out, columns=["entry", "epochs", "top1", "top1_doubled", "gain"])


def curve_budget(curve: pd.DataFrame) -> str:
    """The learning curve's budget, its epoch counts listed."""
    return budget_summary(curve["budget"].iloc[0], ", ".join(str(int(e)) for e in sorted(curve["epochs"].unique())))


def chosen_epochs(curve: pd.DataFrame, gain: float = CONVERGED_GAIN) -> int | None:
    """The smallest E at which doubling the epochs gains at most ``gain`` points for every entry."""
    gains = doubling_gains(curve)
    entries = set(curve["entry"])
    for epochs, group in gains.groupby("epochs"):
        if set(group["entry"]) == entries and (group["gain"] <= gain).all():
            return int(epochs)
    return None


#: The grid-search suite's entry for the paper's alpha=1.2, beta=1.1, gamma=1.15 at phi=1.
GRID_PAPER_ENTRY = "grid-paper"


def pretrained(results: pd.DataFrame) -> pd.DataFrame:
    """Rows of source ``pretrained-eval``."""
    columns = ["entry", "dataset", "eval_images", "top1", "top5", "checkpoint", "params", "macs", "input_size"]
    if results.empty or "accuracy_source" not in results:
        return pd.DataFrame(columns=columns)
    rows = results[results["accuracy_source"] == PRETRAINED_EVAL]
    return rows[columns].reset_index(drop=True)


#: What a measured accuracy row's budget must hold for the report to read it.
BUDGET_FIELDS = ("dataset", "base_resolution", "epochs", "batch_size", "optimizer", "lr", "label_smoothing", "device")


def _budget_problem(budget: object) -> str | None:
    if not isinstance(budget, str):
        return "no budget"
    try:
        fields = json.loads(budget)
    except ValueError:
        return "a budget that is not valid JSON"
    if not isinstance(fields, dict):
        return "a budget that is not a JSON object"
    missing = [f for f in BUDGET_FIELDS if f not in fields]
    return f"a budget without {', '.join(missing)}" if missing else None


def usable_rows(results: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """``results`` less the accuracy rows the report cannot use, and one line per (suite, reason) saying
    what was left out: an accuracy row without a top-1, or a measured row whose budget does not read."""
    if results.empty or "measurement" not in results:
        return results, []
    accuracy = results["measurement"] == "accuracy"
    top1 = pd.to_numeric(results.get("top1"), errors="coerce")
    reasons = pd.Series([None] * len(results), index=results.index, dtype=object)
    reasons[accuracy & top1.isna()] = "no top-1"
    measured = accuracy & (results.get("accuracy_source") == MEASURED) & reasons.isna()
    reasons[measured] = results.loc[measured, "budget"].map(_budget_problem)
    dropped = reasons.notna()
    notes = [
        f"{suite}: {count} accuracy row(s) with {reason} left out"
        for (suite, reason), count in results[dropped].groupby(["suite", reasons[dropped]]).size().items()
    ]
    return results[~dropped], notes


def budget_summary(budget_json: str, epochs: str | None = None) -> str:
    """A one-line reading of a stored budget (``epochs`` overrides its epoch count, e.g. '4, 8, 16')."""
    b = json.loads(budget_json)
    images = "all" if b.get("train_images") is None else f"{b['train_images']:,}"
    if b.get("val_images"):
        images += f" (less {b['val_images']:,} held out for validation)"
    return (
        f"{b['dataset']} at {b['base_resolution']} px x r, {images} training images x {epochs or b['epochs']} epochs, "
        f"batch {b['batch_size']}, {b['optimizer']} lr {b['lr']:g}, label smoothing {b['label_smoothing']:g}, "
        f"{'crop+flip' if b.get('augment') else 'no'} augmentation, {b['device']}"
    )
