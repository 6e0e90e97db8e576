"""The wheel: it carries the shipped suites and measured rows as package data, no test files, and the
``effbench`` console script; a clone finds the same folders where they are (bench.shipped)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bench.shipped import MEASURED, SUITES, shipped_path
from tests.conftest import ROOT


def test_a_clone_reads_its_own_suites_and_measured_rows() -> None:
    assert SUITES == ROOT / "suites" and MEASURED == ROOT / "reports" / "measured"
    assert shipped_path(Path("suites") / "smoke.yaml") == ROOT / "suites" / "smoke.yaml"
    assert shipped_path(Path("suites") / "no_such_suite.yaml") is None
    assert shipped_path(Path("my_suite.yaml")) is None


@pytest.mark.integration
def test_the_built_wheel_ships_data_and_no_tests(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = tmp_path.glob("effbench-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if Path(n).name == "conftest.py" or Path(n).name.startswith("test_")]
    assert not [n for n in names if n.startswith("tests/")]
    suites = {Path(n).name for n in names if n.startswith("bench/_shipped/suites/")}
    assert {p.name for p in (ROOT / "suites").iterdir()} <= suites
    measured = {n.removeprefix("bench/_shipped/measured/") for n in names if n.startswith("bench/_shipped/measured/")}
    assert {"zoo_frontier_cpu.csv", "scaled_cost_cpu.csv", "proxy_v2_deviations.tsv"} <= measured
    assert any(n.startswith("bench/reference/") and n.endswith(".csv") for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "effbench = bench.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    for package in ("filelock", "safetensors", "numpy", "pillow", "torch", "timm"):
        assert f"Requires-Dist: {package}" in metadata, package
