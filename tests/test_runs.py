"""Training runs side by side (``bench run --train-jobs N``): same rows, same resume rules."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from bench.accuracy.runs import SeedRun, train_runs
from bench.cli import main
from bench.models.registry import make_spec
from bench.specs import InputSpec, TrainBudget
from bench.store.results import read_results

SUITE = """\
name: jobs_check
metrics: [accuracy]
resolution_divisor: 1
train: {dataset: fashion_mnist, data_root: DATA, base_resolution: 28, train_images: 1024, test_images: 256, epochs: 3,
        batch_size: 64, optimizer: adamw, lr: 1.0e-2, weight_decay: 0.05, augment: false}
seeds: [0, 1]
models:
  - model: mobilenetv2_100
    scale: {w: 0.5}
"""


@pytest.mark.integration  # trains in worker processes
def test_parallel_runs_give_the_rows_of_sequential_runs(tmp_path: Path, fashion_mnist: Path) -> None:
    suite = tmp_path / "jobs_check.yaml"
    suite.write_text(SUITE.replace("DATA", str(fashion_mnist)))
    one, two = tmp_path / "one" / "results.csv", tmp_path / "two" / "results.csv"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the sequential runs at the thread count each parallel worker gets
    try:
        assert main(["run", str(suite), "--results", str(one), "--quiet"]) == 0
    finally:
        torch.set_num_threads(threads)
    assert main(["run", str(suite), "--results", str(two), "--quiet", "--train-jobs", "2"]) == 0
    a, b = (read_results(p).to_dict("records")[0] for p in (one, two))
    assert a["workload_key"] == b["workload_key"] and a["n_seeds"] == b["n_seeds"] == 2 and b["seeds"] == "0 1"
    # Same seeds, data, budget and threads per run: a worker process trains exactly as this one does.
    assert a["top1"] > 60 and (a["top1"], a["top1_std"]) == (b["top1"], b["top1_std"])
    assert len(list((tmp_path / "two" / "checkpoints").glob("*/result.json"))) == 2
    # Each row says how it was trained: two runs at once, one thread each (the default: one run).
    assert (b["train_jobs"], b["threads"]) == (2, 1) and a["train_jobs"] == 1


@pytest.mark.integration  # trains in worker processes
def test_finished_runs_come_back_without_training(tmp_path: Path, fashion_mnist: Path) -> None:
    budget = TrainBudget(
        data_root=str(fashion_mnist),
        base_resolution=28,
        train_images=256,
        test_images=128,
        epochs=1,
        batch_size=64,
        optimizer="adamw",
        lr=1e-2,
        augment=False,
    )
    spec = make_spec("mobilenetv2_100", width=0.5, inputs=InputSpec(28, 1, 1, 10))
    runs = [SeedRun(spec, budget, seed, tmp_path / f"s{seed}") for seed in (0, 1)]
    first = dict(train_runs(runs, jobs=2))
    assert sorted(first) == [0, 1] and first[0] != first[1]
    again = list(train_runs(runs, jobs=2))  # both read from result.json: in order, no worker started
    assert again == [(0, first[0]), (1, first[1])]


def test_a_failed_run_stops_the_queued_ones(tmp_path: Path, fashion_mnist: Path) -> None:
    budget = TrainBudget(
        data_root=str(fashion_mnist),
        base_resolution=28,
        train_images=2048,
        test_images=128,
        epochs=2,
        batch_size=64,
        optimizer="adamw",
        lr=1e-2,
        augment=False,
    )
    good = make_spec("mobilenetv2_100", width=0.5, inputs=InputSpec(28, 1, 1, 10))
    bad = make_spec("mobilenetv2_100", width=0.5, inputs=InputSpec(28, 1, 1, 100))  # 100 classes, data has 10
    runs = [SeedRun(bad, budget, 0, tmp_path / "bad")] + [
        SeedRun(good, budget, s, tmp_path / f"s{s}") for s in (1, 2, 3)
    ]
    with pytest.raises(ValueError, match="100 classes"):
        list(train_runs(runs, jobs=2))
    assert not (tmp_path / "s3" / "result.json").exists()  # cancelled before it started, not trained after


def test_runs_need_their_own_checkpoint_folders(tmp_path: Path) -> None:
    spec = make_spec("mobilenetv2_100", width=0.5, inputs=InputSpec(28, 1, 1, 10))
    run = SeedRun(spec, TrainBudget(), 0, tmp_path / "s0")
    with pytest.raises(ValueError, match="share a checkpoint folder"):
        list(train_runs([run, run], jobs=2))
    with pytest.raises(ValueError, match="jobs must be"):
        list(train_runs([run], jobs=0))


@pytest.mark.integration  # trains in worker processes
def test_entries_naming_one_network_share_its_runs(tmp_path: Path, fashion_mnist: Path) -> None:
    suite = tmp_path / "shared.yaml"
    suite.write_text(
        SUITE.replace("DATA", str(fashion_mnist)).replace("epochs: 3", "epochs: 1")
        + "  - {model: mobilenetv2_100, name: same-network, scale: {w: 0.5}}\n"
    )
    results = tmp_path / "results.csv"
    assert main(["run", str(suite), "--results", str(results), "--quiet", "--train-jobs", "2"]) == 0
    rows = read_results(results)
    assert sorted(rows["entry"]) == ["mobilenetv2_100-w0.5", "same-network"]
    assert rows["top1"].nunique() == 1  # the same two runs (one per seed) stand behind both rows
    assert len(list((tmp_path / "checkpoints").glob("*/result.json"))) == 2


def test_training_prints_a_line_per_epoch_and_a_top1_table(tmp_path: Path, fashion_mnist: Path, capfd) -> None:
    """Output that is not a terminal (a log file, CI) still says what happened: no bars, plain lines."""
    suite = tmp_path / "jobs_check.yaml"
    suite.write_text(SUITE.replace("DATA", str(fashion_mnist)).replace("epochs: 3", "epochs: 2"))
    assert main(["run", str(suite), "--results", str(tmp_path / "r.csv"), "--train-jobs", "2"]) == 0
    out = capfd.readouterr().out
    for seed in (0, 1):
        for epoch in (1, 2):
            assert f"mobilenetv2_100-w0.5 seed {seed}: epoch {epoch}/2, loss " in out
    assert "images/s" in out and "min left" in out and ", test top-1 " in out  # the last epoch is scored, split named
    table = out[out.index("top-1 %") :]
    row = read_results(tmp_path / "r.csv").iloc[0]
    assert f"{row['top1']:.2f}" in table and f"{row['top1_std']:.2f}" in table and "95% CI" in out


def _marked_sleep(folder: str, item: int, seconds: float) -> int:
    """A queued item that leaves a mark when it starts and another when it finishes."""
    import time
    from pathlib import Path

    Path(folder, f"started-{item}").touch()
    time.sleep(seconds)
    Path(folder, f"finished-{item}").touch()
    return item


def test_stopping_a_pool_cancels_queued_items_and_ends_running_workers(tmp_path) -> None:
    """What Ctrl-C does to ``bench run --train-jobs 2``: queued runs never start, running ones end now (not
    after their current item). Python 3.11's ``shutdown`` forgets the workers, so they must be taken first.

    Judged by what the items did, not only by which futures the executor managed to mark cancelled: the
    executor hands up to workers + 1 queued items to its call queue beside the running ones, and how many it
    has handed over when the stop comes depends on the machine's load. Each item takes 3 s; a pool whose
    workers were not ended would finish the running items and start queued ones within the 4 s watched after
    the stop."""
    import multiprocessing
    import time
    from concurrent.futures import ProcessPoolExecutor

    from bench.measure.parallel import stop_pool

    workers_n, items = 2, 8
    pool = ProcessPoolExecutor(workers_n, multiprocessing.get_context("fork"))
    futures = [pool.submit(_marked_sleep, str(tmp_path), i, 3.0) for i in range(items)]
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob("started-*")):
        assert time.monotonic() < deadline, "no item started within 60 s"
        time.sleep(0.01)
    workers = list(pool._processes.values())
    began = time.monotonic()
    stop_pool(pool)
    assert time.monotonic() - began < 10
    assert all(not w.is_alive() for w in workers)
    time.sleep(4.0)
    assert not list(tmp_path.glob("finished-*"))  # the running items were ended, not let finish
    assert len(list(tmp_path.glob("started-*"))) <= workers_n  # no queued item started after the stop
    assert not any(f.done() and not f.cancelled() and f.exception() is None for f in futures)
    # What was never handed over is cancelled: at most one item per worker plus the call queue's workers + 1.
    assert sum(f.cancelled() for f in futures) >= items - (2 * workers_n + 1)
