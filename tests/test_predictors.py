"""Which cost metric predicts runtime: rank correlation, log-log fit and mis-rankings, on hand-made points."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from bench.zoo.predictors import family, loglog_r2, misrankings, rank_table, spearman


def test_spearman_and_r2_on_hand_computed_cases() -> None:
    x = pd.Series([1.0, 2.0, 3.0, 4.0])
    assert spearman(x, x**2) == pytest.approx(1.0) and spearman(x, -x) == pytest.approx(-1.0)
    assert spearman(x, pd.Series([1.0, 3.0, 2.0, 4.0])) == pytest.approx(0.8)  # 1 - 6*2/(4*15)
    assert loglog_r2(x, 3 * x**1.5) == pytest.approx(1.0)
    assert math.isnan(loglog_r2(x[:2], x[:2]))


def test_family_names() -> None:
    assert [
        family(n) for n in ("resnet50", "tf_efficientnet_b3", "mobilenetv3_large_100", "vit_small_patch16_224")
    ] == [
        "resnet",
        "efficientnet",
        "mobilenetv",
        "vit",
    ]


def _points() -> pd.DataFrame:
    # latency follows activations exactly; MACs mis-rank the depthwise-heavy net
    rows = [
        ("resnet18", 11.7, 1.8, 2.5, 25.0),
        ("resnet34", 21.8, 3.6, 3.7, 37.0),
        ("resnet50", 25.6, 4.1, 11.1, 111.0),
        ("mobilenetv2_100", 3.5, 0.3, 6.7, 67.0),
        ("mobilenetv2_140", 6.1, 0.6, 9.0, 90.0),
        ("mobilenetv2_050", 2.0, 0.1, 3.0, 30.0),
    ]
    return pd.DataFrame(rows, columns=["base", "params_m", "macs_g", "activations_m", "latency_ms"])


def test_the_table_finds_the_metric_that_ranks_runtime_and_names_the_worst_misranking() -> None:
    table = rank_table(_points()).set_index("family")
    assert table.loc["all", "rho_activations"] == pytest.approx(1.0) and table.loc["all", "r2_activations"] == 1.0
    assert table.loc["all", "rho_MACs"] < table.loc["all", "rho_activations"]
    assert set(table.index) == {"all", "resnet", "mobilenetv"} and table.loc["resnet", "n"] == 3
    worst = misrankings(_points(), "macs_g", top=1)
    assert worst == ["mobilenetv2_100 has 12.0x fewer MACs than resnet34 but is 1.8x slower here (67.0 vs 37.0 ms)"]
    assert misrankings(_points(), "activations_m") == []


def test_the_difference_of_rank_correlations_has_a_bootstrap_interval() -> None:
    import numpy as np

    from bench.zoo.predictors import rho_difference

    rng = np.random.default_rng(1)
    n = 60
    acts = rng.uniform(1, 100, n)
    points = pd.DataFrame({"activations_m": acts, "macs_g": acts * rng.uniform(0.3, 3.0, n), "latency_ms": acts * 1.5})
    diff, low, high = rho_difference(points, "activations_m", "macs_g", draws=500)
    assert diff == pytest.approx(1 - spearman(points["macs_g"], points["latency_ms"]))
    assert 0 < low <= diff <= high  # activations rank runtime exactly, MACs only roughly
    same = rho_difference(points, "activations_m", "activations_m", draws=200)
    assert same == (0.0, 0.0, 0.0)


def test_the_activations_claim_waits_for_the_zoo_and_judges_by_the_interval() -> None:
    from bench.report.claims import activations_claim
    from bench.store.results import COLUMNS

    claim = activations_claim(pd.DataFrame(columns=COLUMNS))
    assert claim["verdict"] == "inconclusive" and "bench pick" in claim["evidence"] and claim["claim"] == "D1"


def test_suite_points_join_latency_and_the_largest_batch() -> None:
    from bench.zoo.predictors import suite_points

    def row(entry, measurement, batch, ms, machine="m1"):
        return {
            "suite": "scaled",
            "entry": entry,
            "measurement": measurement,
            "machine": machine,
            "base": "resnet18",
            "family": "resnet",
            "method": "width",
            "params": 2e6,
            "macs": 3e9,
            "activations": 4e6,
            "batch_size": batch,
            "latency_ms_p50": ms,
        }

    results = pd.DataFrame(
        [
            row("a", "latency", 1, 10.0),
            row("a", "throughput", 4, 30.0),
            row("a", "throughput", 8, 56.0),
            row("b", "latency", 1, 20.0),
            row("c", "latency", 1, 99.0, machine="m2"),  # another machine: left out
        ]
    )
    points = suite_points(results, "scaled", "m1").set_index("entry")
    assert list(points.index) == ["a", "b"]
    assert points.loc["a", "ms_per_image"] == 7.0 and points.loc["a", "batch"] == 8
    assert math.isnan(points.loc["b", "ms_per_image"])
    assert points.loc["a", "macs_g"] == 3.0 and points.loc["a", "family"] == "resnet"


def test_the_scaled_activations_claim_reads_the_scaled_suite() -> None:
    import numpy as np

    from bench.report.claims import activations_scaled_claim
    from bench.store.results import COLUMNS

    assert (
        "bench run suites/scaled_cost_cpu.yaml" in activations_scaled_claim(pd.DataFrame(columns=COLUMNS))["evidence"]
    )
    rng = np.random.default_rng(3)
    macs = rng.uniform(1e8, 1e10, 30)
    rows = pd.DataFrame(
        {
            "suite": "scaled_cost_cpu",
            "entry": [f"n{i}" for i in range(30)],
            "measurement": "latency",
            "machine": "m1",
            "base": "resnet18",
            "family": "resnet",
            "method": "width",
            "params": 1e6,
            "macs": macs,
            "activations": rng.uniform(1e6, 1e8, 30),  # unrelated to runtime
            "latency_ms_p50": macs / 1e8,  # runtime exactly proportional to MACs
            "device": "cpu",
            "batch_size": 1,
            "threads": 1,
        }
    ).reindex(columns=list(COLUMNS))
    claim = activations_scaled_claim(rows)
    assert claim["claim"] == "D1b" and claim["verdict"] == "not reproduced"
    assert "30 models" in claim["evidence"] and "MACs 1.00" in claim["evidence"]
