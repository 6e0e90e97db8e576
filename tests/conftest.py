"""Shared fixtures: paths to the checked-in reference data and the shipped suites."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = Path(__file__).resolve().parent / "reference"
SUITES = sorted((ROOT / "suites").glob("*.yaml"))


def read_reference(name: str) -> list[dict[str, str]]:
    with open(REFERENCE / name, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def results_path(tmp_path: Path) -> Path:
    return tmp_path / "results.csv"
