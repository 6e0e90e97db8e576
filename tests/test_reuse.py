"""Which stored training row another suite's entry may copy (bench.store.reuse)."""

from __future__ import annotations

import pandas as pd

from bench.store.reuse import copy_is_current, finished_trainings, reusable, reused_columns, superseded_copies


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


def test_sources_are_chosen_by_age_not_by_the_order_of_the_file() -> None:
    old = _row("a", "x", timestamp="2026-01-01", machine="m1")
    new = _row("b", "x", timestamp="2026-02-01", machine="m2")
    copy = _row("c", "x", timestamp="2026-03-01", reused_from="a/x")
    for order in ([old, new, copy], [copy, new, old]):
        found = finished_trainings(pd.DataFrame(order))
        assert [r["suite"] for r in found["k1"]] == ["b", "a", "c"]  # originals newest first, then copies
        assert reusable(found, "k1", "d", "y")["suite"] == "b"
    tie = _row("e", "x", timestamp="2026-02-01")  # the same second: the row written later wins
    assert finished_trainings(pd.DataFrame([old, new, tie]))["k1"][0]["suite"] == "e"


def test_a_copy_is_current_while_its_source_is_unchanged() -> None:
    source = _row("a", "x", timestamp="t1", top1_per_seed="90")
    copy = {**_row("b", "y", timestamp="t1", top1_per_seed="90"), "reused_from": "a/x"}
    found = finished_trainings(pd.DataFrame([source, copy]))
    assert copy_is_current(found, "k1", "b", "y", reused_columns(found["k1"][0]))
    retrained = reused_columns({**source, "timestamp": "t2", "top1_per_seed": "91"})
    assert not copy_is_current(found, "k1", "b", "y", retrained)
    assert not copy_is_current(found, "k1", "c", "z", reused_columns(found["k1"][0]))  # no copy for that entry


def test_writing_an_entry_again_replaces_its_copies_only() -> None:
    replaced = superseded_copies([_row("b", "y")])
    assert replaced({**_row("b", "y", machine="m9"), "reused_from": "a/x"})  # its copy, from another machine
    assert not replaced(_row("b", "y", machine="m9"))  # its own training elsewhere stays
    assert not replaced({**_row("b", "z"), "reused_from": "a/x"})  # another entry's copy stays
