"""The report: Pareto frontier, claim verdicts, frames, and whole reports from hand-made tables."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.report import claims, figures, frames, tables
from bench.report.__main__ import main as report_main
from bench.report.build import _latency_points, build_report
from bench.report.stats import Sample
from bench.store.results import COLUMNS, append_rows
from bench.zoo.pareto import frontier, pareto_mask

ENV = {
    "timestamp": "2026-11-24T00:00:00",
    "git_commit": "abc",
    "cpu": "test cpu",
    "cpu_count": 2,
    "gpu": None,
    "torch_threads": 2,
    "python": "3.11",
    "torch": "2.14.1",
    "timm": "1.0.31",
    "platform": "linux",
}


def test_pareto_mask_on_hand_made_points() -> None:
    costs = [1, 2, 2, 3, 4, 4, 5, float("nan")]
    accs = [70, 75, 74, 75, 80, 80, 79, 99]
    #        on  on  dominated by (2,75)  dominated by (2,75): same acc, costs more
    #        (4,80) twice: identical points do not dominate each other; (5,79) dominated; NaN never
    assert pareto_mask(costs, accs) == [True, True, False, False, True, True, False, False]
    assert frontier(costs, accs) == [(1.0, 70.0), (2.0, 75.0), (4.0, 80.0)]


def test_pareto_edge_cases() -> None:
    assert pareto_mask([], []) == []
    assert pareto_mask([3], [50]) == [True]
    assert pareto_mask([1, 1], [60, 70]) == [False, True]  # same cost: the more accurate wins
    with pytest.raises(ValueError):
        pareto_mask([1, 2], [1])


def _row(**values) -> dict:
    base = {
        "suite": "s",
        "entry": "e",
        "measurement": "complexity",
        "workload_key": values.get("entry", "e"),
        "timestamp": "2026-11-24T00:00:00",
        "cpu": "test cpu",
    }
    return {**base, **values}


def _budget(images: int) -> str:
    return json.dumps(
        {
            "dataset": "fashion_mnist",
            "base_resolution": 28,
            "train_images": images,
            "epochs": 2,
            "batch_size": 128,
            "optimizer": "adamw",
            "lr": 0.003,
            "label_smoothing": 0.1,
            "augment": True,
            "device": "cpu",
        }
    )


def _accuracy(
    suite: str,
    entry: str,
    method: str,
    macs: float,
    top1: float,
    std: float,
    match_of: str | None = None,
    budget: str = _budget(8000),
    **spec,
) -> dict:
    return _row(
        suite=suite,
        entry=entry,
        measurement="accuracy",
        workload_key=f"{entry}-{budget[-30:]}",
        method=method,
        macs=macs,
        params=1e6,
        top1=top1,
        top1_std=std,
        n_seeds=3,
        seeds="0 1 2",
        match_of=match_of,
        accuracy_source="measured",
        budget=budget,
        dataset="fashion_mnist",
        epochs=2,
        **spec,
    )


def _hand_made_results() -> pd.DataFrame:
    rows = [
        _row(
            suite="paper_table2",
            entry="efficientnet_b0",
            model="efficientnet_b0",
            paper_ref="table2/efficientnet-b0",
            params=5.29e6,
            macs=0.386e9,
            input_size=224,
        ),
        _row(
            suite="paper_table2",
            entry="resnet50",
            model="resnet50",
            paper_ref="table2/resnet-50",
            params=25.6e6,
            macs=4.09e9,
            input_size=224,
        ),
        _row(
            suite="paper_table2",
            entry="efficientnet_b0",
            model="efficientnet_b0",
            measurement="latency",
            workload_key="lat-b0",
            paper_ref="table2/efficientnet-b0",
            params=5.29e6,
            macs=0.386e9,
            latency_ms_p50=50.0,
            threads=1,
            batch_size=1,
            device="cpu",
            input_size=224,
        ),
        _row(
            suite="paper_table2",
            entry="resnet50",
            model="resnet50",
            measurement="latency",
            workload_key="lat-r50",
            paper_ref="table2/resnet-50",
            params=25.6e6,
            macs=4.09e9,
            latency_ms_p50=200.0,
            threads=1,
            batch_size=1,
            device="cpu",
            input_size=224,
        ),
        # Fig. 8 proxy: compound clearly ahead of every single dimension
        _accuracy("proxy_fig8_table7", "efficientnet_b0", "baseline", 8e6, 70.0, 0.5, width=1, depth=1, resolution=1),
        _accuracy(
            "proxy_fig8_table7", "b0-compound", "compound", 52e6, 80.0, 0.4, width=1.2, depth=1.4, resolution=1.3
        ),
        _accuracy(
            "proxy_fig8_table7", "b0-w", "width", 52e6, 76.0, 0.4, "b0-compound", width=2.2, depth=1, resolution=1
        ),
        _accuracy("proxy_fig8_table7", "b0-d", "depth", 51e6, 75.0, 0.4, "b0-compound", width=1, depth=6, resolution=1),
        # an older, different budget of the same suite must not be mixed in
        _accuracy(
            "proxy_fig8_table7",
            "b0-r",
            "resolution",
            52e6,
            99.0,
            0.1,
            "b0-compound",
            budget=_budget(2200),
            width=1,
            depth=1,
            resolution=2.4,
            timestamp="2026-01-01T00:00:00",
        ),
        # Table 3 proxy: a single dimension clearly ahead of compound for MobileNetV1
        _accuracy("proxy_table3", "mobilenetv1-compound", "compound", 96e6, 70.0, 0.3, base="mobilenetv1_100"),
        _accuracy("proxy_table3", "mnv1-w", "width", 96e6, 75.0, 0.3, "mobilenetv1-compound", base="mobilenetv1_100"),
    ]
    return pd.DataFrame(rows).reindex(columns=list(COLUMNS))


def test_frames_keep_the_newest_budget_and_latest_rows() -> None:
    results = _hand_made_results()
    fig8 = frames.measured_accuracy(results, "proxy_fig8_table7")
    assert set(fig8["entry"]) == {"efficientnet_b0", "b0-compound", "b0-w", "b0-d"}
    doubled = pd.concat([results, results.iloc[[0]].assign(params=1.0, timestamp="2027-01-01")])
    assert frames.latest(doubled).query("entry == 'efficientnet_b0' and measurement == 'complexity'")[
        "params"
    ].tolist() == [1.0]


def test_claims_from_hand_made_rows() -> None:
    table = claims.claims_table(_hand_made_results()).set_index("statement")
    verdicts = dict(zip(table.index, table["verdict"]))
    fig8 = next(v for k, v in verdicts.items() if k.startswith("B0: compound"))
    mnv1 = next(v for k, v in verdicts.items() if k.startswith("MobileNetV1"))
    mnv2 = next(v for k, v in verdicts.items() if k.startswith("MobileNetV2"))
    b0_r50 = next(k for k in verdicts if k.startswith("B0 matches ResNet-50"))
    assert (fig8, mnv1, mnv2) == (claims.REPRODUCED, claims.NOT_REPRODUCED, claims.INCONCLUSIVE)
    assert verdicts[b0_r50] == claims.REPRODUCED and "params 4.8x" in table.loc[b0_r50, "evidence"]
    assert "paper_table7" in table.loc[next(k for k in verdicts if k.startswith("FLOPs grow")), "evidence"]


def test_report_from_partial_rows_writes_every_artifact(tmp_path: Path) -> None:
    report = build_report(_hand_made_results(), tmp_path, ENV)
    stems = [f.stem for f in report.figures]
    assert stems == [
        "fig1_accuracy_vs_params",
        "fig5_accuracy_vs_macs",
        "fig_accuracy_vs_cpu_latency",
        "fig8_proxy_compound_vs_single",
        "table3_proxy_networks",
    ]
    for stem in stems:
        assert (tmp_path / f"{stem}.png").stat().st_size > 10_000 and (tmp_path / f"{stem}.svg").exists()
    for table in report.tables:
        assert (tmp_path / f"{table.name}.csv").exists() and (tmp_path / f"{table.name}.md").exists()
    page = (tmp_path / "index.html").read_text()
    assert all(f'src="{stem}.png"' in page for stem in stems)
    assert "http" not in page  # opens from disk: no network
    assert "python -m bench run suites/proxy_fig3_single_dim.yaml" in page  # says what is missing and how
    table2 = pd.read_csv(tmp_path / "table2.csv")
    b0 = table2[table2["model"] == "EfficientNet-B0"].iloc[0]
    assert b0["macs_delta"] == "-1.0%" and b0["top1_reported"] == 77.1


def test_an_included_store_that_is_not_there_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the default store, reports/results.csv, is not there: that is allowed
    args = ["--no-measure", "--include", str(tmp_path / "nothere.csv"), "--out", str(tmp_path / "out")]
    assert report_main(args) == 2
    assert "--include: no such results store" in capsys.readouterr().err


def test_a_results_store_named_that_is_not_there_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A store named with --no-measure must exist: the report was built from the shipped rows alone, exit 0."""
    missing = tmp_path / "nonexistent.csv"
    assert report_main(["--no-measure", "--results", str(missing), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == f"error: no such results store: {missing}\n"
    assert not (tmp_path / "out").exists()


def test_empty_results_give_a_report_that_says_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a fresh clone: no reports/results.csv yet
    code = report_main(["--no-measure", "--include", "--out", str(tmp_path / "out")])
    assert code == 0
    out = capsys.readouterr().out
    assert "missing: Table 2 counts" in out and "python -m bench run suites/paper_table2.yaml" in out
    page = (tmp_path / "out" / "index.html").read_text()
    assert "Not in this report yet" in page and "<img" not in page
    claims_csv = pd.read_csv(tmp_path / "out" / "claims.csv")
    assert set(claims_csv["verdict"]) == {claims.INCONCLUSIVE}


def test_report_measures_a_chosen_suite_first(tmp_path: Path) -> None:
    results = tmp_path / "results.csv"
    assert (
        report_main(
            ["--suites", "smoke", "--include", "--results", str(results), "--out", str(tmp_path / "out"), "--quiet"]
        )
        == 0
    )
    stored = pd.read_csv(results)
    assert set(stored["suite"]) == {"smoke"} and (tmp_path / "out" / "index.html").exists()


def test_report_input_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert report_main(["--suites", "no_such_suite", "--results", str(tmp_path / "r.csv")]) == 2
    assert capsys.readouterr().err.startswith("error:")
    assert report_main(["--no-measure", "--results", str(tmp_path / "r.xlsx")]) == 2


def test_appended_rows_round_trip_into_a_report(tmp_path: Path) -> None:
    results = tmp_path / "results.csv"
    append_rows(results, _hand_made_results().to_dict("records"))
    empty = tmp_path / "empty.csv"  # a store with no rows (the rows reported come from --include)
    empty.write_text("suite,entry,measurement,workload_key\n")
    assert (
        report_main(
            [
                "--no-measure",
                "--include",
                "--results",
                str(empty),
                "--include",
                str(results),
                "--out",
                str(tmp_path / "out"),
                "--quiet",
            ]
        )
        == 0
    )
    assert (tmp_path / "out" / "fig8_proxy_compound_vs_single.png").exists()  # rows read from --include


def test_export_copies_rows_with_every_column(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from bench.cli import main as bench_main
    from bench.store.results import read_results

    source = tmp_path / "results.csv"
    append_rows(source, _hand_made_results().to_dict("records"))
    target = tmp_path / "measured" / "proxy.csv"
    no_suites = ["--suites-dir", str(tmp_path / "none")]
    assert (
        bench_main(["export", str(target), "--suite", "proxy_fig8_table7", "--results", str(source), *no_suites]) == 0
    )
    copied = read_results(target)
    assert len(copied) == 4 and set(copied["accuracy_source"]) == {"measured"}  # the 2,200-image row left out
    assert list(copied.columns) == list(read_results(source).columns)
    assert (
        bench_main(["export", str(target), "--all-budgets", "--suite", "proxy_fig8_table7", "--results", str(source)])
        == 0
    )
    assert len(read_results(target)) == 5
    assert bench_main(["export", str(target), "--suite", "no_such_suite", "--results", str(source)]) == 2
    # An entry the suite file no longer has (b0-d here) is left out too.
    (tmp_path / "suites").mkdir()
    (tmp_path / "suites" / "proxy_fig8_table7.yaml").write_text(
        "name: proxy_fig8_table7\nmetrics: [complexity]\nmodels:\n  - {model: efficientnet_b0}\n"
        "  - {model: efficientnet_b0, name: b0-compound, scale: {d: 1.4, w: 1.2, r: 1.3}}\n"
        "  - {model: efficientnet_b0, name: b0-w, scale: {w: 2.2}}\n"
    )
    current = tmp_path / "current.csv"
    assert (
        bench_main(
            [
                "export",
                str(current),
                "--suite",
                "proxy_fig8_table7",
                "--results",
                str(source),
                "--suites-dir",
                str(tmp_path / "suites"),
            ]
        )
        == 0
    )
    assert sorted(read_results(current)["entry"]) == ["b0-compound", "b0-w", "efficientnet_b0"]
    assert "1 rows of entries no longer in" in capsys.readouterr().out


def test_proxy_table_groups_rows_by_base_network() -> None:
    rows = pd.DataFrame(
        [
            _accuracy("proxy_table3", "r18", "baseline", 33e6, 70.0, 0.3, base="resnet18"),
            _accuracy("proxy_table3", "mnv2", "baseline", 6e6, 71.0, 0.3, base="mobilenetv2_100"),
            _accuracy("proxy_table3", "r18-c", "compound", 78e6, 72.0, 0.3, base="resnet18"),
            _accuracy("proxy_table3", "mnv2-c", "compound", 16e6, 73.0, 0.3, base="mobilenetv2_100"),
        ]
    ).reindex(columns=list(COLUMNS))
    shown = tables.proxy_table(rows, "proxy_table3", "t").frame
    assert shown["entry"].tolist() == ["mnv2", "mnv2-c", "r18", "r18-c"]
    assert "reused_from" not in shown  # shown only where a row copies another suite's training
    rows["reused_from"] = [("proxy_other/resnet18" if e == "r18" else None) for e in rows["entry"]]
    shown = tables.proxy_table(rows, "proxy_table3", "t").frame.set_index("entry")
    assert shown.loc["r18", "reused_from"] == "proxy_other/resnet18" and shown["reused_from"].notna().sum() == 1


def _fig3(top1_by_method: dict[str, list[float]], std: float = 0.3) -> pd.DataFrame:
    """Figure 3 rows: a shared baseline at 8M MACs, then each method at 16, 32, 64 and 128M."""
    rows = [_accuracy("proxy_fig3_single_dim", "b0", "baseline", 8e6, 70.0, std)]
    for method, values in top1_by_method.items():
        rows += [
            _accuracy("proxy_fig3_single_dim", f"{method}{i}", method, 8e6 * 2 ** (i + 1), v, std)
            for i, v in enumerate(values)
        ]
    return pd.DataFrame(rows).reindex(columns=list(COLUMNS))


def test_curvature_recovers_a_quadratic_and_scales_its_error_with_the_noise() -> None:
    x = [0.0, 1.0, 2.0, 3.0, 4.0]
    means = [70 + 3 * v - 0.5 * v * v for v in x]
    quiet = claims.curvature_test(x, [Sample(m, 0.1, 5) for m in means])
    loud = claims.curvature_test(x, [Sample(m, 0.2, 5) for m in means])
    assert quiet.diff == pytest.approx(-0.5) and loud.diff == pytest.approx(-0.5)
    assert loud.se == pytest.approx(2 * quiet.se) and quiet.se > 0
    # weights of the x^2 coefficient at x = 0..4: (2, -1, -2, -1, 2) / 14, so Welch-Satterthwaite gives
    # (sum w^2)^2 / sum(w^4 / 4) = (14 / 196)^2 / (50 / 196^2 / 4) = 15.68, not the pooled 20
    assert quiet.df == pytest.approx(15.68)


def test_saturation_is_judged_per_doubling_of_macs() -> None:
    saturating = [74.0, 76.5, 77.5, 77.8]  # gains 4, 2.5, 1, 0.3 per doubling
    log_linear = [72.0, 74.0, 76.0, 78.0]  # 2 per doubling throughout: less per MAC, but no saturation
    convex = [70.5, 71.5, 73.5, 77.0]
    verdict = lambda curves: claims.saturation_claim(_fig3(curves))["verdict"]  # noqa: E731
    assert verdict({"width": saturating, "depth": saturating, "resolution": saturating}) == claims.REPRODUCED
    assert verdict({"width": saturating, "depth": log_linear, "resolution": saturating}) == claims.INCONCLUSIVE
    assert verdict({"width": saturating, "depth": convex, "resolution": saturating}) == claims.NOT_REPRODUCED
    noisy = claims.saturation_claim(_fig3({"width": saturating}, std=5.0))
    assert noisy["verdict"] == claims.INCONCLUSIVE and "width +" in noisy["evidence"]
    spread_unknown = _fig3({"width": saturating, "depth": saturating, "resolution": saturating}, std=0.0)
    assert claims.saturation_claim(spread_unknown)["verdict"] == claims.INCONCLUSIVE  # no seed noise to judge by


def _grid(paper: float, resolved: float, n_seeds: int = 3) -> pd.DataFrame:
    """A grid-search suite's rows, methods as the planner labels them: the paper's point, the paper's
    split re-solved to 2x, two other depth/width splits (``compound`` too) and the two corners."""
    rows = [
        _accuracy(
            "proxy_grid_search", "grid-paper", "compound", 14.6e6, paper, 0.3, depth=1.2, width=1.1, input_size=32
        ),
        _accuracy(
            "proxy_grid_search",
            "grid-a1.2-b1.11-32px",
            "compound",
            15.3e6,
            resolved,
            0.3,
            depth=1.2,
            width=1.11,
            input_size=32,
        ),
        _accuracy(
            "proxy_grid_search",
            "grid-a1.4-b1.1-28px",
            "compound",
            15.9e6,
            80.0,
            0.3,
            depth=1.4,
            width=1.1,
            input_size=28,
        ),
        _accuracy(
            "proxy_grid_search", "grid-a1-b1.44-28px", "width", 15.8e6, 78.0, 0.3, depth=1.0, width=1.44, input_size=28
        ),
        _accuracy(
            "proxy_grid_search", "grid-a1.8-b1-28px", "depth", 16.6e6, 78.5, 0.3, depth=1.8, width=1.0, input_size=28
        ),
    ]
    frame = pd.DataFrame(rows).reindex(columns=list(COLUMNS))
    frame["n_seeds"] = n_seeds
    return frame


def test_grid_search_claim_needs_a_corrected_win_over_every_alternative() -> None:
    verdict = lambda paper, resolved, n=3: claims.grid_search_claim(_grid(paper, resolved, n))["verdict"]  # noqa: E731
    beaten = claims.grid_search_claim(_grid(77.0, 77.2))
    assert beaten["verdict"] == claims.NOT_REPRODUCED  # grid-a1.4-b1.1-28px's 80.0 is far ahead
    assert "paper's split grid-paper 77.00+-0.30 (14.6M MACs)" in beaten["evidence"]
    assert "vs grid-a1.4-b1.1-28px 80.00+-0.30" in beaten["evidence"] and "Holm" in beaten["evidence"]
    assert verdict(83.0, 77.0) == claims.REPRODUCED  # far ahead of all four
    # 1 pt ahead of the runner-up (t = 4.1, 4 df): p = 0.015, the last Holm step, kept at 1 x p
    assert verdict(81.0, 77.0) == claims.REPRODUCED
    assert verdict(80.6, 77.0) == claims.INCONCLUSIVE  # 0.6 pt ahead: t = 2.45, p = 0.07
    assert verdict(79.8, 77.0) == claims.INCONCLUSIVE  # a tie within noise
    assert verdict(83.0, 77.0, n=1) == claims.INCONCLUSIVE  # one seed: no noise estimate
    screened = _grid(83.0, 77.0)
    screened.loc[screened["entry"] == "grid-a1.8-b1-28px", "n_seeds"] = 1  # a point of the one-seed screen
    claim = claims.grid_search_claim(screened)
    assert (
        claim["verdict"] == claims.REPRODUCED
        and "screened with one seed, not tested: grid-a1.8-b1-28px" in claim["evidence"]
    )


def _screened_grid(leader: list[float]) -> pd.DataFrame:
    """A grid after a one-seed screen (seed 0) and a confirmation: the paper's point at 77.0 +- 0.1 over
    seeds 0-2, one leader with ``leader`` on seeds 0-2, the other points seed 0 only."""
    frame = _grid(77.0, 76.0)
    frame["n_seeds"], frame["seeds"] = 1, "0"
    frame["top1_per_seed"] = frame["top1"].map(lambda v: f"{v:g}")
    frame["top1_std"] = 0.0
    for entry, values in {"grid-paper": [77.0, 77.1, 76.9], "grid-a1.4-b1.1-28px": leader}.items():
        at = frame["entry"] == entry
        frame.loc[at, ["top1", "top1_std", "n_seeds", "seeds", "top1_per_seed"]] = [
            float(np.mean(values)),
            float(np.std(values, ddof=1)),
            3,
            "0 1 2",
            " ".join(f"{v:g}" for v in values),
        ]
    return frame


def test_grid_search_verdict_must_hold_without_the_screen_seed() -> None:
    # the leader was picked on seed 0: a verdict stands only if seeds 1-2 alone agree
    clear = claims.grid_search_claim(_screened_grid([80.0, 79.9, 80.1]))
    assert clear["verdict"] == claims.NOT_REPRODUCED
    assert "without the screen's seed 0 (the leaders were picked on it): vs grid-a1.4-b1.1-28px -" in clear["evidence"]
    # seeds 0-2: 78.63 +- 0.55, p = 0.032 (not reproduced); seeds 1-2: 78.45 +- 0.64 on 1 df, p = 0.19
    lucky = claims.grid_search_claim(_screened_grid([79.0, 78.0, 78.9]))
    assert lucky["verdict"] == claims.INCONCLUSIVE
    assert "the verdict (not reproduced) does not hold without them" in lucky["evidence"]
    assert claims.per_seed_top1({"seeds": "0 1 2", "top1_per_seed": "77 77.1"}) == {}  # do not pair up
    assert claims.per_seed_top1({"seeds": "0.0", "top1_per_seed": "89.64"}) == {0: 89.64}  # older rows: "0.0"


def test_grid_search_figure_stars_only_the_papers_point(tmp_path: Path) -> None:
    report = build_report(_grid(79.8, 79.0), tmp_path, ENV)
    assert [f.stem for f in report.figures] == ["grid_search_proxy"] and (tmp_path / "grid_search_proxy.png").exists()
    fig = figures.grid_search(frames.measured_accuracy(_grid(79.8, 79.0), "proxy_grid_search"), "grid-paper")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert sum(label.startswith("paper's") for label in labels) == 1 and "14.6M MACs" in labels[-1]
    # one line per depth, four of them: every point of the grid is drawn (a fixed style list once dropped
    # every line past the third)
    assert [label for label in labels if not label.startswith("paper's")] == [
        f"d={d} (measured)" for d in ("1", "1.2", "1.4", "1.8")
    ]
    drawn = sorted((x, y) for line in fig.axes[0].get_lines() for x, y in line.get_xydata() if line.get_marker() == "o")
    assert drawn == [(28.0, 78.0), (28.0, 78.5), (28.0, 80.0), (32.0, 79.0)]


def _curve(gains: dict[str, list[float]]) -> pd.DataFrame:
    """A learning-curve suite's rows: each entry at 4, 8, 16 epochs with the given top-1s."""
    rows = []
    for entry, values in gains.items():
        for epochs, top1 in zip((4, 8, 16), values):
            budget = json.dumps(
                {
                    "dataset": "fashion_mnist",
                    "base_resolution": 14,
                    "train_images": None,
                    "epochs": epochs,
                    "batch_size": 256,
                    "optimizer": "adamw",
                    "lr": 0.003,
                    "label_smoothing": 0.1,
                    "augment": False,
                    "device": "cpu",
                }
            )
            rows.append(
                _row(
                    suite="proxy_learning_curve",
                    entry=entry,
                    measurement="accuracy",
                    workload_key=f"{entry}-{epochs}",
                    method="baseline",
                    macs=4e6,
                    params=4e6,
                    top1=top1,
                    top1_std=float("nan"),
                    n_seeds=1,
                    accuracy_source="measured",
                    budget=budget,
                    epochs=epochs,
                    dataset="fashion_mnist",
                )
            )
    return pd.DataFrame(rows).reindex(columns=list(COLUMNS))


@pytest.mark.parametrize(
    "b0, compound, chosen",
    [
        ([88.0, 89.0, 89.4], [88.5, 89.9, 90.3], 8),  # 4 -> 8 gains 1.0 / 1.4; 8 -> 16 gains 0.4 / 0.4
        ([88.0, 88.4, 89.4], [88.5, 88.9, 90.3], 4),  # 4 -> 8 gains 0.4 / 0.4: E = 4 already
        ([88.0, 89.0, 89.4], [88.5, 89.0, 90.3], None),  # the compound model still gains 1.3 from 8 to 16
    ],
)
def test_the_budget_is_the_smallest_e_whose_doubling_gains_half_a_point(b0, compound, chosen) -> None:
    curve = frames.learning_curve(_curve({"efficientnet_b0": b0, "b0-compound": compound}))
    assert len(curve) == 6  # every epoch count of the one budget family stays
    assert frames.chosen_epochs(curve) == chosen
    table = tables.learning_curve_table(_curve({"efficientnet_b0": b0, "b0-compound": compound}))
    assert (f"is {chosen}" if chosen else "no E measured here") in table.caption


def test_learning_curve_figure_and_table_in_the_report(tmp_path: Path) -> None:
    report = build_report(_curve({"efficientnet_b0": [88.0, 89.0, 89.4]}), tmp_path, ENV)
    assert "proxy_learning_curve" in [f.stem for f in report.figures]
    assert (tmp_path / "learning_curve.md").exists()


def test_error_bars_are_95_percent_t_intervals() -> None:
    rows = pd.DataFrame([{"top1": 90.0, "top1_std": 0.5, "n_seeds": 5}, {"top1": 90.0, "top1_std": 0.5, "n_seeds": 1}])
    # t_0.975(4) = 2.7764; 2.7764 * 0.5 / sqrt(5) = 0.6208; one seed: no interval (drawn as none)
    assert figures.ci95(rows).tolist() == pytest.approx([0.6208, 0.0], abs=1e-4)


def test_gpu_throughput_figure_from_the_gpu_suite(tmp_path: Path) -> None:
    rows = []
    for entry, ref, ips in (
        ("efficientnet_b0", "table2/efficientnet-b0", 3000.0),
        ("efficientnet_b4", "table2/efficientnet-b4", 600.0),
        ("resnet50", "table2/resnet-50", 2500.0),
    ):
        for batch, scale in ((1, 0.1), (256, 1.0)):
            rows.append(
                _row(
                    suite="throughput_gpu",
                    entry=entry,
                    model=entry,
                    measurement="throughput",
                    workload_key=f"{entry}-{batch}",
                    paper_ref=ref,
                    throughput_ips=ips * scale,
                    batch_size=batch,
                    batch_requested=batch,
                    precision="bf16",
                    memory_format="channels_last",
                    device="cuda",
                    gpu="NVIDIA H200",
                    machine="m",
                )
            )
    results = pd.DataFrame(rows).reindex(columns=list(COLUMNS))
    best = frames.best_throughput(results, "throughput_gpu")
    assert sorted(zip(best["entry"], best["batch_size"])) == [
        ("efficientnet_b0", 256),
        ("efficientnet_b4", 256),
        ("resnet50", 256),
    ]
    assert best.set_index("entry").loc["resnet50", "top1_reported"] == pytest.approx(76.0)
    report = build_report(results, tmp_path, ENV)
    assert "fig_accuracy_vs_gpu_throughput" in [f.stem for f in report.figures]
    assert not any(m.startswith("GPU throughput") for m in report.missing)


def test_latency_from_two_machines_is_two_series(tmp_path: Path) -> None:
    results = _hand_made_results()
    other = results[results["measurement"] == "latency"].assign(machine="m2", cpu="another cpu", latency_ms_p50=99.0)
    both = frames.latest(pd.concat([results.assign(machine="m1"), other]))
    report = build_report(both, tmp_path, ENV)
    figure = next(f for f in report.figures if f.stem == "fig_accuracy_vs_cpu_latency")
    assert "2 other machines" in figure.caption  # neither is the machine the report was built on (ENV)
    table2 = figures.table2_points(frames.paper_comparison(both, "table2", "paper_table2"))
    points, _, where = _latency_points(both, table2, current=None)
    assert points["machine_label"].nunique() == 2 and where == "2 other machines"
    assert set(points["machine_label"]) == {"measured on test cpu [m1]", "measured on another cpu [m2]"}
    # the machine the report is built on: its rows alone, called "this machine"
    points, _, where = _latency_points(both, table2, current="m2")
    assert set(points["machine_label"]) == {"this machine (another cpu [m2])"} and where.startswith("this machine")


def test_latency_figure_draws_every_machine_however_many() -> None:
    # markers cycle: an eighth machine is drawn too (a fixed list of six once dropped the rest)
    points = pd.DataFrame(
        [
            {"machine_label": f"machine {i}", "family": "EfficientNet", "label": "B0"}
            | {"latency_ms": 10.0 + i, "top1_reported": 77.1}
            for i in range(8)
        ]
    )
    fig = figures.accuracy_vs_latency(points, "1 thread")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert sum(label.startswith("EfficientNet: top-1 reported, machine") for label in labels) == 8


def _user_suite_rows(with_accuracy: bool) -> pd.DataFrame:
    """A researcher's suite 'mine': three entries counted and timed, optionally trained."""
    costs = {"small": (1e6, 10e6, 1.0), "mid": (2e6, 40e6, 3.0), "big": (4e6, 90e6, 2.5)}  # params, MACs, ms
    rows = []
    for entry, (params, macs, ms) in costs.items():
        common = {"suite": "mine", "entry": entry, "base": "lab.nets:f", "method": "user", "input_size": 32}
        rows.append(_row(**common, measurement="complexity", params=params, macs=macs))
        rows.append(
            _row(
                **common,
                measurement="latency",
                latency_ms_p50=ms,
                latency_cv=0.01,
                throughput_ips=1000 / ms,
                device="cpu",
                batch_size=1,
                threads=1,
                machine="m1",
            )
        )
    if with_accuracy:
        for entry, top1 in {"small": 80.0, "mid": 79.0, "big": 85.0}.items():
            rows.append(_accuracy("mine", entry, "user", costs[entry][1], top1, 0.2))
    return pd.DataFrame(rows).reindex(columns=COLUMNS)


def test_a_user_suite_gets_its_own_section_with_the_frontier(tmp_path: Path) -> None:
    from bench.report.suite_section import entry_frame

    timed, conditions = entry_frame(_user_suite_rows(with_accuracy=False), "mine")
    # without accuracy the frontier is the most MACs for the time: none is faster with more MACs than
    # small (10 M, 1 ms) or big (90 M, 2.5 ms); mid (40 M, 3 ms) is slower than big with fewer MACs
    assert dict(zip(timed["entry"], timed["frontier"])) == {"small": True, "mid": False, "big": True}
    assert "batch 1, 1 thread(s)" in conditions and timed["top1"].isna().all()
    trained, _ = entry_frame(_user_suite_rows(with_accuracy=True), "mine")
    assert dict(zip(trained["entry"], trained["frontier"])) == {"small": True, "mid": False, "big": True}
    assert set(trained["accuracy_source"]) == {"measured"} and trained["macs_m"].tolist() == [10, 40, 90]

    report = build_report(_user_suite_rows(with_accuracy=True), tmp_path, {}, suites=["mine", "paper_table2"])
    stems = {f.stem for f in report.figures}
    assert {"suite_mine_accuracy_vs_macs", "suite_mine_accuracy_vs_latency"} <= stems
    assert (tmp_path / "suite_mine.csv").exists() and "Suite mine" in (tmp_path / "index.html").read_text()
    assert not any(t.name == "suite_paper_table2" for t in report.tables)  # the paper's own sections show it
    timed_only = build_report(_user_suite_rows(with_accuracy=False), tmp_path / "t", {}, suites=["mine"])
    assert "suite_mine_latency_vs_macs" in {f.stem for f in timed_only.figures}
    empty = build_report(_user_suite_rows(with_accuracy=False), tmp_path / "e", {}, suites=["nobody"])
    assert any(m.startswith("suite nobody: no rows") for m in empty.missing)


def test_the_report_shows_a_suite_given_by_path_from_another_folder(tmp_path: Path, monkeypatch) -> None:
    suite = tmp_path / "elsewhere" / "mine.yaml"
    suite.parent.mkdir()
    suite.write_text("name: mine\nmodels:\n  - {model: resnet18, input_size: 32}\n  - {model: mobilenetv2_100}\n")
    monkeypatch.chdir(tmp_path / "elsewhere")
    args = ["--suites", "mine.yaml", "--include", "--results", str(tmp_path / "r.csv"), "--out", str(tmp_path / "o")]
    assert report_main([*args, "--quiet"]) == 0
    table = pd.read_csv(tmp_path / "o" / "suite_mine.csv")
    assert table["entry"].tolist() == ["resnet18@32", "mobilenetv2_100"] and table["macs_m"].notna().all()


def test_rows_the_report_cannot_read_are_left_out_and_named(tmp_path: Path) -> None:
    good = _accuracy("proxy_fig8_table7", "efficientnet_b0", "baseline", 4e6, 89.7, 0.2)
    no_top1 = _accuracy("proxy_fig8_table7", "b0-r2", "resolution", 8e6, float("nan"), 0.2)
    garbled = {**_accuracy("proxy_table3", "resnet18", "baseline", 1e8, 90.0, 0.1), "budget": '{"dataset": fash'}
    partial = {**_accuracy("proxy_table3", "resnet18-x", "width", 2e8, 90.5, 0.1), "budget": '{"dataset": "x"}'}
    rows = pd.DataFrame([good, no_top1, garbled, partial]).reindex(columns=COLUMNS)
    usable, notes = frames.usable_rows(rows)
    assert usable["entry"].tolist() == ["efficientnet_b0"]
    assert notes == [
        "proxy_fig8_table7: 1 accuracy row(s) with no top-1 left out",
        "proxy_table3: 1 accuracy row(s) with a budget that is not valid JSON left out",
        "proxy_table3: 1 accuracy row(s) with a budget without base_resolution, epochs, batch_size, optimizer, lr, "
        "label_smoothing, device left out",
    ]
    report = build_report(rows, tmp_path, {})  # no traceback: the page names what it left out
    assert all(note in report.missing for note in notes)


def test_the_efficiency_claims_read_the_papers_ratios_from_data() -> None:
    """Claims 7, 8, 9 and 11 take their stated ratios from bench/reference/paper_claims.csv (no literals)."""
    from bench.reference import paper_claims

    assert set(paper_claims()) == {"7", "8", "9", "11"} and paper_claims()["11"]["big_params_m"] == "557"
    counted = [
        ("efficientnet-b0", 5.3e6, 0.39e9),
        ("resnet-50", 26e6, 4.1e9),
        ("efficientnet-b1", 7.8e6, 0.7e9),
        ("resnet-152", 60e6, 11e9),
        ("efficientnet-b3", 12e6, 1.8e9),
        ("resnext-101", 84e6, 32e9),
        ("efficientnet-b7", 66e6, 37e9),
    ]
    rows = [_row(suite="paper_table2", entry=ref, paper_ref=f"table2/{ref}", params=p, macs=m) for ref, p, m in counted]
    for model, ms in (("efficientnet_b1", 60.0), ("resnet152", 400.0)):
        rows.append(
            _row(
                suite="paper_table4",
                entry=model,
                model=model,
                measurement="latency",
                workload_key=f"{model}-l",
                latency_ms_p50=ms,
                machine="m",
                device="cpu",
                threads=1,
                batch_size=1,
            )
        )
    found = {c["claim"]: c for c in claims.efficiency_claims(pd.DataFrame(rows).reindex(columns=COLUMNS))}
    assert found["7"]["evidence"].startswith("params 4.9x (paper 4.9x); MACs 10.5x (paper 11x)")
    assert "CPU bs1 latency 6.67x (paper 5.7x; 60 vs 400 ms)" in found["8"]["evidence"]
    assert found["9"]["evidence"].startswith("MACs 17.8x (paper 18x)")
    assert "GPipe's reported 557M / our B7 count 66.0M = 8.4x (paper 8.4x)" in found["11"]["evidence"]


def test_the_report_never_calls_another_machines_rows_this_machine(tmp_path: Path) -> None:
    """Shipped rows timed elsewhere are 'measured on' their machine; 'this machine' only ever labels rows of
    the machine the report is built on, and its rows are the ones shown where it has them."""
    from bench.measure.environment import machine_fingerprint

    elsewhere = _hand_made_results().assign(machine="fd759a02b2", cpu="AMD EPYC")
    page = (build_report(elsewhere, tmp_path, ENV).out / "index.html").read_text()
    assert "this machine (" not in page and "measured on AMD EPYC [fd759a02b2]" in page
    here = machine_fingerprint(ENV)
    timed_here = elsewhere[elsewhere["measurement"] == "latency"].assign(machine=here, cpu="test cpu")
    both = frames.latest(pd.concat([elsewhere, timed_here]))
    page = (build_report(both, tmp_path / "here", ENV).out / "index.html").read_text()
    assert f"this machine (test cpu [{here}])" in page and "measured on AMD EPYC" not in page
