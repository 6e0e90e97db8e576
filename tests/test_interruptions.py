"""Real ``bench run`` processes killed at several moments, and several writing one store at once.

A kill (SIGKILL, or Ctrl-C to the whole process group) at any point keeps every finished row,
leaves no worker alive, and a rerun ends with exactly the rows of an uninterrupted run: none
lost, none duplicated, no temporary file left. Two or three runs sharing a store end with the
union of their rows.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT

IDENTITY = ["suite", "entry", "measurement", "workload_key", "machine"]

# spawns processes (workers, torchrun, a killed run): the integration tier (pytest -m integration)
pytestmark = pytest.mark.integration


def _train_suite(folder: Path, data: Path) -> Path:
    path = folder / "tiny_train.yaml"
    path.write_text(
        "name: tiny_train\nmetrics: [complexity, accuracy]\nresolution_divisor: 1\n"
        f"train: {{dataset: fashion_mnist, data_root: {data}, base_resolution: 16, train_images: 512, "
        "test_images: 128, epochs: 3, batch_size: 64, optimizer: adamw, lr: 1.0e-2, augment: false}\n"
        "seeds: [0, 1]\nmodels:\n"
        "  - model: mobilenetv2_100\n    scale: {w: 0.35}\n"
        "  - model: mobilenetv2_100\n    scale: {w: 0.5}\n"
    )
    return path


def _count_suite(folder: Path, name: str, models: list[str]) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(f"name: {name}\nmetrics: [complexity]\nmodels:\n" + "".join(f"  - model: {m}\n" for m in models))
    return path


def _start(suite: Path, results: Path, *extra: str) -> subprocess.Popen:
    """``bench run`` as a user would start it, in its own process group (as a terminal job is)."""
    command = [sys.executable, "-m", "bench", "run", str(suite), "--results", str(results), "--quiet", *extra]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # as from a terminal: a test session started in the background (``cmd &`` in a script) ignores
        # SIGINT, and Python would then never turn Ctrl-C into KeyboardInterrupt in the child
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_for(condition: Callable[[], bool], proc: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"the run ended before the kill point (rc {proc.returncode}): {proc.stderr.read()[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the kill point was never reached")
        time.sleep(0.05)


def _alive_in_group(group: int) -> list[int]:
    """Live (not zombie) processes of a process group, read from /proc."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            alive.append(int(stat.parent.name))
    return alive


def _rows(results: Path) -> pd.DataFrame:
    return pd.read_csv(results, dtype=str, keep_default_na=False)


def _temporary_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


@pytest.fixture(scope="module")
def reference(fashion_mnist: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The rows of one uninterrupted run."""
    folder = tmp_path_factory.mktemp("reference")
    proc = _start(_train_suite(folder, fashion_mnist), folder / "results.csv", "--train-jobs", "2")
    assert proc.wait(timeout=600) == 0, proc.stderr.read()
    return _rows(folder / "results.csv")


KILL_POINTS: dict[str, Callable[[Path], bool]] = {
    # the complexity rows are stored, no training run has finished an epoch yet
    "after_counting": lambda out: (out / "results.csv").exists(),
    # training runs are mid-way: some have a checkpoint, none has finished
    "mid_training": lambda out: any((out / "checkpoints").glob("*/last.pt")),
    # some runs have finished, others have not
    "some_runs_finished": lambda out: any((out / "checkpoints").glob("*/result.json")),
}


@pytest.mark.parametrize("point", sorted(KILL_POINTS))
def test_sigkill_at_any_point_then_rerun_ends_with_the_uninterrupted_rows(
    point: str, reference: pd.DataFrame, fashion_mnist: Path, tmp_path: Path
) -> None:
    suite, results = _train_suite(tmp_path, fashion_mnist), tmp_path / "results.csv"
    proc = _start(suite, results, "--train-jobs", "2")
    _wait_for(lambda: KILL_POINTS[point](tmp_path), proc)
    os.kill(proc.pid, signal.SIGKILL)  # the parent only: its workers must follow it by themselves
    proc.wait()
    deadline = time.monotonic() + 30
    while _alive_in_group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _alive_in_group(proc.pid) == [], "workers outlived the killed parent"
    kept = _rows(results) if results.exists() else pd.DataFrame(columns=IDENTITY)
    assert not kept.duplicated(IDENTITY).any()

    again = _start(suite, results, "--train-jobs", "2")
    assert again.wait(timeout=600) == 0, again.stderr.read()
    final = _rows(results)
    assert not final.duplicated(IDENTITY).any()
    key = ["entry", "measurement", "workload_key"]
    assert sorted(map(tuple, final[key].values)) == sorted(map(tuple, reference[key].values))
    # every row kept at the kill is still there, unchanged
    merged = kept.merge(final, on=IDENTITY, suffixes=("", "_final"))
    assert len(merged) == len(kept) and (merged["timestamp"] == merged["timestamp_final"]).all()
    assert _temporary_files(tmp_path) == []


def test_ctrl_c_stops_training_at_once_prints_one_line_and_a_rerun_resumes(fashion_mnist: Path, tmp_path: Path) -> None:
    suite, results = _train_suite(tmp_path, fashion_mnist), tmp_path / "results.csv"
    proc = _start(suite, results, "--train-jobs", "2")
    _wait_for(lambda: KILL_POINTS["mid_training"](tmp_path), proc)
    began = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C: the whole foreground group
    _, err = proc.communicate(timeout=60)
    while _alive_in_group(proc.pid) and time.monotonic() - began < 60:
        time.sleep(0.05)
    assert _alive_in_group(proc.pid) == []
    assert time.monotonic() - began < 15, "the workers went on training after Ctrl-C"
    assert proc.returncode == 130
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith("interrupted:")
    assert _rows(results)["measurement"].tolist() == ["complexity", "complexity"]
    assert list((tmp_path / "checkpoints").glob("*/result.json")) == []  # no run finished, no queued one started
    resumed = _start(suite, results, "--train-jobs", "2")
    out, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err
    assert sorted(_rows(results)["measurement"]) == ["accuracy", "accuracy", "complexity", "complexity"]


def test_concurrent_writers_end_with_the_union_of_their_rows(tmp_path: Path) -> None:
    results = tmp_path / "results.csv"
    suites = [
        _count_suite(tmp_path, "one", ["resnet18", "mobilenetv2_050"]),
        _count_suite(tmp_path, "two", ["resnet34", "mobilenetv2_100"]),
        _count_suite(tmp_path, "one_again", ["resnet18", "mobilenetv2_050"]),
    ]
    procs = [_start(suite, results, "--jobs", "1", "--no-cache", "--json") for suite in suites]
    procs.append(_start(suites[0], results, "--jobs", "1", "--no-cache", "--json"))  # the same suite twice at once
    summaries = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        summaries += json.loads(out)["suites"]
    # each says the rows it wrote: the two runs of "one" together wrote its two rows, not two each
    written = {name: sum(s["written"] for s in summaries if s["suite"] == name) for name in ("one", "two")}
    assert written == {"one": 2, "two": 2}
    rows = _rows(results)
    assert not rows.duplicated(IDENTITY).any()
    assert sorted(zip(rows["suite"], rows["entry"], strict=True)) == sorted(
        [("one", "resnet18"), ("one", "mobilenetv2_050"), ("two", "resnet34"), ("two", "mobilenetv2_100")]
        + [("one_again", "resnet18"), ("one_again", "mobilenetv2_050")]
    )
    assert _temporary_files(tmp_path) == []
