"""Exact counts: pinned reference values, cross-checks with independent counters, the paper's table."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from bench.measure.complexity import Complexity, count_complexity, count_macs_reference, count_module, ptflops_macs
from bench.models.registry import build_model, make_spec
from bench.reference import paper_value
from tests.conftest import read_reference


@pytest.mark.parametrize("row", read_reference("complexity.csv"), ids=lambda r: r["model"])
def test_counts_equal_the_pinned_reference(row: dict[str, str]) -> None:
    spec = make_spec(row["model"])
    assert spec.input_size == int(row["input_size"])
    assert count_complexity(spec) == Complexity(int(row["params"]), int(row["macs"]), int(row["activations"]))


@pytest.mark.parametrize(
    "name",
    [
        "efficientnet_b0",
        "tf_efficientnet_b0",
        "resnet50",
        "mobilenetv2_100",
        "densenet121",
        "inception_v3",
        "efficientnet_b3",
    ],
)
def test_shortcuts_leave_macs_identical_to_plain_flop_counter_mode(name: str) -> None:
    spec = make_spec(name)
    model = build_model(spec, device="meta")
    assert count_module(model, spec.input_shape).macs == count_macs_reference(model, spec.input_shape)


@pytest.mark.parametrize(
    "name", ["efficientnet_b0", "tf_efficientnet_b0", "resnet50", "mobilenetv2_100", "mobilenetv1_100"]
)
def test_ptflops_aten_backend_agrees_within_0_1_percent(name: str) -> None:
    spec = make_spec(name)
    model = build_model(spec, device="meta")
    ours = count_module(model, spec.input_shape).macs
    assert ptflops_macs(model, spec.input_shape) == pytest.approx(ours, rel=1e-3)


def _hooked_activations(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Output elements of every Conv2d / Linear module, counted with forward hooks."""
    total = 0

    def hook(_module, _inputs, output) -> None:
        nonlocal total
        total += output.numel()

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model(torch.empty((1, *input_shape), device="meta"))
    for handle in handles:
        handle.remove()
    return total


@pytest.mark.parametrize("name", ["efficientnet_b0", "resnet50", "mobilenetv2_100", "efficientnet_b2"])
def test_activations_equal_conv_and_linear_outputs(name: str) -> None:
    spec = make_spec(name)
    model = build_model(spec, device="meta")
    assert count_complexity(spec).activations == _hooked_activations(model, spec.input_shape)


# Paper Table 2 "FLOPS" (= MACs) and params; B4 and B5 are the documented exceptions.
@pytest.mark.parametrize("index", [0, 1, 2, 3, 6, 7])
def test_table2_efficientnets_within_2_5_percent_of_the_paper(index: int) -> None:
    counts = count_complexity(make_spec(f"efficientnet_b{index}"))
    ref = f"table2/efficientnet-b{index}"
    assert counts.macs / 1e9 == pytest.approx(paper_value(ref, "macs_b"), rel=0.025)
    assert counts.params / 1e6 == pytest.approx(paper_value(ref, "params_m"), rel=0.025)


@pytest.mark.parametrize(("index", "low", "high"), [(4, 0.04, 0.05), (5, 0.03, 0.045)])
def test_b4_and_b5_exact_counts_exceed_the_paper_by_a_known_margin(index: int, low: float, high: float) -> None:
    """The published B4 (380px) / B5 (456px) networks have 4.39 / 10.27 G MACs: 4.6% / 3.7% above Table 2."""
    counts = count_complexity(make_spec(f"efficientnet_b{index}"))
    delta = counts.macs / 1e9 / paper_value(f"table2/efficientnet-b{index}", "macs_b") - 1
    assert low < delta < high


def test_baselines_match_published_macs() -> None:
    assert count_complexity(make_spec("resnet50")).macs / 1e9 == pytest.approx(4.09, abs=0.005)
    assert count_complexity(make_spec("resnet50")).params / 1e6 == pytest.approx(25.6, abs=0.05)
    assert count_complexity(make_spec("mobilenetv2_100")).macs / 1e9 == pytest.approx(0.30, abs=0.005)
    assert count_complexity(make_spec("mobilenetv1_100")).macs / 1e9 == pytest.approx(0.57, abs=0.005)


def test_flops_are_twice_macs_and_counting_restores_train_mode() -> None:
    spec = make_spec("resnet18", input_size=64)
    model = build_model(spec, device="meta").train()
    counts = count_module(model, spec.input_shape)
    assert counts.flops == 2 * counts.macs
    assert model.training


@pytest.mark.parametrize("phi", [0.37, 7.0, 8.5])
def test_fractional_and_large_phi_count(phi: float) -> None:
    spec = make_spec("efficientnet_b0", phi=phi)
    counts = count_complexity(spec)
    assert counts.macs > count_complexity(make_spec("efficientnet_b0")).macs
    assert spec.input_size % 4 == 0


def test_macs_follow_d_w2_r2() -> None:
    """Paper claim: doubling depth ~doubles MACs, doubling width or resolution ~quadruples them."""
    base = count_complexity(make_spec("resnet50")).macs
    assert count_complexity(make_spec("resnet50", resolution=2)).macs / base == pytest.approx(4.0, rel=0.01)
    assert count_complexity(make_spec("resnet50", width=2)).macs / base == pytest.approx(4.0, rel=0.04)
    assert count_complexity(make_spec("resnet50", depth=2)).macs / base == pytest.approx(2.0, rel=0.15)
