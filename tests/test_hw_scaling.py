"""Hardware-aware compound scaling (bench.scaling.hardware): the gamma search against synthetic latency laws,
the selection rules, the tables built from rows, and the stored paired readings."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from bench.scaling.hardware import (
    Grid,
    Reading,
    comparison_table,
    direction_angle,
    grid_table,
    paired_base_name,
    scaling_paths,
    search_grid,
    select,
    solve_gamma,
)
from bench.scaling.rules import PAPER_COEFFICIENTS, CompoundCoefficients


def law_timer(depth_exp: float = 1.0, width_exp: float = 2.0, size_exp: float = 2.0, base_ms: float = 10.0, log=None):
    """A noise-free latency law: ms = base * d^a * w^b * (px / 224)^c."""

    def timer(spec):
        if log is not None:
            log.append(spec.name)
        ms = base_ms * spec.depth**depth_exp * spec.width**width_exp * (spec.input_size / 224) ** size_exp
        return Reading(ms, base_ms)

    return timer


def test_flops_law_recovers_the_papers_gamma():
    # latency exactly proportional to d w^2 r^2: alpha 1.2, beta 1.1 need gamma = sqrt(2 / (1.2 * 1.21))
    found = solve_gamma("efficientnet_b0", 1.2, 1.1, target_ratio=2.0, timer=law_timer())
    exact = math.sqrt(2 / (1.2 * 1.1**2))
    assert found.status == "hit"
    assert abs(found.gamma - exact) <= 4 / 224  # within one 4 px step
    assert found.spec.input_size % 4 == 0
    assert (found.spec.depth, found.spec.width) == (1.2, 1.1)
    assert abs(found.ratio / 2.0 - 1) <= 0.05


def test_resolution_cheaper_than_flops_means_a_larger_gamma():
    # if latency grows only as r^1.5 here, the same doubling needs more pixels than the FLOPs law says
    flops = solve_gamma("efficientnet_b0", 1.2, 1.1, target_ratio=2.0, timer=law_timer())
    cheap = solve_gamma("efficientnet_b0", 1.2, 1.1, target_ratio=2.0, timer=law_timer(size_exp=1.5))
    assert cheap.gamma > flops.gamma + 0.02


def test_over_and_under():
    over = solve_gamma("efficientnet_b0", 1.4, 1.3, target_ratio=2.0, timer=law_timer())  # 1.4 * 1.69 = 2.37x
    assert over.status == "over" and over.gamma == 1.0 and over.probes == 1
    under = solve_gamma("efficientnet_b0", 1.0, 1.0, target_ratio=8.0, timer=law_timer(), grid=Grid(max_gamma=1.5))
    assert under.status == "under" and under.spec.input_size == 336
    assert not under.solved and not over.solved


def test_probes_are_bounded_under_noise():
    # readings that ignore the input size entirely: the search stops within max_probes, never loops
    calls: list[str] = []
    found = solve_gamma(
        "efficientnet_b0",
        1.0,
        1.0,
        target_ratio=2.0,
        timer=law_timer(size_exp=0.0, log=calls),
        grid=Grid(max_probes=4),
    )
    assert len(calls) == found.probes <= 4
    assert found.status == "under" or found.status == "noisy"


def test_out_of_order_readings_stop_at_the_closest():
    readings = {224: 1.5, 256: 2.3, 240: 1.4, 248: 2.6, 244: 1.45}

    def timer(spec):
        return Reading(10 * readings.get(spec.input_size, 3.0), 10.0)

    found = solve_gamma("efficientnet_b0", 1.0, 1.0, target_ratio=2.0, timer=timer)
    assert found.probes <= Grid().max_probes
    assert found.spec.input_size in readings
    assert found.ratio == min((readings[s] for s in readings), key=lambda r: abs(math.log(r / 2.0)))


def test_search_and_selection_rules():
    grid = Grid(alphas=(1.0, 1.2), betas=(1.0, 1.1))
    search = search_grid("efficientnet_b0", target_ratio=2.0, timer=law_timer(), grid=grid)
    assert len(search.candidates) == 4 and len(search.solved) == 4
    closest = select(search.candidates, "direction", macs=lambda spec: 0)
    assert (closest.alpha, closest.beta) == (1.2, 1.1)  # the paper's balance is on this grid
    assert direction_angle(closest.coefficients) < 5
    by_macs = select(search.candidates, "macs", macs=lambda spec: int(spec.width * 1e6))
    assert by_macs.beta == 1.1
    with pytest.raises(ValueError, match="unknown selection rule"):
        select(search.candidates, "accuracy", macs=lambda spec: 0)
    with pytest.raises(ValueError, match="no \\(alpha, beta\\)"):
        select([c for c in search.candidates if False], "direction", macs=lambda spec: 0)


def test_direction_angle():
    assert direction_angle(PAPER_COEFFICIENTS) == pytest.approx(0.0, abs=1e-6)
    assert direction_angle(CompoundCoefficients(1.2**2, 1.1**2, 1.15**2)) == pytest.approx(0.0, abs=1e-6)
    # pure resolution against the paper's direction: the angle of (0, 0, 1) to (log 1.2, log 1.1, log 1.15)
    paper = [math.log(1.2), math.log(1.1), math.log(1.15)]
    expected = math.degrees(math.acos(paper[2] / math.hypot(*paper)))
    assert direction_angle(CompoundCoefficients(1.0, 1.0, 1.3)) == pytest.approx(expected)
    assert direction_angle(CompoundCoefficients(1.0, 1.0, 1.0)) == 90.0


@pytest.mark.parametrize("bad", [{"alphas": ()}, {"betas": (0.9,)}, {"max_gamma": 1.0}, {"tolerance": 0.0}])
def test_grid_refuses_bad_values(bad):
    with pytest.raises(ValueError):
        Grid(**bad)


def test_search_refuses_a_ratio_out_of_range():
    with pytest.raises(ValueError, match="latency ratio"):
        search_grid("efficientnet_b0", target_ratio=1.0, timer=law_timer())


def test_paths_at_each_phi():
    chosen = CompoundCoefficients(1.2, 1.0, 1.3)
    flops, latency = scaling_paths("efficientnet_b0", chosen, (1, 2, 3))
    assert [s.name for s in flops.specs] == ["flops-phi1", "flops-phi2", "flops-phi3"]
    assert flops.specs[1].depth == pytest.approx(1.44) and flops.specs[1].width == pytest.approx(1.21)
    assert latency.specs[2].width == 1.0 and latency.specs[2].input_size == round(224 * 1.3**3 / 4) * 4


def _row(entry, *, depth=1.0, width=1.0, resolution=1.0, size=224, phi=None, ms=10.0, macs=1e8, params=5e6):
    return {
        "entry": entry,
        "depth": depth,
        "width": width,
        "resolution": resolution,
        "input_size": size,
        "phi": phi,
        "latency_ms_p50": ms,
        "macs": macs,
        "params": params,
    }


def test_grid_table_pairs_each_reading_with_its_own_base():
    rows = pd.DataFrame(
        [
            _row("n1", depth=1.2, width=1.1, resolution=1.0, phi=1.0, ms=15.0),
            _row(paired_base_name("n1"), ms=10.0),
            _row("n2", depth=1.2, width=1.1, resolution=1.25, size=280, phi=1.0, ms=21.0, macs=2e8),
            _row(paired_base_name("n2"), ms=10.0),
            _row("n3", depth=1.0, width=1.0, resolution=1.43, size=320, phi=1.0, ms=40.0),
            _row(paired_base_name("n3"), ms=20.0),  # drifted base: the ratio is 2.0, not 4.0
            _row("orphan", depth=1.4, width=1.0, phi=1.0, ms=20.0),  # no base reading: left out
        ]
    )
    table = grid_table(rows, 2.0).set_index(["alpha", "beta"])
    assert len(table) == 2
    assert table.loc[(1.2, 1.1), "input_size"] == 280 and table.loc[(1.2, 1.1), "latency_x"] == pytest.approx(2.1)
    assert table.loc[(1.2, 1.1), "sizes_timed"] == 2
    assert table.loc[(1.0, 1.0), "latency_x"] == pytest.approx(2.0)
    assert table.loc[(1.2, 1.1), "macs_growth"] == pytest.approx(1.2 * 1.21 * 1.25**2)


def test_comparison_table():
    rows = pd.DataFrame(
        [
            _row("base", ms=20.0, macs=4e8),
            _row("flops-phi1", depth=1.2, width=1.1, size=256, phi=1.0, ms=38.0, macs=8.6e8),
            _row("latency-phi1", depth=1.2, width=1.0, size=280, phi=1.0, ms=40.0, macs=9.2e8),
        ]
    )
    table = comparison_table(rows)
    assert list(table["path"]) == ["flops", "latency"]
    assert table.loc[0, "latency_x"] == pytest.approx(1.9) and table.loc[1, "macs_x"] == pytest.approx(2.3)
    assert comparison_table(rows[rows["entry"] != "base"]).empty


def test_paired_readings_are_stored_and_read_back(tmp_path):
    from bench.models.registry import make_spec
    from bench.scaling.paired_timer import PairedTimer
    from bench.specs import LatencyConditions
    from bench.store.count_cache import ComplexityCache
    from bench.store.results import read_results

    results = tmp_path / "results.csv"
    quick = LatencyConditions(warmup_iterations=0, min_iterations=2, min_time_s=0.0)
    base = make_spec("resnet18", input_size=32)
    wider = make_spec("resnet18", width=1.5, input_size=32)
    counts = ComplexityCache(None)
    timer = PairedTimer(results, "hw_scaling_x2", base, quick, counts, rounds=2)
    first = timer(wider)
    assert timer.measured == 1 and first.ms > 0 and first.base_ms > 0
    rows = read_results(results)
    assert sorted(rows["entry"]) == sorted([wider.name, paired_base_name(wider.name)])
    assert set(rows["iterations"]) == {4}  # two rounds of two forwards each, pooled
    again = PairedTimer(results, "hw_scaling_x2", base, quick, counts, rounds=2)
    assert again(wider) == first and again.measured == 0  # read back, not timed
    other = PairedTimer(results, "hw_scaling_x2", base, LatencyConditions(threads=2, min_time_s=0.0), counts)
    assert other._key(wider) != again._key(wider)  # other conditions are another reading


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["scale", "--latency-ratio", "0.5"], "--latency-ratio must lie in (1, 16]"),
        (["scale", "vit_tiny_patch16_224", "--latency-ratio", "2"], "vit_tiny_patch16_224"),
        (["scale", "--latency-ratio", "2", "--alphas", "0.8"], "alpha values must lie in [1, 4]"),
        (["scale", "--latency-ratio", "2", "--max-gamma", "9"], "max_gamma must lie in (1, 4]"),
    ],
)
def test_scale_refuses_bad_input_in_one_line(argv, says, tmp_path, capsys):
    from bench.cli import EXIT_INPUT_ERROR, main

    assert main([*argv, "--results", str(tmp_path / "r.csv")]) == EXIT_INPUT_ERROR
    err = capsys.readouterr().err
    assert says in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r.csv").exists()
