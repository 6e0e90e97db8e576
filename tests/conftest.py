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


def write_idx(path: Path, array) -> None:
    """Write a uint8 array as a gzipped idx file (the Fashion-MNIST format)."""
    import gzip
    import struct

    import numpy as np

    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.tobytes())


def synthetic_fashion_mnist(root: Path, train: int = 2048, test: int = 1000) -> Path:
    """Learnable stand-in for Fashion-MNIST in its file layout: 10 classes, each a sinusoidal
    grating at its own angle (18 degrees apart) with a random phase, under noise."""
    import numpy as np

    rng = np.random.default_rng(1234)
    yy, xx = np.mgrid[0:28, 0:28].astype(float)
    root.mkdir(parents=True, exist_ok=True)
    for split, count in (("train", train), ("t10k", test)):
        labels = rng.integers(0, 10, count)
        angles = np.deg2rad(18.0 * labels)[:, None, None]
        phases = rng.uniform(0, 2 * np.pi, (count, 1, 1))
        waves = np.sin(2 * np.pi / 10 * (xx * np.cos(angles) + yy * np.sin(angles)) + phases)
        images = 128 + 90 * waves + rng.normal(0, 20, (count, 28, 28))
        write_idx(root / f"{split}-images-idx3-ubyte.gz", images.clip(0, 255))
        write_idx(root / f"{split}-labels-idx1-ubyte.gz", labels)
    return root


@pytest.fixture(scope="session")
def fashion_mnist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_fashion_mnist(tmp_path_factory.mktemp("fashion-mnist"))
