"""Text tables for the terminal: our exact counts beside the paper's, with deltas."""

from __future__ import annotations

import pandas as pd

from bench.reference import paper_value


def _paper(ref: object, column: str) -> float | None:
    return paper_value(ref, column) if isinstance(ref, str) and ref else None


def complexity_table(results: pd.DataFrame, suite: str, entries: list[str]) -> str:
    """One line per entry of ``suite`` (in ``entries`` order): coefficients, counts, paper MACs, delta."""
    rows = results[(results["suite"] == suite) & (results["measurement"] == "complexity")]
    rows = rows.drop_duplicates("entry", keep="last").set_index("entry").reindex(entries).dropna(subset=["macs"])
    lines = []
    for entry, row in rows.iterrows():
        paper_macs = _paper(row["paper_ref"], "macs_b")
        paper_params = _paper(row["paper_ref"], "params_m")
        macs_g, params_m = row["macs"] / 1e9, row["params"] / 1e6
        lines.append(
            {
                "entry": entry,
                "method": row["method"],
                "w": f"{row['width']:.3g}",
                "d": f"{row['depth']:.3g}",
                "px": int(row["input_size"]),
                "params M": f"{params_m:.3f}",
                "paper M": "" if paper_params is None else f"{paper_params:g}",
                "MACs G": f"{macs_g:.4f}",
                "paper G": "" if paper_macs is None else f"{paper_macs:g}",
                "vs paper": "" if paper_macs is None else f"{macs_g / paper_macs - 1:+.1%}",
                "target": "" if pd.isna(row["target_macs"]) else f"{row['macs'] / row['target_macs'] - 1:+.1%}",
            }
        )
    if not lines:
        return "(no complexity rows)"
    return pd.DataFrame(lines).to_string(index=False)


def latency_table(results: pd.DataFrame, suite: str, entries: list[str]) -> str:
    """Timed rows of ``suite``: conditions, median / p90 latency, spread and throughput."""
    rows = results[(results["suite"] == suite) & results["measurement"].isin(["latency", "throughput"])]
    order = {name: i for i, name in enumerate(entries)}
    rows = rows[rows["entry"].isin(order)].copy()
    if rows.empty:
        return ""
    rows["_order"] = rows["entry"].map(order)
    rows = rows.sort_values(["_order", "measurement", "batch_size"])
    table = pd.DataFrame(
        {
            "entry": rows["entry"],
            "measurement": rows["measurement"],
            "device": rows["device"],
            "threads": rows["threads"].astype(int),
            "batch": rows["batch_size"].astype(int),
            "p50 ms": rows["latency_ms_p50"].map("{:.2f}".format),
            "p90 ms": rows["latency_ms_p90"].map("{:.2f}".format),
            "cv": rows["latency_cv"].map("{:.1%}".format),
            "img/s": rows["throughput_ips"].map("{:.1f}".format),
            "iters": rows["iterations"].astype(int),
        }
    )
    return table.to_string(index=False)


def accuracy_table(results: pd.DataFrame, suite: str, entries: list[str]) -> str:
    """Trained rows of ``suite``: top-1 mean +- std over seeds (and its 95% CI), MACs, epochs, time."""
    from bench.report.stats import Sample

    rows = results[(results["suite"] == suite) & (results["measurement"] == "accuracy")]
    order = {name: i for i, name in enumerate(entries)}
    rows = rows[rows["entry"].isin(order)].copy()
    if rows.empty:
        return ""
    rows["_order"] = rows["entry"].map(order)
    rows = rows.sort_values(["_order", "epochs"])
    ci = [Sample(r["top1"], r["top1_std"], int(r["n_seeds"])).ci_half_width() for r in rows.to_dict("records")]
    table = pd.DataFrame(
        {
            "entry": rows["entry"],
            "source": rows["accuracy_source"],
            "px": rows["input_size"].astype(int),
            "MACs M": (rows["macs"] / 1e6).map("{:.2f}".format),
            "epochs": rows["epochs"],
            "top-1 %": rows["top1"].map("{:.2f}".format),
            "+- std": rows["top1_std"].map(lambda v: "" if v != v else f"{v:.2f}"),
            "95% CI": [("" if c != c else f"+-{c:.2f}") for c in ci],
            "seeds": rows["n_seeds"],
            "train s": rows["train_seconds"].map(lambda v: "" if v != v else f"{v:.0f}"),
        }
    )
    return table.to_string(index=False)
