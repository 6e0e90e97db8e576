"""The Python API (bench.api): the docs' example runs as written, counts equal the CLI's, and
``import bench`` stays light."""

from __future__ import annotations

import doctest
import json
import subprocess
import sys

import pytest

import bench
from bench.cli import main
from tests.conftest import ROOT


def test_the_api_page_runs_as_a_doctest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the page reads reports/measured/ from a clone's root
    result = doctest.testfile(
        str(ROOT / "docs" / "api.md"), module_relative=False, optionflags=doctest.ELLIPSIS, verbose=False
    )
    assert result.attempted >= 15
    assert result.failed == 0


def test_count_is_what_the_cli_counts(capsys: pytest.CaptureFixture[str]) -> None:
    counted = bench.count("efficientnet_b0", phi=1.5)
    assert main(["count", "efficientnet_b0", "--phi", "1.5", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (counted.params, counted.macs, counted.activations) == (
        printed["params"],
        printed["macs"],
        printed["activations"],
    )
    assert counted.to_dict()["model"] == printed["model"]
    assert counted.to_frame().loc[0, "macs"] == printed["macs"]
    assert "macs=" in repr(counted) and "1_366_191_696" in repr(counted)


def test_unknown_keywords_and_targets_are_refused() -> None:
    with pytest.raises(TypeError, match="unknown scaling keyword"):
        bench.count("efficientnet_b0", width=2)
    with pytest.raises(TypeError, match="exactly one"):
        bench.solve("efficientnet_b0", "width")


def test_options_that_would_be_ignored_are_refused(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    from bench.errors import InputError

    with pytest.raises(InputError, match=r"^alpha only applies with phi \(compound scaling\)$"):
        bench.count("efficientnet_b0", alpha=1.3)
    assert bench.count("efficientnet_b0", phi=1, alpha=1.3).depth == pytest.approx(1.3)
    assert main(["count", "efficientnet_b0", "--beta", "1.2", "--gamma", "1.1"]) == 2
    assert "error: --beta and --gamma only apply with --phi (compound scaling)" in capsys.readouterr().err
    assert main(["count", "efficientnet_b0", "--depth", "3"]) == 2  # --depth is --per-layer's; depth scaling is --d
    assert "--depth only applies with --per-layer" in capsys.readouterr().err
    with pytest.raises(InputError, match="^phi sets the input size"):  # not "a resolution coefficient", never given
        bench.count("efficientnet_b0", phi=1, input_size=300)
    with pytest.raises(FileNotFoundError, match="no such results store"):  # a typo is not an empty store
        bench.read_results(tmp_path / "nope.csv")


def test_bench_latency_is_the_api_function_and_the_timing_module_lives_apart() -> None:
    import bench.measure.latency  # importing the timing module does not shadow the API's bench.latency
    from bench.api import latency

    assert bench.latency is latency and callable(bench.latency)


def test_importing_bench_loads_neither_torch_nor_pandas() -> None:
    code = "import sys, bench; print(sorted(m for m in ('torch', 'timm', 'pandas') if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_a_total_stride_builds_the_proxy_geometry_in_the_api_and_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    """``total_stride=8`` / ``--total-stride 8``: the network the v2 proxy trains, named and counted as such."""
    own, eight = (
        bench.count("efficientnet_b0", input_size=14),
        bench.count("efficientnet_b0", input_size=14, total_stride=8),
    )
    assert eight.model == "efficientnet_b0-stride8@14" and own.model == "efficientnet_b0@14"
    assert eight.params == own.params and eight.macs > 2.5 * own.macs  # same weights; stages 5-8 on 2x2 maps, not 1x1
    assert main(["count", "efficientnet_b0", "--input-size", "14", "--total-stride", "8", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["macs"] == eight.macs
    solved = bench.solve("efficientnet_b0", "width", macs_ratio=2, total_stride=8)
    assert solved.model.endswith("-stride8") and abs(solved.macs / solved.target_macs - 1) <= 0.03
    assert (
        main(["solve", "efficientnet_b0", "--method", "width", "--macs-ratio", "2", "--total-stride", "8", "--json"])
        == 0
    )
    assert json.loads(capsys.readouterr().out)["macs"] == solved.macs
    assert main(["count", "efficientnet_b0", "--total-stride", "64"]) == 2
    assert "total stride 64 is not one this network can be built with (32, 16, 8, 4" in capsys.readouterr().err
    assert main(["count", "vit_tiny_patch16_224", "--total-stride", "8"]) == 2
    assert "vit_tiny_patch16_224 has no scalable family, so it takes no total stride" in capsys.readouterr().err
