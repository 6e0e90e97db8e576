"""Which stored training row another suite's entry may copy (bench.reuse)."""

from __future__ import annotations

import pandas as pd

from bench.reuse import finished_trainings, reusable, reused_columns


def _row(suite: str, entry: str, **extra: object) -> dict:
    return {
        "suite": suite,
        "entry": entry,
        "measurement": "accuracy",
        "workload_key": "k1",
        "machine": "m1",
        "accuracy_source": "measured",
        "top1": 90.0,
        "params": 5,
        **extra,
    }


def test_only_measured_finished_trainings_count_and_originals_come_first() -> None:
    copy = _row("c", "x", reused_from="a/x")
    frame = pd.DataFrame(
        [
            copy,
            _row("a", "x"),
            _row("p", "x", accuracy_source="pretrained-eval"),
            _row("n", "x", top1=None),
            {**_row("t", "x"), "measurement": "latency"},
        ]
    )
    found = finished_trainings(frame)
    assert [(r["suite"], r["entry"]) for r in found["k1"]] == [("a", "x"), ("c", "x")]
    assert finished_trainings(pd.DataFrame()) == {}


def test_an_entry_does_not_copy_its_own_row_and_a_copy_names_the_original() -> None:
    found = finished_trainings(pd.DataFrame([_row("a", "x"), _row("c", "y", reused_from="a/x")]))
    assert reusable(found, "k1", "a", "x") is None  # neither its own row (another machine) nor a copy of it
    assert reusable(found, "k1", "b", "z")["suite"] == "a"
    assert reusable(found, "k2", "b", "z") is None
    assert reused_columns(found["k1"][1])["reused_from"] == "a/x"  # through the copy to the training
    columns = reused_columns(found["k1"][0])
    assert columns["reused_from"] == "a/x" and columns["machine"] == "m1" and columns["top1"] == 90.0
    assert "params" not in columns and "suite" not in columns  # the entry's own description stays its own
