"""Per-layer counts (bench.measure.layers, ``bench count --per-layer``): the depth-1 entries sum exactly to the
totals ``bench count`` prints, work outside submodules has its own entry, uncounted operators are named."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from bench.cli import main
from bench.measure.complexity import count_complexity
from bench.measure.layers import OWN, count_layers
from bench.models.registry import make_spec


@pytest.mark.parametrize("model", ["efficientnet_b0", "resnet18"])
def test_depth_one_sums_to_the_totals_the_cli_prints(model: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["count", model, "--per-layer", "--json", "--depth", "3"]) == 0
    printed = json.loads(capsys.readouterr().out)
    total = count_complexity(make_spec(model))
    assert (printed["params"], printed["macs"], printed["activations"]) == (
        total.params,
        total.macs,
        total.activations,
    )
    top = [layer for layer in printed["layers"] if layer["depth"] == 1]
    for key in ("params", "macs", "activations"):
        assert sum(layer[key] for layer in top) == printed[key], key
    assert max(layer["depth"] for layer in printed["layers"]) == 3
    assert sum(op["macs"] for op in printed["operators"]) == printed["macs"]
    assert {"native_batch_norm", "mean"} <= {op["op"] for op in printed["not_counted"]}


def test_functional_work_outside_submodules_is_an_entry_of_its_own() -> None:
    class Functional(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 1)
            self.weight = nn.Parameter(torch.zeros(4 * 8 * 8, 10))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv(x).flatten(1) @ self.weight

    breakdown = count_layers(Functional(), (3, 8, 8))
    own = next(layer for layer in breakdown.layers if layer.name == OWN)
    assert (own.depth, own.params, own.macs, own.activations) == (1, 2560, 2560, 10)
    assert sum(layer.macs for layer in breakdown.to(1)) == breakdown.total.macs == 768 + 2560


def test_the_table_names_the_operators_not_counted(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["count", "resnet18", "--per-layer", "--depth", "1"]) == 0
    out = capsys.readouterr().out
    assert "layer4" in out and "layer4.0" not in out
    assert "not counted" in out and "max_pool2d_with_indices x1" in out
