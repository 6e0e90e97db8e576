"""The v2 proxy study in the report: its protocol's decisions, its claims by the pre-registered test, the
optimisation-failure flag, scopes, and the regime table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from bench.report import claims, proxy_v2, tables
from bench.report.regime_section import regime_rows
from bench.report.stats import ALPHA, INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED
from bench.store.results import COLUMNS

BUDGET = json.dumps(
    {
        "dataset": "fashion_mnist",
        "base_resolution": 14,
        "val_images": 10000,
        "epochs": 8,
        "batch_size": 256,
        "optimizer": "adamw",
        "lr": 0.003,
        "label_smoothing": 0.1,
        "augment": False,
        "device": "cpu",
    }
)


def _row(suite: str, entry: str, method: str, macs: float, test: list[float], **values) -> dict:
    seeds = values.pop("seeds", list(range(len(test))))
    val = values.pop("val", [t - 0.5 for t in test])
    return {
        "suite": suite,
        "entry": entry,
        "measurement": "accuracy",
        "workload_key": f"{suite}-{entry}-{values.get('epochs', 8)}",
        "timestamp": "2026-12-06T00:00:00",
        "base": "efficientnet_b0",
        "family": "efficientnet",
        "method": method,
        "width": values.pop("width", 1.0),
        "depth": values.pop("depth", 1.0),
        "input_size": values.pop("input_size", 14),
        "total_stride": values.pop("total_stride", 8),
        "macs": macs,
        "params": 4e6,
        "top1": float(np.mean(test)),
        "top1_std": float(np.std(test, ddof=1)) if len(test) > 1 else 0.0,
        "top1_per_seed": " ".join(f"{v:g}" for v in test),
        "val_top1": float(np.mean(val)),
        "val_top1_per_seed": " ".join(f"{v:g}" for v in val),
        "seeds": " ".join(map(str, seeds)),
        "n_seeds": len(test),
        "accuracy_source": "measured",
        "dataset": "fashion_mnist",
        "budget": values.pop("budget", BUDGET),
        "epochs": values.pop("epochs", 8),
        "train_loss": values.pop("train_loss", 0.60),
        "train_seconds": 1000.0 * len(test),
        "train_images_per_s": 400.0,
        **values,
    }


B0 = 14_249_728


def _frame(rows: list[dict]) -> pd.DataFrame:
    """Rows as a results table has them: every column of the store."""
    frame = pd.DataFrame(rows)
    return frame.reindex(columns=list(dict.fromkeys([*COLUMNS, *frame.columns])))


def _fig8(
    compound: list[float], width: list[float], depth: list[float], resolution: list[float], compound_loss: float = 0.58
) -> pd.DataFrame:
    suite = proxy_v2.FIG8
    return _frame(
        [
            _row(suite, "efficientnet_b0-stride8", "baseline", B0, [89.0, 89.2, 88.9, 89.1, 89.0], train_loss=0.62),
            _row(suite, "b0-compound", "compound", 28_353_056, compound, train_loss=compound_loss),
            _row(suite, "b0-width", "width", 28_212_736, width, width=1.437),
            _row(suite, "b0-depth", "depth", 28_125_328, depth, depth=1.666),
            _row(suite, "b0-r20", "resolution", 31_071_840, resolution, input_size=20),
        ]
    )


AHEAD = [90.5, 90.7, 90.6, 90.4, 90.6]


def test_claim6_by_the_protocols_pooled_test() -> None:
    behind = [[90.0, 90.1, 89.9, 90.2, 90.0], [89.9, 90.0, 90.1, 89.8, 90.0], [90.1, 90.0, 90.2, 89.9, 90.1]]
    claim = proxy_v2.claim6(_fig8(AHEAD, *behind))
    assert claim["verdict"] == REPRODUCED
    assert claim["scope"] == (
        "fashion_mnist, 14 px base, total stride 8, 2x B0's MACs (compound 1.99x, width 1.98x, depth 1.97x, "
        "resolution 2.18x; resolution arm +9 %), 5 seeds, test split"
    )
    # the primary p-values: Student's t with the variance pooled over all four arms (df 16), then Holm by hand
    pooled_sd = np.sqrt(np.mean([np.var(a, ddof=1) for a in [AHEAD, *behind]]))
    raw = [2 * scipy_stats.t.sf((np.mean(AHEAD) - np.mean(b)) / (pooled_sd * np.sqrt(2 / 5)), 16) for b in behind]
    order = np.argsort(raw)
    adjusted = np.maximum.accumulate([raw[i] * (3 - rank) for rank, i in enumerate(order)])
    holm = dict(zip(order, adjusted))
    for i, name in enumerate(("width", "depth", "resolution")):
        shown = f"{holm[i]:.2g}" if holm[i] >= 1e-3 else f"{holm[i]:.1e}"
        assert f"p={shown} (Holm)" in claim["evidence"].split(f"minus {name}")[1].split(";")[0]
    assert "Welch p" in claim["evidence"] and max(adjusted) < ALPHA
    # 'detectable' is defined in the evidence and is 80 % power at Holm's strictest level (alpha / 3), df 16
    assert "'detectable' = the smallest difference found with 80% power at Holm's strictest level" in claim["evidence"]
    t_alpha, t_power = scipy_stats.t.ppf(1 - ALPHA / 3 / 2, 16), scipy_stats.t.ppf(0.8, 16)
    detectable = (t_alpha + t_power) * pooled_sd * np.sqrt(2 / 5)
    assert claim["evidence"].count(f"detectable {detectable:.2f} pt") == 3


def test_claim6_not_reproduced_when_a_single_dimension_wins_and_inconclusive_when_tied() -> None:
    tied = [90.0, 90.2, 89.9, 90.1, 90.0]
    beaten = proxy_v2.claim6(_fig8(tied, tied, tied, AHEAD))
    assert beaten["verdict"] == NOT_REPRODUCED and "minus resolution" in beaten["evidence"]
    assert proxy_v2.claim6(_fig8(tied, tied, [90.1, 90.0, 90.2, 89.9, 90.0], tied))["verdict"] == INCONCLUSIVE


def test_an_optimisation_failure_makes_the_verdict_inconclusive() -> None:
    behind = [[90.0, 90.1, 89.9, 90.2, 90.0]] * 3
    claim = proxy_v2.claim6(_fig8(AHEAD, *behind, compound_loss=0.70))  # above B0's 0.62: under-trained
    assert claim["verdict"] == INCONCLUSIVE and f"[{proxy_v2.FLAG}: train loss 0.700]" in claim["evidence"]


def test_a_claim_with_too_few_seeds_in_common_is_not_judged() -> None:
    frame = _fig8(AHEAD, AHEAD, AHEAD, AHEAD)
    frame.loc[frame["entry"] == "b0-depth", "seeds"] = "5 6 7 8 9"
    claim = proxy_v2.claim6(frame)
    assert claim["verdict"] == INCONCLUSIVE and claim["evidence"].startswith("not judged")


def _probe(b0: float, b0_28: float, stride32: float, augmented: float) -> pd.DataFrame:
    rows = [
        _row(proxy_v2.PROBE, "b0-14", "baseline", B0, [89.0, 89.1], val=[b0, b0]),
        _row(proxy_v2.PROBE, "b0-28", "resolution", 54_856_432, [90.0], val=[b0_28], input_size=28),
        _row(proxy_v2.PROBE, "b0-s32", "baseline", 4_449_328, [88.0], val=[stride32], total_stride=32),
        _row(proxy_v2.AUGMENT, "b0-aug", "baseline", B0, [89.5, 89.4], val=[augmented, augmented]),
    ]
    return _frame(rows)


@pytest.mark.parametrize(
    "augmented, decision", [(88.24, "no augmentation"), (88.25, "use crop+flip"), (89.0, "use crop+flip")]
)
def test_the_probe_decisions_follow_the_protocols_rules(augmented: float, decision: str) -> None:
    found = proxy_v2.decisions(_probe(88.0, 89.1, 87.5, augmented)).set_index("decision")["outcome"]
    assert found["headroom"] == "resolution adds information"
    assert found["stride check"] == "reported"
    assert found["augmentation"] == decision
    assert found["epochs"] == "pending" and found["grid leaders"] == "pending"
    flat = proxy_v2.decisions(_probe(88.0, 88.2, 87.5, 88.0)).set_index("decision")["outcome"]
    assert flat["headroom"].startswith("no usable headroom")


def _curve(gains: dict[str, tuple[float, float, float]]) -> pd.DataFrame:
    rows = []
    for entry, values in gains.items():
        for epochs, val in zip((4, 8, 16), values):
            rows.append(_row(proxy_v2.CURVE, entry, "baseline", B0, [89.0, 89.2], val=[val, val], epochs=epochs))
    return _frame(rows)


@pytest.mark.parametrize(
    "slow, chosen",
    [((88.0, 88.3, 88.4), "E = 4"), ((88.0, 88.31, 88.4), "E = 8"), ((88.0, 88.5, 88.9), "E = 16")],
)
def test_the_epochs_are_the_smallest_whose_doubling_gains_at_most_0_3_validation_points(slow, chosen) -> None:
    curve = _curve({"b0": (88.0, 88.1, 88.1), "w": (88.0, 88.2, 88.2), "d": (88.0, 88.0, 87.9), "r": slow})
    assert proxy_v2.epochs_decision(curve)["outcome"] == chosen
    assert proxy_v2.epochs_decision(curve.iloc[:-1])["outcome"] == ("pending" if chosen != "E = 4" else "E = 4")


def _grid(final_b_macs: float = 28_400_000) -> tuple[list[dict], list[dict]]:
    """A full screen (the paper's split, a, b and seven more, each on seed 0) and the finals on seeds 1-5."""
    g = proxy_v2.GRID
    screen = [
        _row(g, "grid-paper", "compound", 28_353_056, [90.0], val=[89.5], seeds=[0]),
        _row(g, "grid-a", "compound", 28_300_000, [91.0], val=[89.9], seeds=[0]),
        _row(g, "grid-b", "compound", 28_400_000, [90.0], val=[89.9], seeds=[0]),
        *(_row(g, f"grid-{k}", "compound", 28_400_000, [90.0], val=[89.8 - k / 10], seeds=[0]) for k in range(7)),
    ]
    fresh = dict(seeds=[1, 2, 3, 4, 5])
    finals = [
        _row(g, "final-grid-paper", "compound", 28_353_056, [90.0, 90.1, 89.9, 90.2, 90.0], **fresh),
        _row(g, "final-grid-a", "compound", 28_300_000, [90.6, 90.7, 90.5, 90.8, 90.6], **fresh),
        _row(g, "final-grid-b", "compound", final_b_macs, [90.0, 90.2, 90.1, 90.0, 89.9], **fresh),
    ]
    return screen, finals


def test_grid_leaders_come_from_the_screens_validation_and_claim4b_from_fresh_seeds() -> None:
    screen, finals = _grid()
    frame = _frame(screen + finals + _fig8(AHEAD, AHEAD, AHEAD, AHEAD).to_dict("records"))
    assert proxy_v2.leaders(frame) == ["grid-a", "grid-b"]  # 89.9 tie: fewer MACs first
    assert proxy_v2.leaders_decision(frame)["outcome"] == "grid-a, grid-b"
    claim = proxy_v2.claim4b(frame)
    assert claim["verdict"] == NOT_REPRODUCED and "finals on seeds 1 2 3 4 5" in claim["evidence"]


def test_a_leader_off_the_cost_point_is_named_in_claim4bs_scope() -> None:
    screen, finals = _grid()
    r24 = 31_350_448  # resolution only at 24 px: 2.20x B0, 10 % over the cost point, outside the 3 % match
    screen[1] = dict(screen[1], macs=r24)
    finals[1] = dict(finals[1], macs=r24)
    claim = proxy_v2.claim4b(_frame(screen + finals + _fig8(AHEAD, AHEAD, AHEAD, AHEAD).to_dict("records")))
    assert "2x B0's MACs (grid-a arm +10 %)" in claim["scope"]
    assert "grid-b" not in claim["scope"]  # 28.4 M is within 3 % of 2x
    assert proxy_v2.unmatched({"a": pd.Series({"macs": 1.034 * 2 * B0})}, B0) == "a arm +3.4 %"  # not "+3 %"


def test_no_leaders_are_named_from_a_partial_screen_nor_judged_on_another_network() -> None:
    screen, finals = _grid()
    fig8 = _fig8(AHEAD, AHEAD, AHEAD, AHEAD).to_dict("records")
    partial = _frame(screen[:3] + finals + fig8)  # a, b and the paper's split screened: the rest could beat them
    assert proxy_v2.leaders(partial) == []
    assert proxy_v2.leaders_decision(partial)["outcome"] == f"pending (3 of {proxy_v2.GRID_POINTS} points screened)"
    assert proxy_v2.claim4b(partial)["scope"] == "proxy v2 (pending)"
    assert proxy_v2.claim4b(partial)["evidence"].startswith("missing: the screen of suites/")
    unfinished = _frame(screen + finals[:2] + fig8)  # the full screen, final-grid-b not yet trained
    assert proxy_v2.claim4b(unfinished)["evidence"] == f"missing: final-grid-b (suites/{proxy_v2.GRID}.yaml)"
    reseeded = dict(screen[1], seeds="0 1", val_top1=95.0)  # a point given more seeds is no longer a screen row
    assert "grid-a" not in set(proxy_v2.screen(_frame([reseeded, *screen[2:]]))["entry"])
    screen, finals = _grid(final_b_macs=29_000_000)  # final-grid-b added by hand with another network
    claim = proxy_v2.claim4b(_frame(screen + finals + fig8))
    assert claim["verdict"] == INCONCLUSIVE
    assert claim["evidence"] == "not judged: final-grid-b is not the network of grid-b (macs differ)"


def test_the_grid_points_are_the_grid_suites_screen_entries() -> None:
    from bench.suites import load_suite
    from tests.conftest import ROOT

    suite = load_suite(ROOT / "suites" / f"{proxy_v2.GRID}.yaml")
    points = [e.name for e in suite.entries if not e.name.startswith(proxy_v2.FINAL_PREFIX)]
    assert len(points) == proxy_v2.GRID_POINTS and proxy_v2.GRID_PAPER in points
    finals = [e for e in suite.entries if e.name.startswith(proxy_v2.FINAL_PREFIX)]
    assert all(e.name[len(proxy_v2.FINAL_PREFIX) :] in points for e in finals)
    assert all(proxy_v2.SCREEN_SEED not in e.seeds for e in finals) and set(suite.seeds) == {proxy_v2.SCREEN_SEED}


def test_the_claims_table_has_no_bare_refuted_and_every_row_a_scope() -> None:
    table = claims.claims_table(_fig8(AHEAD, AHEAD, AHEAD, AHEAD))
    assert set(table["verdict"]) <= {REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE}
    assert table["scope"].map(lambda s: isinstance(s, str) and len(s) > 0).all()


def test_proxy_tables_show_validation_training_cost_and_the_flag() -> None:
    frame = _fig8(AHEAD, AHEAD, AHEAD, AHEAD, compound_loss=0.70)
    shown = tables.proxy_table(frame, proxy_v2.FIG8, "t").frame.set_index("entry")
    assert shown.loc["b0-compound", "flag"] == proxy_v2.FLAG and shown.loc["b0-width", "flag"] == ""
    assert shown.loc["b0-width", "train_s_per_seed"] == 1000 and shown.loc["b0-width", "train_images_per_s"] == 400
    assert {"val_top1", "test_top1", "total_stride", "train_loss"} <= set(shown.columns)


def test_the_regime_table_counts_each_rows_network_at_its_stride() -> None:
    frame = _fig8(AHEAD, AHEAD, AHEAD, AHEAD)
    v1 = _row("proxy_fig8_table7", "efficientnet_b0", "baseline", 4_449_328, [89.0, 89.1], total_stride=float("nan"))
    found = regime_rows(_frame([*frame.to_dict("records"), v1])).set_index(["suite", "entry"])
    assert found.loc[(proxy_v2.FIG8, "efficientnet_b0-stride8"), "final_map"] == 2
    assert found.loc[(proxy_v2.FIG8, "b0-r20"), "stage_maps"] == "10 5 3 3 3 3 3"
    old = found.loc[("proxy_fig8_table7", "efficientnet_b0")]  # a row from before total_stride: its family's 32
    assert old["total_stride"] == 32 and old["macs_share_1x1"] == pytest.approx(0.8752, abs=1e-4)
    assert (found["macs"] == found["macs"]).all()
