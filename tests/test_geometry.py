"""Proxy geometry: networks built with fewer strides, their regime (maps, 1x1 share, resolution cost),
and the validation split held out of the training images."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from bench.accuracy import data as datasets
from bench.accuracy.train import train_model
from bench.measure.regime import layer_macs, regime
from bench.models.families import FAMILIES
from bench.models.registry import NotScalableError, build_model, make_spec, workload_key
from bench.specs import InputSpec, TrainBudget
from bench.store.rows import accuracy_columns
from bench.suites import SuiteError, load_suite
from tests.test_training import _tiny_budget

GREY_14 = InputSpec(14, resolution_divisor=1, in_chans=1, num_classes=10)
BASES = [(family.name, base) for family in FAMILIES.values() for base in family.bases]


@pytest.mark.parametrize("family, base", BASES)
def test_every_family_builds_every_total_stride_it_names(family: str, base: str) -> None:
    """The stage maps counted from the family's stride data are the built network's, at every stride."""
    arch = FAMILIES[family].bases[base]
    assert arch.total_stride == 32 and arch.total_strides()[:3] == (32, 16, 8)
    for stride in arch.total_strides()[:3]:
        spec = make_spec(base, input_size=224, inputs=InputSpec(total_stride=stride))
        model = build_model(spec, device="meta")
        _, maps = layer_macs(model, spec.input_shape)
        assert tuple(maps) == FAMILIES[family].bases[base].scaled(1, 1, stride).stage_maps(224)
        assert maps[-1] == 224 // stride and spec.total_stride == stride
        assert not any(m.dilation != (1, 1) for m in model.modules() if isinstance(m, torch.nn.Conv2d))


def test_fewer_strides_set_the_last_stride_two_stages_to_one() -> None:
    b0 = FAMILIES["efficientnet"].bases["efficientnet_b0"]
    assert b0.strides_for(None) == (1, 2, 2, 2, 1, 2, 1)
    assert b0.strides_for(16) == (1, 2, 2, 2, 1, 1, 1)
    assert b0.strides_for(8) == (1, 2, 2, 1, 1, 1, 1)
    resnet = FAMILIES["resnet"].bases["resnet18"]
    assert resnet.strides_for(8) == (1, 2, 1, 1) and resnet.total_strides() == (32, 16, 8, 4)
    with pytest.raises(ValueError, match=r"total stride 64 .*\(32, 16, 8, 4\)"):
        resnet.strides_for(64)


def test_a_network_with_fewer_strides_is_named_and_keyed_as_another() -> None:
    own = make_spec("efficientnet_b0", inputs=GREY_14)
    eight = make_spec("efficientnet_b0", inputs=InputSpec(14, 1, 1, 10, total_stride=8))
    explicit = make_spec("efficientnet_b0", inputs=InputSpec(14, 1, 1, 10, total_stride=32))
    assert (own.name, own.total_stride) == ("efficientnet_b0", 32) and own == explicit
    assert eight.name == "efficientnet_b0-stride8" and workload_key(eight) != workload_key(own)
    assert workload_key(own) == "e04461daa3b71923"  # the family's own strides keep every stored key
    compound = make_spec("efficientnet_b0", phi=1, inputs=InputSpec(14, 1, 1, 10, total_stride=8))
    assert compound.name == "efficientnet_b0-phi1-stride8" and compound.input_size == 16
    with pytest.raises(NotScalableError, match="no scalable family, so it takes no total stride"):
        make_spec("vit_tiny_patch16_224", inputs=InputSpec(total_stride=8))
    with pytest.raises(ValueError, match="power of two"):
        InputSpec(total_stride=12)


#: Exact regimes, checked in: (model, total stride, input) -> (stage maps, MACs, share on 1x1, exponent).
REGIMES = {
    ("efficientnet_b0", 32, 14): ((7, 4, 2, 1, 1, 1, 1), 4_449_328, 0.8752, 0.837),
    ("efficientnet_b0", 32, 28): ((14, 7, 4, 2, 2, 1, 1), 7_947_472, 0.4022, 1.878),
    ("efficientnet_b0", 8, 14): ((7, 4, 2, 2, 2, 2, 2), 14_249_728, 0.0440, 1.945),
    ("efficientnet_b0", 8, 20): ((10, 5, 3, 3, 3, 3, 3), 31_071_840, 0.0202, 1.468),
    ("resnet18", 32, 14): ((4, 2, 1, 1), 15_100_992, 0.6944, 1.128),
    ("mobilenetv2_100", 32, 14): ((7, 4, 2, 1, 1, 1, 1), 2_670_656, 0.7982, 1.068),
    ("mobilenetv1_100", 32, 14): ((7, 4, 2, 1, 1), 4_020_544, 0.7596, 1.438),
}


@pytest.mark.parametrize("key", sorted(REGIMES))
def test_regime_reference_values(key: tuple[str, int, int]) -> None:
    from bench.measure.complexity import count_complexity

    base, stride, size = key
    spec = make_spec(base, input_size=size, inputs=InputSpec(14, 1, 1, 10, total_stride=stride))
    found = regime(spec)
    maps, macs, share, exponent = REGIMES[key]
    assert found.stage_maps == maps and found.final_map == maps[-1] and found.total_stride == stride
    assert found.macs == macs == count_complexity(spec).macs  # the hooks count what the counter counts
    assert found.macs_share_1x1 == pytest.approx(share, abs=1e-4)
    assert found.r_cost_exponent == pytest.approx(exponent, abs=1e-3)


def test_suites_set_the_total_stride_for_all_entries_or_one(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "metrics: [complexity]\ntotal_stride: 8\nresolution_divisor: 1\nmodels:\n"
        "  - {model: efficientnet_b0}\n  - {model: resnet18, total_stride: 16}\n"
        "  - {model: efficientnet_b0, scale: {method: width, match: efficientnet_b0-stride8, macs_ratio: 2}}\n"
    )
    with pytest.raises(SuiteError):
        load_suite(path)  # match and macs_ratio together
    path.write_text(
        "metrics: [complexity]\ntotal_stride: 8\nmodels:\n  - {model: efficientnet_b0}\n"
        "  - {model: resnet18, total_stride: 16}\n"
    )
    entries = load_suite(path).entries
    assert [(e.spec.name, e.spec.total_stride) for e in entries] == [
        ("efficientnet_b0-stride8", 8),
        ("resnet18-stride16", 16),
    ]
    path.write_text("metrics: [complexity]\nmodels:\n  - {model: efficientnet_b0, total_stride: 12}\n")
    with pytest.raises(SuiteError, match=r"models\[0\].total_stride: must be a power of two"):
        load_suite(path)
    path.write_text("metrics: [complexity]\nmodels:\n  - {model: efficientnet_b0, total_stride: 1}\n")
    with pytest.raises(SuiteError, match="not one this network can be built with"):
        load_suite(path)


def test_the_validation_split_is_fixed_stratified_and_disjoint(fashion_mnist: Path) -> None:
    train = datasets.load_fashion_mnist("train", fashion_mnist)
    rest, val = train.held_out(500, seed=0)
    assert len(val.labels) == 500 and len(rest.labels) == len(train.labels) - 500
    assert torch.bincount(val.labels, minlength=10).tolist() == [50] * 10
    again_rest, again_val = train.held_out(500, seed=0)
    assert torch.equal(again_val.images, val.images) and torch.equal(again_rest.labels, rest.labels)
    together = torch.cat([rest.images, val.images]).flatten(1)
    assert len(torch.unique(together, dim=0)) == len(torch.unique(train.images.flatten(1), dim=0))
    with pytest.raises(ValueError, match="cannot hold out"):
        train.held_out(len(train.labels))


def test_a_budget_without_a_validation_split_keeps_its_description() -> None:
    plain = json.loads(TrainBudget().describe())
    assert "val_images" not in plain  # v1 budgets, their workload keys and seed archives are unchanged
    assert json.loads(TrainBudget(val_images=10000).describe())["val_images"] == 10000


def test_a_run_with_a_validation_split_scores_both_and_the_row_records_both(fashion_mnist: Path) -> None:
    spec = make_spec("mobilenetv2_100", width=0.5, inputs=InputSpec(28, 1, 1, 10))
    budget = _tiny_budget(fashion_mnist, val_images=200, eval_every_epoch=True)
    result = train_model(spec, budget, seed=0)
    assert [set(h) >= {"val_top1", "top1"} for h in result.history] == [True, True]
    assert result.history[0]["top1"] is None  # the test split is scored once, after the last epoch
    assert result.val_top1 == result.history[-1]["val_top1"] and result.top1 == result.history[-1]["top1"]
    row = accuracy_columns(budget, (0,), [result], input_size=28)
    assert row["val_images"] == 200 and row["val_top1"] == pytest.approx(result.val_top1)
    assert row["val_top1_per_seed"] == f"{result.val_top1:g}" and row["train_loss"] == result.train_loss


def test_by_seed_orders_training_runs_seed_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--by-seed: every entry's seed s before any entry's seed s + 1 (costliest first within a seed), so a
    stopped suite leaves every entry with the same seeds; the default is costliest run first."""
    from bench import run as run_module
    from bench.scaling.plan import plan_suite
    from bench.store.count_cache import ComplexityCache

    path = tmp_path / "s.yaml"
    path.write_text(
        "metrics: [accuracy]\nresolution_divisor: 1\ntotal_stride: 8\nseeds: [0, 1]\n"
        "train: {dataset: fashion_mnist, base_resolution: 14, epochs: 1}\n"
        "models:\n  - {model: efficientnet_b0, name: small}\n  - {model: efficientnet_b0, name: big, input_size: 20}\n"
    )
    suite = load_suite(path)
    cache = ComplexityCache(None)
    tasks = [t for t in run_module.suite_tasks(suite, plan_suite(suite, cache, 1)) if t.budget is not None]
    seen: list[tuple[int, int]] = []

    def record(runs, *args, **kwargs):  # a generator, as train_runs is (the driver closes it on Ctrl-C)
        seen.extend((run.seed, run.spec.input_size) for run in runs)
        yield from ()

    monkeypatch.setattr(run_module, "train_runs", record)

    def cost(run) -> float:
        return cache.count(run.spec).macs

    for by_seed, expected in (
        (False, [(0, 20), (1, 20), (0, 14), (1, 14)]),
        (True, [(0, 20), (0, 14), (1, 20), (1, 14)]),
    ):
        seen.clear()
        list(run_module._train_tasks(tasks, tmp_path, run_module.DistContext(), 2, False, cost, by_seed=by_seed))
        assert seen == expected
