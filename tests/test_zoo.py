"""The best model for this machine: timm's published accuracy (reported-timm) joined to our timings,
the frontier within a budget, the paper's model at that budget, and the zoo suite itself."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bench.cli import main
from bench.suites import load_suite
from bench.zoo.select import Budget, default_reported, paper_model_within, pick, reported_timm
from tests.conftest import ROOT


def test_timm_results_are_shipped_as_data_and_looked_up_by_default_tag_and_size() -> None:
    rows = reported_timm()
    assert len(rows) > 1500 and set(rows["accuracy_source"]) == {"reported-timm"}
    assert default_reported("mobilenetv2_100")["top1"] == pytest.approx(72.91)  # ra_in1k at 224
    assert default_reported("tf_efficientnet_b0", tag="in1k")["top1"] == pytest.approx(76.542)  # the paper's weights
    assert default_reported("resnet50", 288)["tag"] == "a1_in1k"  # timm's default tag, at its test size
    assert default_reported("resnet50", 999) is None


def _points() -> pd.DataFrame:
    rows = [  # base, latency ms, top-1, GMACs, params M, paper top-1
        ("tf_efficientnet_b0", 20.0, 78.7, 0.39, 5.3, 76.5),
        ("tf_efficientnet_b1", 35.0, 80.0, 0.70, 7.8, 78.6),
        ("fast_net", 8.0, 70.0, 0.10, 2.0, None),
        ("good_net", 18.0, 79.5, 0.60, 6.0, None),
        ("slow_net", 50.0, 79.0, 2.00, 20.0, None),
    ]
    return pd.DataFrame(
        [
            {
                "entry": b,
                "base": b,
                "input_size": 224,
                "latency_ms": ms,
                "top1": t,
                "macs_g": g,
                "params_m": p,
                "throughput_ips": 1000 / ms,
                "tag": "x",
                "paper_top1": pt,
            }
            for b, ms, t, g, p, pt in rows
        ]
    )


def test_the_pick_is_the_frontier_within_the_budget_and_the_paper_model_is_its_own_weights() -> None:
    points = _points()
    assert pick(points, Budget(latency_ms=30))["base"].tolist() == ["good_net", "fast_net"]  # b0 is beaten by good_net
    assert pick(points, Budget(latency_ms=60))["base"].tolist() == ["tf_efficientnet_b1", "good_net", "fast_net"]
    assert pick(points, Budget(macs_g=0.5))["base"].tolist() == ["tf_efficientnet_b0", "fast_net"]
    assert pick(points, Budget(latency_ms=5)).empty
    paper = paper_model_within(points, Budget(latency_ms=30))
    assert paper["base"] == "tf_efficientnet_b0" and paper["top1"] == 76.5  # in1k, not the default tag's 78.7
    with pytest.raises(ValueError, match="give a budget"):
        Budget().metric  # noqa: B018


def test_every_zoo_entry_has_timms_published_accuracy_and_the_suite_is_diverse() -> None:
    suite = load_suite(ROOT / "suites" / "zoo_frontier.yaml")
    assert len(suite.entries) >= 100
    missing = [e.model for e in suite.entries if default_reported(e.model, e.spec.input_size) is None]
    assert missing == []
    families = {
        "efficientnet",
        "mobilenetv2",
        "mobilenetv3",
        "mobilenetv4",
        "resnet",
        "regnet",
        "convnext",
        "vit",
        "deit",
        "ghostnet",
        "mnasnet",
        "fbnet",
    }
    assert all(any(f in e.model for e in suite.entries) for f in families)
    assert {f"tf_efficientnet_b{i}" for i in range(7)} <= {e.model for e in suite.entries}


def test_bench_pick_measures_what_is_missing_and_answers(tmp_path: Path, capsys) -> None:
    suite = tmp_path / "mini.yaml"
    suite.write_text(
        "name: mini\nmetrics: [complexity, latency]\n"
        "latency: {threads: 1, batch_size: 1, warmup_iterations: 1, min_iterations: 3, min_time_s: 0}\n"
        "models: [{model: lcnet_050}, {model: mobilenetv2_050}]\n"
    )
    results = tmp_path / "results.csv"
    args = ["pick", "--latency-ms", "100000", "--suite", str(suite), "--results", str(results)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "2 models timed" in out and "mobilenetv2_050.lamb_in1k" in out and "reported-timm" in out
    assert "none of B0-B7 fits" in out
    assert main([*args, "--no-measure", "--params", "0.5"]) == 0
    assert "none: no model fits" in capsys.readouterr().out
    assert main(["pick", "--suite", str(suite), "--results", str(results)]) == 2


def test_the_report_shows_the_zoo_frontier_and_the_cost_predictors(tmp_path: Path) -> None:
    from bench.report.build import build_report
    from bench.store.results import COLUMNS

    rows = []
    timed = {  # base: (ms, params, MACs, activations)
        "tf_efficientnet_b0": (30.0, 5.3e6, 0.39e9, 6.7e6),
        "mobilenetv2_100": (20.0, 3.5e6, 0.30e9, 6.7e6),
        "resnet50": (90.0, 25.6e6, 4.1e9, 11.1e6),
        "lcnet_050": (4.0, 1.9e6, 0.05e9, 1.3e6),
    }
    for base, (ms, params, macs, acts) in timed.items():
        common = {"suite": "zoo_frontier", "entry": base, "base": base, "input_size": 224, "timestamp": "2026"}
        rows.append(
            {
                **common,
                "measurement": "complexity",
                "workload_key": base,
                "params": params,
                "macs": macs,
                "activations": acts,
            }
        )
        rows.append(
            {
                **common,
                "measurement": "latency",
                "workload_key": f"{base}-l",
                "machine": "m",
                "cpu": "c",
                "device": "cpu",
                "threads": 1,
                "batch_size": 1,
                "latency_ms_p50": ms,
                "throughput_ips": 1e3 / ms,
                "params": params,
                "macs": macs,
                "activations": acts,
            }
        )
    report = build_report(pd.DataFrame(rows).reindex(columns=COLUMNS), tmp_path, {})
    names = {t.name: t for t in report.tables}
    assert "zoo_accuracy_vs_latency" in {f.stem for f in report.figures}
    assert names["zoo_frontier"].frame["base"].tolist() == [
        "lcnet_050",
        "mobilenetv2_100",
        "tf_efficientnet_b0",
        "resnet50",
    ]
    assert names["cost_predictors"].frame.iloc[0]["n"] == 4
    assert "mobilenetv2_100" not in " ".join(names["cost_misrankings"].frame.iloc[:, 0])  # ranked right by MACs


def test_a_preset_row_is_looked_up_by_the_preset_it_measured() -> None:
    from bench.zoo.select import zoo_points

    common = {
        "suite": "zoo_frontier",
        "entry": "efficientnet_b2@256",
        "model": "efficientnet_b2@256",
        "base": "efficientnet_b0",
        "method": "preset",
        "input_size": 256,
        "params": 9.1e6,
        "macs": 1e9,
        "activations": 1e7,
    }
    rows = pd.DataFrame(
        [
            {**common, "measurement": "complexity"},
            {**common, "measurement": "latency", "latency_ms_p50": 50.0, "throughput_ips": 20.0, "machine": "m"},
        ]
    )
    (point,) = zoo_points(rows).to_dict("records")
    assert point["base"] == "efficientnet_b2" and point["top1"] == pytest.approx(
        default_reported("efficientnet_b2", 256)["top1"]
    )


def test_the_shipped_zoo_rows_refute_activations_as_the_better_predictor_on_this_cpu() -> None:
    """Reference values: the zoo timed on the 2-core CI machine (reports/measured/zoo_frontier_cpu.csv)."""
    from bench.report.claims import activations_claim
    from bench.store.results import read_results

    claim = activations_claim(read_results(ROOT / "reports" / "measured" / "zoo_frontier_cpu.csv"))
    assert claim["verdict"] == "not reproduced"
    assert "155 models" in claim["evidence"] and "activations 0.87, MACs 0.96; difference -0.100" in claim["evidence"]


def test_budgets_parse_units_and_refuse_what_is_not_positive_and_finite() -> None:
    from bench.zoo.budgets import parse_latency_ms, parse_macs_g, parse_params_m

    assert parse_latency_ms("30") == 30 and parse_latency_ms("30ms") == 30 and parse_latency_ms("0.03s") == 30
    assert parse_macs_g("1.5G") == pytest.approx(1.5) and parse_macs_g("500M") == pytest.approx(0.5)
    assert parse_macs_g("1.5e9") == pytest.approx(1.5)
    assert parse_params_m("10") == 10 and parse_params_m("25M") == 25 and parse_params_m("500K") == 0.5
    for text in ("-5", "0", "nan", "inf", "-inf", "-5ms"):
        with pytest.raises(ValueError, match="positive, finite"):
            parse_latency_ms(text)
    for text in ("abc", "30 parsecs", ""):
        with pytest.raises(ValueError, match="expected a number"):
            parse_latency_ms(text)
    with pytest.raises(ValueError, match="positive"):
        Budget(latency_ms=0.0)


@pytest.mark.parametrize(
    "args, says",
    [
        (["--latency-ms", "-5"], "--latency-ms '-5': a budget must be a positive, finite number"),
        (["--latency-ms", "-5ms"], "--latency-ms '-5ms': a budget must be"),
        (["--latency-ms", "0"], "--latency-ms '0'"),
        (["--params", "0"], "--params '0'"),
        (["--macs", "1x"], "--macs '1x': expected a number"),
        (["--macs", "1G", "--threads", "0"], "--threads 0: must be at least 1"),
        (["--latency-ms", "30", "--batch", "-1"], "--batch -1: must be at least 1"),
    ],
)
def test_bench_pick_refuses_a_bad_budget_in_one_line_before_measuring(tmp_path: Path, capsys, args, says) -> None:
    results = tmp_path / "results.csv"
    assert main(["pick", *args, "--results", str(results)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err
    assert not results.exists()


def test_shipped_counts_are_the_counters_own_and_recount_the_same() -> None:
    from bench.measure.complexity import count_complexity
    from bench.zoo.counts import counts_origin, shipped_counts

    counts = shipped_counts().set_index("entry")
    suite = load_suite(ROOT / "suites" / "zoo_frontier.yaml")
    assert set(counts.index) == {e.name for e in suite.entries}
    assert "timm 1." in counts_origin() and "FlopCounterMode(meta)" in counts_origin()
    for entry in [e for e in suite.entries if e.name in ("lcnet_050", "tf_efficientnet_b0")]:
        recount = count_complexity(entry.spec)
        row = counts.loc[entry.name]
        assert (row["params"], row["macs"], row["activations"]) == (recount.params, recount.macs, recount.activations)


def test_a_macs_budget_is_answered_from_counts_alone_with_nothing_timed(tmp_path: Path, capsys, monkeypatch) -> None:
    import bench.commands.pick as pick_command

    monkeypatch.setattr(pick_command, "SHIPPED", tmp_path / "none")  # a fresh clone on another machine: no rows
    results = tmp_path / "results.csv"
    assert main(["pick", "--macs", "1G", "--no-measure", "--results", str(results)]) == 0
    out = capsys.readouterr().out
    assert "155 models counted, nothing timed" in out and "latency shown for the 0 timed" in out
    assert "tf_efficientnet_b2" in out and not results.exists()
    assert main(["pick", "--params", "3M", "--no-measure", "--results", str(results)]) == 0
    assert "<= 3M params" in capsys.readouterr().out


@pytest.mark.parametrize(
    "tag, data",
    [
        ("in1k", "in1k"),
        ("ra4_e3600_r240_in1k", "in1k"),
        ("fb_dist_in1k", "in1k"),
        ("ns_jft_in1k", "jft"),
        ("fb_in22k_ft_in1k", "in22k"),
        ("sw_in12k_ft_in1k", "in12k"),
        ("fb_swsl_ig1b_ft_in1k", "ig"),
        ("laion2b_ft_in12k_in1k", "in12k+laion"),
        ("openai_ft_in1k", "openai-wit"),
    ],
)
def test_each_timm_tag_carries_its_pretraining_data(tag: str, data: str) -> None:
    from bench.zoo.select import pretraining

    assert pretraining(tag) == data


def test_the_default_compares_imagenet_1k_weights_only_and_any_labels_extra_data(capsys) -> None:
    from bench.commands.pick import compare_with_paper
    from bench.zoo.select import reported_for

    assert reported_for("tf_efficientnet_b2", 260)["pretrain"] == "in1k"  # not timm's default ns_jft_in1k
    assert reported_for("tf_efficientnet_b2", 260, "any")["tag"] == "ns_jft_in1k"
    assert set(reported_timm()["pretrain"]) >= {"in1k", "jft", "in22k", "in12k", "ig"}
    points = _points().assign(pretrain=["jft", "in1k", "in1k", "in1k", "in1k"])
    budget = Budget(latency_ms=60)
    chosen = pick(points, budget)
    in1k = pick(points[points["pretrain"] == "in1k"], budget)
    text = compare_with_paper(chosen, in1k, {"top1": 78.0})
    assert text == "the best ImageNet-1k pick, tf_efficientnet_b1.x, is +2.00 pt"  # b0's extra-data weights left out
    points = points.assign(pretrain=["in1k", "jft", "in1k", "in1k", "in1k"])
    text = compare_with_paper(pick(points, budget), pick(points[points["pretrain"] == "in1k"], budget), {"top1": 78.0})
    assert "tf_efficientnet_b1.x used extra data (jft): not compared" in text and "+1.50 pt" in text


def test_bench_pick_json_is_json_with_null_for_what_was_not_timed(tmp_path: Path, capsys, monkeypatch) -> None:
    import json

    import bench.commands.pick as pick_command

    monkeypatch.setattr(pick_command, "SHIPPED", tmp_path / "none")
    assert main(["pick", "--macs", "1G", "--no-measure", "--json", "--results", str(tmp_path / "r.csv")]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["budget"] == {"macs_g": 1.0} and answer["pretrain"] == "in1k" and answer["models_considered"] == 155
    assert answer["picks"] and all(p["latency_ms"] is None and p["pretrain"] == "in1k" for p in answer["picks"])
    assert answer["paper_model"]["base"] == "tf_efficientnet_b2" and answer["paper_model"]["latency_ms"] is None


def test_progress_is_a_line_every_ten_models_or_thirty_seconds_when_not_on_a_terminal(capsys) -> None:
    from bench.run import LineProgress

    clock = [0.0]
    progress = LineProgress(25, "measuring", clock=lambda: clock[0])
    for i in range(25):
        clock[0] += 2.0 if i < 20 else 40.0  # a fast stretch, then models slower than 30 s each
        progress.set_postfix_str(f"m{i}")
        progress.update()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "measuring: 10/25 models, 0m20s (last: m9)" and lines[1].startswith("measuring: 20/25")
    assert len(lines) == 7 and lines[-1] == "measuring: 25/25 models, 4m00s (last: m24)"


def _timed_store(tmp_path: Path, cvs: dict[str, tuple[float, float]]) -> tuple[Path, Path]:
    """A suite and a store of this machine's latency rows with the given (CV, CPU/wall ratio) per model."""
    from bench.measure.environment import environment, machine_fingerprint
    from bench.store.results import append_rows

    suite = tmp_path / "mini.yaml"
    models = ", ".join(f"{{model: {m}}}" for m in cvs)
    suite.write_text(f"name: mini\nmetrics: [complexity, latency]\nlatency: {{threads: 1}}\nmodels: [{models}]\n")
    machine = machine_fingerprint(environment())
    rows = [
        {
            "suite": "mini",
            "entry": m,
            "model": m,
            "base": m,
            "measurement": "latency",
            "workload_key": f"k{i}",
            "machine": machine,
            "device": "cpu",
            "threads": 1,
            "batch_size": 1,
            "input_size": 224,
            "latency_ms_p50": 10.0 + i,
            "throughput_ips": 100.0,
            "latency_cv": cv,
            "cpu_wall_ratio": ratio,
            "params": 2e6,
            "macs": 1e8,
            "activations": 1e6,
            "timestamp": "2026-12-06T00:00:00",
        }
        for i, (m, (cv, ratio)) in enumerate(cvs.items())
    ]
    results = tmp_path / "results.csv"
    append_rows(results, rows)
    return suite, results


