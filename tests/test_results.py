"""The results store: tidy rows, atomic merge, replace-by-identity, CSV and Parquet, concurrent writers."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pandas as pd
import pytest

from bench.store.results import COLUMNS, ResultsFormatError, append_rows, identities, newest_budget, read_results


def _row(entry: str, macs: int, suite: str = "s", key: str = "k") -> dict:
    return {
        "suite": suite,
        "entry": entry,
        "measurement": "complexity",
        "workload_key": f"{key}-{entry}",
        "model": entry,
        "macs": macs,
        "params": 1,
        "activations": 2,
    }


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_round_trip_and_identity_replacement(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"results{suffix}"
    assert read_results(path).empty
    assert append_rows(path, [_row("a", 10), _row("b", 20)]) == 2
    assert append_rows(path, [_row("a", 11), _row("c", 30)]) == 2
    frame = read_results(path)
    assert list(frame.columns[: len(COLUMNS)]) == list(COLUMNS)
    assert sorted(zip(frame["entry"], frame["macs"])) == [("a", 11), ("b", 20), ("c", 30)]
    assert ("s", "a", "complexity", "k-a", "") in identities(read_results(path))
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_whole_numbers_stay_whole_beside_empty_cells(tmp_path: Path, suffix: str) -> None:
    # A latency row has no total stride; the accuracy row's 8 must still be written "8", not "8.0", and read back.
    path = tmp_path / f"results{suffix}"
    append_rows(path, [{**_row("a", 10), "total_stride": 8, "input_size": 14}, _row("b", 20)])
    append_rows(path, [{**_row("c", 30), "top1": 89.5, "total_stride": None}])  # None: an object column
    if suffix == ".csv":
        lines = path.read_text().splitlines()
        header = lines[0].split(",")
        a = next(line.split(",") for line in lines if ",a," in line)
        assert a[header.index("total_stride")] == "8"
        assert a[header.index("input_size")] == "14"
        assert a[header.index("macs")] == "10"
    frame = read_results(path).set_index("entry")
    assert frame.loc["a", "total_stride"] == 8
    assert pd.isna(frame.loc["b", "total_stride"])  # still empty
    assert frame.loc["c", "top1"] == 89.5


def test_pandas_reads_the_store_in_one_call(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    append_rows(path, [_row("a", 10)])
    assert pd.read_csv(path)["macs"].tolist() == [10]


def test_new_columns_are_kept_for_old_rows(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    append_rows(path, [_row("a", 10)])
    append_rows(path, [{**_row("b", 20), "extra_metric": 1.5}])
    frame = read_results(path).set_index("entry")
    assert frame.loc["b", "extra_metric"] == 1.5 and pd.isna(frame.loc["a", "extra_metric"])


def test_bad_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ResultsFormatError, match=r"\.csv or \.parquet"):
        read_results(tmp_path / "results.xlsx")


def _writer(path: str, worker: int) -> None:
    for i in range(10):
        append_rows(Path(path), [_row(f"w{worker}-{i}", i)])


def test_concurrent_writers_lose_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(str(path), w)) for w in range(3)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(timeout=120)
        assert p.exitcode == 0
    assert len(read_results(path)) == 30


def test_newest_budget_is_chosen_per_suite_and_unbudgeted_rows_stay() -> None:
    rows = pd.DataFrame(
        [
            {"suite": "a", "entry": "x", "budget": "old", "timestamp": "2026-01-01"},
            {"suite": "a", "entry": "y", "budget": "new", "timestamp": "2026-02-01"},
            {"suite": "a", "entry": "z", "budget": None, "timestamp": "2025-01-01"},  # e.g. a MAC count
            {"suite": "b", "entry": "x", "budget": "old", "timestamp": "2026-03-01"},  # b's newest is a's old
        ]
    )
    assert newest_budget(rows)[["suite", "entry"]].values.tolist() == [["a", "y"], ["a", "z"], ["b", "x"]]


def test_a_learning_curves_points_are_one_budget_family() -> None:
    budget = lambda epochs, lr=0.1: json.dumps({"epochs": epochs, "lr": lr}, sort_keys=True)  # noqa: E731
    rows = pd.DataFrame(
        [
            {"suite": "curve", "entry": "b0", "budget": budget(4, lr=0.5), "timestamp": "2026-01-01"},  # superseded lr
            {"suite": "curve", "entry": "b0", "budget": budget(4), "timestamp": "2026-02-01"},
            {"suite": "curve", "entry": "b0", "budget": budget(8), "timestamp": "2026-02-02"},
            {"suite": "curve", "entry": "b0", "budget": budget(16), "timestamp": "2026-02-03"},
        ]
    )
    assert newest_budget(rows)["budget"].map(lambda b: json.loads(b)["epochs"]).tolist() == [4, 8, 16]


def test_stores_from_two_machines_merge_without_loss(tmp_path: Path) -> None:
    from bench.cli import main as bench_main

    def rows(machine: str, latency: float, timestamp: str) -> list[dict]:
        return [
            {
                "suite": "s",
                "entry": "b0",
                "measurement": "latency",
                "workload_key": "k",
                "machine": machine,
                "latency_ms_p50": latency,
                "timestamp": timestamp,
            },
            {
                "suite": "s",
                "entry": "b0",
                "measurement": "complexity",
                "workload_key": "c",
                "machine": "",
                "macs": 1e6,
                "timestamp": timestamp,
            },
        ]

    a, b, out = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "all.csv"
    append_rows(a, rows("machine-a", 10.0, "2026-01-01T00:00:00"))
    append_rows(b, rows("machine-b", 20.0, "2026-01-02T00:00:00"))
    assert bench_main(["merge", str(a), str(b), "-o", str(out)]) == 0
    merged = read_results(out)
    timed = merged[merged["measurement"] == "latency"].sort_values("machine")
    assert timed["latency_ms_p50"].tolist() == [10.0, 20.0]  # one row per machine, side by side
    assert (merged["measurement"] == "complexity").sum() == 1  # exact counts: one, whichever machine
    assert bench_main(["merge", str(a), str(b), "-o", str(out)]) == 0  # merging again changes nothing
    assert len(read_results(out)) == 3


def test_append_rows_can_leave_rows_stored_meanwhile_as_they_are(tmp_path: Path) -> None:
    """``skip_stored``: a row whose identity the store holds by the time of the write is not written again."""
    path = tmp_path / "results.csv"
    assert append_rows(path, [_latency_row(10.0)]) == 1
    assert append_rows(path, [_latency_row(20.0), {**_latency_row(30.0), "entry": "b1"}], skip_stored=True) == 1
    assert read_results(path)["latency_ms_p50"].tolist() == [10.0, 30.0]
    assert append_rows(path, [_latency_row(20.0)]) == 1  # without it (a forced run), the row is replaced
    assert sorted(read_results(path)["latency_ms_p50"]) == [20.0, 30.0]


def _latency_row(p50: float, timestamp: str = "2026-01-01T00:00:00") -> dict:
    return {
        "suite": "s",
        "entry": "b0",
        "measurement": "latency",
        "workload_key": "k",
        "machine": "m",
        "latency_ms_p50": p50,
        "timestamp": timestamp,
    }


def test_a_merge_tie_goes_to_the_store_named_later_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Two rows of one identity and one timestamp, different values: the store named later wins, and a note
    says how many and which store (the last store won without a word)."""
    from bench.cli import main as bench_main

    a, b, same, out = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "same.csv", tmp_path / "all.csv"
    append_rows(a, [_latency_row(10.0)])
    append_rows(b, [_latency_row(20.0)])
    append_rows(same, [_latency_row(20.0)])
    assert bench_main(["merge", str(a), str(b), "-o", str(out)]) == 0
    note = f"note: 1 rows tied on timestamp with different values in two stores; the store named later won (1 from {b})"
    assert capsys.readouterr().err == note + "\n"
    assert read_results(out)["latency_ms_p50"].tolist() == [20.0]
    out.unlink()
    assert bench_main(["merge", str(b), str(a), "-o", str(out)]) == 0  # the order given decides, and says so
    assert f"(1 from {a})" in capsys.readouterr().err and read_results(out)["latency_ms_p50"].tolist() == [10.0]
    assert bench_main(["merge", str(b), "-o", str(out)]) == 0  # OUT's own rows count as named first
    assert f"(1 from {b})" in capsys.readouterr().err and read_results(out)["latency_ms_p50"].tolist() == [20.0]
    assert bench_main(["merge", str(same), "-o", str(out)]) == 0  # the same row twice is no tie to speak of
    assert capsys.readouterr().err == "" and len(read_results(out)) == 1
    append_rows(a, [_latency_row(5.0, "2026-01-02T00:00:00")])
    assert bench_main(["merge", str(a), "-o", str(out)]) == 0  # a newer row wins whatever the order
    assert capsys.readouterr().err == "" and read_results(out)["latency_ms_p50"].tolist() == [5.0]


