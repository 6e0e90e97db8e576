"""The paper's reported numbers, transcribed as data (see README.md in this folder)."""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

PAPER_TABLES = "paper_tables.csv"


@cache
def _rows(name: str) -> tuple[dict[str, str], ...]:
    """The rows of one CSV file of this folder (empty cells are '')."""
    return tuple(csv.DictReader(resources.files(__name__).joinpath(name).read_text().splitlines()))


def paper_rows() -> dict[str, dict[str, str]]:
    """Rows of Tables 2, 3, 4 and 7 keyed by ``ref`` (e.g. ``table2/efficientnet-b4``); empty cells are ''."""
    return {row["ref"]: row for row in _rows(PAPER_TABLES)}


def paper_value(ref: str, column: str) -> float | None:
    """One reported number, or None where the paper gives none."""
    cell = paper_rows()[ref][column]
    return float(cell) if cell else None


PAPER_CLAIMS = "paper_claims.csv"


def paper_claims() -> dict[str, dict[str, str]]:
    """The paper's stated efficiency ratios (claims 7, 8, 9, 11) keyed by claim number; empty cells are ''."""
    return {row["claim"]: row for row in _rows(PAPER_CLAIMS)}


def claim_value(claim: str, column: str) -> float | None:
    """One stated ratio of a claim, or None where the claim states none."""
    cell = paper_claims()[claim][column]
    return float(cell) if cell else None


TIMM_RESULTS = "timm_results_imagenet.csv"
#: Where ``timm_results_imagenet.csv`` comes from (source ``reported-timm``): timm's own ImageNet-1k
#: validation results, copied unchanged from its repository.
TIMM_RESULTS_ORIGIN = (
    "huggingface/pytorch-image-models results/results-imagenet.csv, last changed in commit 4e5207c7bb65 "
    "(2025-10-30); copied 2026-12-03"
)


def timm_results() -> list[dict[str, str]]:
    """timm's published ImageNet top-1/top-5 per pretrained tag and eval size (source ``reported-timm``)."""
    return list(_rows(TIMM_RESULTS))
