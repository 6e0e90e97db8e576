"""Honest defaults and names: a user model keeps its own num_classes / in_chans unless given them, and
the command says how it was called; width with an input size is not "compound"; eval names the builder
a checkpoint fits."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bench.accuracy.pretrained import LITE0_BUILDER, builder_note
from bench.cli import main
from bench.models.registry import described_method, make_spec

NET = """from torch import nn


def small(width: int = 8, num_classes: int = 10, in_chans: int = 3):
    return nn.Sequential(nn.Conv2d(in_chans, width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(width, num_classes))
"""


@pytest.fixture
def ten_classes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    package = tmp_path / f"lab_{tmp_path.name}"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "nets.py").write_text(NET)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield f"{package.name}.nets:small"
    for name in [m for m in sys.modules if m.startswith(package.name)]:
        del sys.modules[name]


def test_a_user_model_keeps_its_own_defaults_and_the_call_is_printed(ten_classes: str, capsys) -> None:
    assert make_spec(ten_classes).num_classes == 10
    assert main(["count", ten_classes, "--input-size", "32"]) == 0
    out = capsys.readouterr().out
    assert f"called as {ten_classes}(num_classes=10, in_chans=3)" in out
    assert "params                   314" in out  # 8 x 10 + 10 classifier, not 1,000 classes
    assert main(["count", ten_classes, "--input-size", "32", "--model-arg", "num_classes=1000", "--json"]) == 0
    given = json.loads(capsys.readouterr().out)
    assert (given["num_classes"], given["params"]) == (1000, 9224)


def test_width_at_an_input_size_is_not_called_compound(capsys) -> None:
    assert main(["count", "resnet18", "--w", "0.5", "--input-size", "64", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["method"] == "width+resolution"
    assert described_method(make_spec("efficientnet_b0", phi=1)) == "compound"
    assert described_method(make_spec("efficientnet_b0", width=2)) == "width"


def test_eval_names_the_builder_the_lite0_checkpoint_fits() -> None:
    assert LITE0_BUILDER == "tf_efficientnet_lite0"
    other = builder_note("efficientnet_lite0", "lite0")
    assert other is not None and "fits tf_efficientnet_lite0" in other and "not efficientnet_lite0" in other
    same = builder_note("tf_efficientnet_lite0", "lite0")
    assert same is not None and "the builder given" in same
    assert builder_note("efficientnet_lite0", "weights.pt") is None
