"""``torchrun`` with two CPU processes (gloo, DistributedDataParallel) against one process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.store.results import read_results
from tests.conftest import ROOT

# spawns processes (workers, torchrun, a killed run): the integration tier (pytest -m integration)
pytestmark = pytest.mark.integration

SUITE = """\
name: ddp_check
metrics: [accuracy]
resolution_divisor: 1
train: {dataset: fashion_mnist, data_root: DATA, base_resolution: 28, train_images: 1536, test_images: 1000, epochs: 3,
        batch_size: 64, optimizer: adamw, lr: 1.0e-2, weight_decay: 0.05, augment: false}
seeds: [0]
models:
  - model: mobilenetv2_100
    scale: {w: 0.5}
"""


def _run(command: list[str], cwd: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]


def test_two_processes_train_like_one(tmp_path: Path, fashion_mnist: Path) -> None:
    suite = tmp_path / "ddp_check.yaml"
    suite.write_text(SUITE.replace("DATA", str(fashion_mnist)))
    one, two = tmp_path / "one" / "results.csv", tmp_path / "two" / "results.csv"
    _run([sys.executable, "-m", "bench", "run", str(suite), "--results", str(one), "--quiet"], ROOT)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29517"]
    _run(torchrun + ["-m", "bench", "run", str(suite), "--results", str(two), "--quiet"], ROOT)
    single, double = (read_results(p).to_dict("records") for p in (one, two))
    assert len(single) == len(double) == 1  # rank 0 alone writes
    a, b = single[0], double[0]
    assert a["workload_key"] == b["workload_key"]
    # Same global batch, steps and schedule; only BatchNorm statistics (per process, 32 images)
    # differ. On the synthetic stand-in for Fashion-MNIST one process reached 97.3% and two 96.9%
    # (chance is 10%); a broken gradient all-reduce leaves one process's half of every batch unused.
    assert a["top1"] > 85 and b["top1"] > 85
    assert abs(a["top1"] - b["top1"]) < 4.0, (a["top1"], b["top1"])
    assert (tmp_path / "two" / "checkpoints").is_dir()
    assert (a["train_processes"], b["train_processes"]) == (1, 2)  # the row says how it was trained
