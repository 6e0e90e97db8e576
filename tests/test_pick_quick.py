"""``bench pick``'s first answer fast (bench.zoo.quick): a quick look at every model, the full protocol only for the
models that could be in the answer, each row labelled with the protocol that timed it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from bench.cli import main
from bench.zoo.quick import in_play, out_of_reach, precision, reading_bounds


def _readings(rows: list[tuple]) -> pd.DataFrame:
    """Synthetic readings: (entry, top1, ms, timing, CV, cpu_wall_ratio[, paper_top1])."""
    return pd.DataFrame(
        [
            {
                "entry": r[0],
                "top1": r[1],
                "latency_ms": r[2],
                "timing": r[3],
                "latency_cv": r[4],
                "cpu_wall_ratio": r[5],
                "paper_top1": r[6] if len(r) > 6 else None,
            }
            for r in rows
        ]
    )


def test_only_the_models_that_could_be_in_the_answer_are_timed_in_full() -> None:
    readings = _readings(
        [
            ("far_over", 85.0, 300.0, "quick", 0.0, 1.0),  # one forward, stopped at 2x the budget
            ("near_boundary", 79.0, 35.0, "quick", 0.02, 1.0),  # 35 ms, but +-25 % reaches 30
            ("on_frontier", 70.0, 5.0, "quick", 0.03, 1.0),  # well within, nothing faster and better
            ("surely_beaten", 69.0, 12.0, "quick", 0.02, 1.0),  # on_frontier is surely faster and better
            ("close_call", 71.0, 6.0, "quick", 0.02, 1.0),  # slower than on_frontier, but within its margin
            ("full_over", 90.0, 31.0, "full", 0.01, 1.0),  # a full reading is taken as it is
            ("no_top1", None, 10.0, "quick", 0.02, 1.0),  # never in an answer
        ]
    )
    chosen = dict(zip(readings["entry"], in_play(readings, 30.0)))
    assert chosen == {
        "far_over": False,
        "near_boundary": True,
        "on_frontier": True,
        "surely_beaten": False,
        "close_call": True,
        "full_over": False,
        "no_top1": False,
    }


def test_a_noisy_or_contended_quick_reading_widens_its_interval() -> None:
    readings = _readings(
        [
            ("quiet", 80.0, 50.0, "quick", 0.02, 1.0),  # 37.5-62.5 ms: out at 30
            ("noisy", 80.0, 50.0, "quick", 0.15, 1.0),  # CV 15 %: +-45 %, 27.5 ms at the low end
            ("waited", 80.0, 50.0, "quick", 0.02, 0.5),  # ran half the time it was timed: low end 18.75 ms
        ]
    )
    low, high = reading_bounds(readings)
    assert low.tolist() == pytest.approx([37.5, 27.5, 18.75]) and high.tolist() == pytest.approx([62.5, 72.5, 62.5])
    assert in_play(readings, 30.0).tolist() == [False, True, True]
    full = _readings(
        [
            ("quiet", 80.0, 40.0, "full", 0.02, 0.99),  # within the target, undisturbed: taken as it is
            ("noisy", 80.0, 40.0, "full", 0.10, 1.0),  # CV 10 %: +-30 %, 28 ms at the low end
            ("waited", 80.0, 40.0, "full", 0.02, 0.5),  # a busy machine: 40 ms of wall time, 20 of CPU
        ]
    )
    low, high = reading_bounds(full)
    assert low.tolist() == pytest.approx([40.0, 28.0, 18.8]) and high.tolist() == pytest.approx([40.0, 52.0, 42.4])
    assert in_play(full, 30.0).tolist() == [False, True, True]  # in play: re-timed (--retimes) before the answer


def test_the_papers_model_straddling_the_budget_is_timed_in_full_even_when_beaten() -> None:
    readings = _readings(
        [
            ("fast_good", 80.0, 10.0, "full", 0.01, 1.0),
            ("tf_efficientnet_b0", 77.0, 32.0, "quick", 0.02, 1.0, 76.5),  # does B0 fit? the answer says
            ("tf_efficientnet_b1", 79.0, 80.0, "quick", 0.02, 1.0, 78.6),
        ]
    )
    assert in_play(readings, 30.0).tolist() == [True, True, False]


def test_a_network_whose_macs_cannot_run_within_the_budget_is_out_of_reach() -> None:
    macs = pd.Series([4.1e9, 1.0e9, 0.3e9])  # at 2 x 50 GMAC/s: 41 ms, 10 ms, 3 ms
    assert out_of_reach(macs, 20.0, 50.0).tolist() == [True, False, False]  # 20 ms + 25 % = 25 ms
    assert out_of_reach(macs, 40.0, 50.0).tolist() == [False, False, False]


def test_each_reading_says_its_protocol_and_precision() -> None:
    assert precision("quick", 5, 0.031) == "quick (n=5, CV 3.1%)"
    assert precision("full", 14.0, 0.02) == "full (n=14, CV 2.0%)"
    assert precision("quick", 1, float("nan")) == "quick (n=1)"


def test_a_quick_look_stops_after_one_forward_far_over_the_budget() -> None:
    from torch import nn

    from bench.measure.latency import measure_latency
    from bench.specs import LatencyConditions
    from bench.zoo.quick import quick_protocol

    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())
    protocol = quick_protocol(LatencyConditions(threads=1), budget_ms=30.0)
    assert protocol.conditions.warmup_iterations == 1 and protocol.stop_above_ms == 60.0
    looked = measure_latency(model, (3, 16, 16), protocol.conditions)
    assert looked.stats.iterations == 5
    stopped = measure_latency(model, (3, 16, 16), protocol.conditions, stop_above_ms=0.0)
    assert stopped.stats.iterations == 1


def test_a_quick_row_is_its_own_kind_never_read_as_a_full_one(tmp_path: Path) -> None:
    from bench.run import suite_tasks
    from bench.scaling.plan import plan_suite
    from bench.store.count_cache import ComplexityCache
    from bench.suites import load_suite
    from bench.zoo.quick import QUICK_MEASUREMENT, quick_protocol
    from bench.zoo.select import zoo_points

    path = tmp_path / "mini.yaml"
    path.write_text("name: mini\nmetrics: [complexity, latency]\nlatency: {threads: 1}\nmodels: [{model: lcnet_050}]\n")
    suite = load_suite(path)
    planned = plan_suite(suite, ComplexityCache(None), 1)
    (quick,) = [t for t in suite_tasks(suite, planned, quick_protocol(suite.latency, 30.0)) if t.conditions]
    (full,) = [t for t in suite_tasks(suite, planned) if t.conditions]
    assert (quick.measurement, full.measurement) == (QUICK_MEASUREMENT, "latency")
    assert quick.key != full.key and quick.stop_above_ms == 60.0 and full.stop_above_ms is None
    rows = _store_rows({"lcnet_050": ("quick", 5.0)})
    assert zoo_points(rows, "mini").empty  # the report and its claims read full rows only
    assert zoo_points(rows, "mini", quick=True)["timing"].tolist() == ["quick"]


def _store_rows(readings: dict[str, tuple[str, float]], cv: float = 0.02) -> pd.DataFrame:
    """Rows of this machine for the models of ``readings``: (protocol, median ms) each."""
    from bench.measure.environment import environment, machine_fingerprint
    from bench.zoo.quick import QUICK_MEASUREMENT

    machine = machine_fingerprint(environment())
    return pd.DataFrame(
        [
            {
                "suite": "mini",
                "entry": m,
                "model": m,
                "base": m,
                "measurement": QUICK_MEASUREMENT if timing == "quick" else "latency",
                "workload_key": f"k{i}-{timing}",
                "machine": machine,
                "device": "cpu",
                "threads": 1,
                "batch_size": 1,
                "input_size": 224,
                "iterations": 5 if timing == "quick" else 20,
                "latency_ms_p50": ms,
                "throughput_ips": 1000 / ms,
                "latency_cv": cv,
                "cpu_wall_ratio": 0.99,
                "params": 2e6,
                "macs": 1e8,
                "activations": 1e6,
                "timestamp": "2026-12-06T00:00:00",
            }
            for i, (m, (timing, ms)) in enumerate(readings.items())
        ]
    )


def _stored(tmp_path: Path, readings: dict[str, tuple[str, float]], cv: float = 0.02) -> tuple[Path, Path]:
    from bench.store.results import append_rows

    suite = tmp_path / "mini.yaml"
    models = ", ".join(f"{{model: {m}}}" for m in readings)
    suite.write_text(f"name: mini\nmetrics: [complexity, latency]\nlatency: {{threads: 1}}\nmodels: [{models}]\n")
    results = tmp_path / "results.csv"
    append_rows(results, _store_rows(readings, cv).to_dict("records"))
    return suite, results


@pytest.fixture
def no_shipped_rows(tmp_path: Path, monkeypatch) -> None:
    import bench.commands.pick as pick_command

    monkeypatch.setattr(pick_command, "SHIPPED", tmp_path / "none")  # another machine: no rows of it ship


@pytest.mark.usefixtures("no_shipped_rows")
def test_the_answer_and_its_json_state_each_rows_precision(tmp_path: Path, capsys) -> None:
    suite, results = _stored(tmp_path, {"lcnet_050": ("full", 5.0), "mobilenetv2_050": ("quick", 9.0)})
    args = ["pick", "--latency-ms", "30", "--no-measure", "--suite", str(suite), "--results", str(results)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "2 models timed, 1 of them only quickly" in out and "timing" in out
    assert "full n=20" in out and "quick n=5" in out and "1 of these rows are quick looks" in out
    assert main([*args, "--json"]) == 0
    picks = {p["entry"]: p for p in json.loads(capsys.readouterr().out)["picks"]}
    assert picks["mobilenetv2_050"]["timing"] == "quick" and picks["mobilenetv2_050"]["iterations"] == 5
    assert json.loads(json.dumps(picks["lcnet_050"]))["iterations"] == 20 and "20.0" not in json.dumps(picks)
    assert picks["mobilenetv2_050"]["precision"] == "quick (n=5, CV 2.0%)"
    assert picks["lcnet_050"]["precision"] == "full (n=20, CV 2.0%)"
    assert main([*args, "--refuse-noisy"]) == 3  # a quick row is no ground for a judged answer
    assert "1 noisy, contended or quick rows (mobilenetv2_050)" in capsys.readouterr().err


@pytest.mark.usefixtures("no_shipped_rows")
def test_pick_times_in_full_only_the_quick_readings_in_play(tmp_path: Path, monkeypatch, capsys) -> None:
    import argparse

    import bench.run
    from bench.commands.pick_timing import time_for_pick
    from bench.store.count_cache import ComplexityCache
    from bench.suites import load_suite

    readings = {"lcnet_050": ("quick", 5.0), "mobilenetv2_050": ("quick", 29.0), "resnet50": ("quick", 300.0)}
    suite_file, results = _stored(tmp_path, readings)
    calls = []
    monkeypatch.setattr(bench.run, "run_suite", lambda s, *a, **k: calls.append(([e.name for e in s.entries], k)))
    args = argparse.Namespace(results=results, retimes=2, pretrain="in1k", full=False, quick=False, remeasure=False)
    summary = time_for_pick(load_suite(suite_file), args, ComplexityCache(None), 30.0)
    assert calls == [(["lcnet_050", "mobilenetv2_050"], {"force": True})]  # resnet50 is far over: not timed again
    assert summary.looked == 0 and summary.full == 2  # all three had a reading stored: none looked at again
    err = capsys.readouterr().err
    assert "first answer" not in err and "timing 2 models with the full protocol" in err


@pytest.mark.usefixtures("no_shipped_rows")
def test_pick_re_times_only_the_noisy_rows_that_could_be_in_the_answer(tmp_path: Path, monkeypatch, capsys) -> None:
    import argparse

    import bench.run
    from bench.commands import pick_timing
    from bench.commands.pick_timing import TimingSummary, time_for_pick
    from bench.store.count_cache import ComplexityCache
    from bench.suites import load_suite

    suite_file, results = _stored(tmp_path, {"lcnet_050": ("full", 5.0), "resnet50": ("full", 300.0)}, cv=0.15)
    calls = []
    monkeypatch.setattr(bench.run, "run_suite", lambda s, *a, **k: calls.append([e.name for e in s.entries]))
    args = argparse.Namespace(results=results, retimes=2, pretrain="in1k", full=False, quick=False, remeasure=False)
    summary = time_for_pick(load_suite(suite_file), args, ComplexityCache(None), 30.0)
    assert calls == [["lcnet_050"]] * 2  # still noisy after both: left, and marked; resnet50 cannot be in it
    assert summary.full == 0 and summary.retimed == 2
    assert "re-timing 1 noisy or contended rows: they could be in the answer" in capsys.readouterr().err
    calls.clear()
    far = TimingSummary(out_of_reach=("lcnet_050",))  # as if its MACs put it out of reach: never re-timed
    monkeypatch.setattr(pick_timing, "_quick_pass", lambda *a: far)
    assert time_for_pick(load_suite(suite_file), args, ComplexityCache(None), 30.0).retimed == 0 and calls == []


@pytest.mark.usefixtures("no_shipped_rows")
def test_bench_pick_quick_times_a_tiny_suite_and_leaves_out_what_its_macs_rule_out(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    import bench.measure.latency

    monkeypatch.setattr(bench.measure.latency, "matmul_peak_gmacs", lambda conditions: 50.0)  # same everywhere
    suite = tmp_path / "mini.yaml"
    suite.write_text(
        "name: mini\nmetrics: [complexity, latency]\nlatency: {threads: 1}\n"
        "models: [{model: lcnet_050}, {model: mobilenetv2_050}, {model: resnet50}]\n"
    )
    results = tmp_path / "results.csv"
    args = ["pick", "--latency-ms", "20", "--quick", "--json", "--suite", str(suite), "--results", str(results)]
    assert main(args) == 0
    captured = capsys.readouterr()
    answer = json.loads(captured.out)
    assert answer["timed_now"]["not_timed_out_of_reach"] == ["resnet50"]  # 4.1 G MACs: 41 ms at 2 x 50 GMAC/s
    assert answer["timed_now"]["quick_looks"] == 2 and answer["timed_now"]["full"] == 0
    assert "answer ready after" in captured.err and "a quick look at 2 models" in captured.err
    stored = pd.read_csv(results)
    timed = stored[stored["measurement"] != "complexity"]
    assert sorted(timed["entry"]) == ["lcnet_050", "mobilenetv2_050"] and set(timed["measurement"]) == {"latency-quick"}
    assert all(p["timing"] == "quick" for p in answer["picks"])


@pytest.mark.usefixtures("no_shipped_rows")
def test_bench_pick_refines_and_full_times_everything(tmp_path: Path, capsys) -> None:
    suite = tmp_path / "mini.yaml"
    suite.write_text(
        "name: mini\nmetrics: [complexity, latency]\n"
        "latency: {threads: 1, warmup_iterations: 1, min_iterations: 3, min_time_s: 0}\n"
        "models: [{model: lcnet_050}, {model: mobilenetv2_050}]\n"
    )
    results = tmp_path / "results.csv"
    base = ["pick", "--latency-ms", "100000", "--retimes", "0", "--suite", str(suite), "--results", str(results)]
    assert main(base) == 0  # a budget nothing comes near: both could be in the answer, both timed in full
    captured = capsys.readouterr()
    assert "full n=3" in captured.out
    assert "first answer, from the quick look after " in captured.err and "ms quick)" in captured.err
    kinds = pd.read_csv(results).groupby("measurement")["entry"].nunique().to_dict()
    assert kinds == {"complexity": 2, "latency": 2, "latency-quick": 2}
    assert main([*base, "--full", "--remeasure"]) == 0  # the old way: every model in full, no quick look
    assert "a quick look" not in capsys.readouterr().err
    assert len(pd.read_csv(results)) == 6  # the forced rows replaced their own kind


def test_the_zoos_shipped_counts_seed_a_cache_of_the_same_versions_only() -> None:
    from bench.store.count_cache import ComplexityCache
    from bench.zoo.counts import counts_versions, seed_cache

    cache = ComplexityCache(None)
    assert seed_cache(cache) == (155 if counts_versions() == cache.versions else 0)
    assert seed_cache(cache) == 0  # nothing new the second time

    class Other:
        versions = "torch-0/timm-0"

    assert seed_cache(Other()) == 0