def test_merge_refuses_a_store_that_is_not_there(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from bench.cli import main as bench_main

    out = tmp_path / "all.csv"
    assert bench_main(["merge", str(tmp_path / "nothere.csv"), "-o", str(out)]) == 2
    assert "no such results store" in capsys.readouterr().err and not out.exists()
    append_rows(
        tmp_path / "a.csv",
        [
            {
                "suite": "s",
                "entry": "e",
                "measurement": "complexity",
                "workload_key": "k",
                "machine": "",
                "macs": 1.0,
                "timestamp": "2026-01-01T00:00:00",
            }
        ],
    )
    assert bench_main(["merge", str(tmp_path / "a.csv"), "-o", str(out)]) == 0
    assert "1 rows read from 1 stores;" in capsys.readouterr().out
    assert bench_main(["merge", str(tmp_path / "a.csv"), "-o", str(out)]) == 0
    assert "from 1 stores and " in capsys.readouterr().out  # the output merged into is not counted as an input
    assert len(read_results(out)) == 1


def test_an_old_store_without_a_machine_column_still_has_identities(tmp_path: Path) -> None:
    path = tmp_path / "old.csv"
    pd.DataFrame([{"suite": "s", "entry": "e", "measurement": "complexity", "workload_key": "k"}]).to_csv(
        path, index=False
    )
    assert identities(read_results(path)) == {("s", "e", "complexity", "k", "")}