def test_pick_marks_noisy_and_contended_rows_and_can_refuse_with_exit_3(tmp_path: Path, capsys, monkeypatch) -> None:
    import bench.commands.pick as pick_command

    monkeypatch.setattr(pick_command, "SHIPPED", tmp_path / "none")
    suite, results = _timed_store(tmp_path, {"lcnet_050": (0.02, 0.99), "mobilenetv2_050": (0.02, 0.45)})
    args = ["pick", "--latency-ms", "1000", "--no-measure", "--suite", str(suite), "--results", str(results)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "rests on 1 noisy or contended rows (mobilenetv2_050)" in out and "2.0%" in out
    assert main([*args, "--refuse-noisy"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "noisy or contended rows (mobilenetv2_050)" in err


def test_pick_retimes_only_the_shaky_rows_a_few_times(tmp_path: Path, capsys, monkeypatch) -> None:
    import bench.commands.pick as pick_command
    import bench.run
    from bench.commands.pick_timing import retime_shaky
    from bench.suites import load_suite

    monkeypatch.setattr(pick_command, "SHIPPED", tmp_path / "none")
    suite, results = _timed_store(tmp_path, {"lcnet_050": (0.30, 0.99), "mobilenetv2_050": (0.01, 0.99)})
    calls = []
    monkeypatch.setattr(bench.run, "run_suite", lambda s, *a, **k: calls.append(([e.name for e in s.entries], k)))
    args = pick_command.argparse.Namespace(results=results, retimes=2, pretrain="in1k")
    spec = load_suite(suite)
    assert retime_shaky(spec, args, None) == 2
    assert calls == [(["lcnet_050"], {"force": True})] * 2  # still noisy after both: left, and marked
    assert retime_shaky(spec, args, None, only={"mobilenetv2_050"}) == 0  # only the rows asked about
    assert "re-timing 1 noisy or contended rows (try 2 of 2)" in capsys.readouterr().err
