"""Slow tier (pytest -m slow / tox -e slow): whole suites end to end."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bench.cache import ComplexityCache
from bench.cli import main
from bench.plan import plan_suite
from bench.suites import load_suite
from tests.conftest import ROOT, SUITES

pytestmark = pytest.mark.slow


def test_fig8_every_single_dimension_variant_matches_its_compound_point() -> None:
    cache = ComplexityCache(None)
    planned = plan_suite(load_suite(ROOT / "suites" / "fig8_compound_vs_single.yaml"), cache, jobs=2)
    solved = [p for p in planned if p.target_macs is not None]
    assert len(solved) == 18
    for item in solved:
        assert abs(cache.macs(item.spec) / item.target_macs - 1) <= 0.03, item.entry.name


def test_every_suite_runs_end_to_end(tmp_path: Path) -> None:
    results = tmp_path / "results.csv"
    assert main(["run", *map(str, SUITES), "--results", str(results), "--quiet"]) == 0
    frame = pd.read_csv(results)
    assert len(frame) == sum(len(load_suite(path).entries) for path in SUITES)
    assert frame["macs"].gt(0).all() and frame["params"].gt(0).all()
    b7 = frame[(frame["suite"] == "paper_table2") & (frame["entry"] == "efficientnet_b7")]
    assert b7["macs"].item() == 37745884192 and b7["input_size"].item() == 600
