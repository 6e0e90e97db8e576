"""The proxy models' regime beside their accuracies: where each network's work happens (bench.measure.regime).

Exact, like the counts: every measured proxy row's network is rebuilt on the meta device at its input size
and total stride, and its stage maps, final map, share of MACs on 1x1 maps and the measured cost exponent
of resolution are read off (``proxy_regime.csv``). v1 ran most of each network on 1x1 maps; v2 was built
so that it does not; this table is how a reader checks that.
"""

from __future__ import annotations

import json

import pandas as pd

from bench.accuracy.datasets import dataset_shape
from bench.models.families import family_of_base
from bench.report import frames
from bench.report.tables import Table

REGIME_TABLE = "proxy_regime"
COLUMNS = [
    "suite",
    "entry",
    "total_stride",
    "input_size",
    "stage_maps",
    "final_map",
    "macs_share_1x1",
    "r_cost_exponent",
    "macs",
]


def proxy_suites(results: pd.DataFrame) -> list[str]:
    """Suites with measured proxy accuracy rows, in name order."""
    rows = results[(results["measurement"] == "accuracy") & (results.get("accuracy_source") == "measured")]
    return sorted(rows["suite"].dropna().unique())


def regime_rows(results: pd.DataFrame) -> pd.DataFrame:
    """One row per measured proxy entry of a scalable family: its regime at its input size and total stride
    (counted here)."""
    from bench.measure.regime import regime
    from bench.models.registry import make_spec, workload_key
    from bench.specs import InputSpec

    out, known = [], {}
    for suite in proxy_suites(results):
        for row in frames.measured_accuracy(results, suite).to_dict("records"):
            if family_of_base(str(row["base"])) is None or row["input_size"] != row["input_size"]:
                continue  # only the scalable families have stages to map
            budget = json.loads(row["budget"])
            in_chans, classes = dataset_shape(budget["dataset"])
            stride = int(row["total_stride"]) if row["total_stride"] == row["total_stride"] else None
            inputs = InputSpec(budget["base_resolution"], 1, in_chans, classes, stride)
            spec = make_spec(
                row["base"], width=row["width"], depth=row["depth"], input_size=int(row["input_size"]), inputs=inputs
            )
            key = workload_key(spec)
            if key not in known:
                known[key] = regime(spec).as_row()
            out.append({"suite": suite, "entry": row["entry"], **known[key]})
    return pd.DataFrame(out, columns=COLUMNS)


def regime_table(results: pd.DataFrame) -> Table:
    frame = regime_rows(results)
    caption = (
        "Where each proxy model's work happens, counted exactly (meta device) at its input size and total stride: "
        "the map side after each stage, the last one, the share of MACs computed on 1x1 maps (where a k x k "
        "convolution multiplies only its centre tap and a block adds no receptive field) and the measured cost "
        "exponent of resolution, log(MACs at twice the input / MACs) / log 2 (the paper assumes 2). For reference, "
        "B0 at 224 px on ImageNet: 0.2 % on 1x1 maps, exponent 2.00. v1 suites ran at total stride 32 (the 1x1-map "
        "regime); v2 suites at 8."
    )
    shown = frame.assign(
        macs_share_1x1=frame["macs_share_1x1"].round(4), r_cost_exponent=frame["r_cost_exponent"].round(3)
    )
    return Table(
        REGIME_TABLE, "Proxy regime: stage maps, share of MACs on 1x1 maps, cost of resolution", caption, shown
    )
