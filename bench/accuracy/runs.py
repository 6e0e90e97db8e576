"""Train many (network, seed) runs, several at once in worker processes when asked.

Why: on a small CPU, training kernels are small (tiny feature maps, many layers) and scale
badly across threads. On the 2-core machine two single-thread trainings side by side process
about 1.49x the images per second of one two-thread training (B0, 32 px, batch 128: 681
against 456 images/s). So ``jobs`` runs go at once, each with ``threads`` threads (a budget's own
``threads``, when set, still wins: it is the thread count of each run).

Workers are spawned, not forked: the parent may already have run OpenMP regions (data
resizing, latency), which a forked child cannot use safely. A worker trains exactly as the
parent would (same seed, data, budget, checkpoints); only the thread count differs, which
changes float rounding, not the experiment. Each result records its threads and how many runs
shared the machine. CUDA runs always go one at a time in-process. If a run fails or the parent is
interrupted, queued runs are cancelled and running workers stopped (their last epoch's checkpoint
stays, so a rerun resumes).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import torch

from bench.accuracy.data import load_dataset
from bench.accuracy.distributed import DistContext
from bench.accuracy.run_state import BrokenRunError, TrainResult, check_run, finished_result, move_aside
from bench.accuracy.train import train_model
from bench.errors import InputError
from bench.measure.parallel import die_with_parent, imap_unordered
from bench.specs import ModelSpec, TrainBudget


@dataclass(frozen=True)
class SeedRun:
    """One training run: a network, a budget, a seed, and where its checkpoints go."""

    spec: ModelSpec
    budget: TrainBudget
    seed: int
    checkpoint_dir: Path


def _train(
    run: SeedRun,
    *,
    threads: int | None = None,
    dist: DistContext | None = None,
    progress: bool = False,
    data_cache: dict | None = None,
    concurrent: int = 1,
    log_epochs: bool = False,
    restart_broken: bool = False,
) -> TrainResult:
    if threads:
        torch.set_num_threads(threads)
    return train_model(
        run.spec,
        run.budget,
        run.seed,
        checkpoint_dir=run.checkpoint_dir,
        dist=dist,
        data_cache=data_cache,
        progress=progress,
        concurrent=concurrent,
        log_epochs=log_epochs,
        restart_broken=restart_broken,
    )


def _start_worker(parent: int) -> None:
    """A training worker's initializer: it dies with its parent, and tqdm's lock is a thread lock, not tqdm's
    default process lock, whose semaphore a stopped worker would leave behind (Python then warns at exit, after
    the one line that says the run was interrupted)."""
    from tqdm import tqdm

    die_with_parent(parent)
    tqdm.set_lock(threading.RLock())


def check_runs(runs: list[SeedRun], restart_broken: bool) -> None:
    """Before any training: every run folder that cannot be resumed is refused (all of them named), or,
    with ``restart_broken``, moved aside so that its run starts afresh. A checkpoint that reads but does
    not fit its model is found when the run resumes, and handled the same way there."""
    broken = [
        (run, reason) for run in runs if run.checkpoint_dir.exists() and (reason := check_run(run.checkpoint_dir))
    ]
    if not broken:
        return
    if not restart_broken:
        lines = [reason for _, reason in broken]
        more = f" (and {len(lines) - 1} more broken run folder(s))" if len(lines) > 1 else ""
        raise BrokenRunError(lines[0] + more)
    for run, _ in broken:
        moved = move_aside(run.checkpoint_dir)
        print(f"{run.spec.name} seed {run.seed}: broken run moved aside to {moved}; training it again", flush=True)


def _fetch_downloads(budgets: set[TrainBudget]) -> None:
    """Download what budgets with ``download: true`` need here, once, before workers would race to."""
    for budget in budgets:
        for split in ("train", "test"):
            load_dataset(
                budget.dataset,
                split,
                root=Path(budget.data_root) if budget.data_root else None,
                size=budget.base_resolution,
                download=True,
            )


def train_runs(
    runs: list[SeedRun],
    jobs: int = 1,
    threads: int | None = None,
    dist: DistContext | None = None,
    progress: bool = False,
    data_cache: dict | None = None,
    log_epochs: bool = False,
    restart_broken: bool = False,
) -> Generator[tuple[int, TrainResult], None, None]:
    """(index, result) for each run, in completion order.

    Finished runs (a ``result.json`` in their checkpoint folder) come back first, without a worker.
    With ``jobs`` > 1 (CPU only) the rest train ``jobs`` at a time in spawned workers with
    ``threads`` threads each (default: this process's threads // jobs, at least 1). Under torchrun
    (``dist`` with several processes) runs go one at a time, each spread over the processes.
    Runs must have distinct checkpoint folders. ``log_epochs`` prints a line per finished epoch.
    Broken run folders stop everything before any training starts (``check_runs``), unless
    ``restart_broken``.
    """
    if jobs < 1:
        raise InputError(f"jobs must be >= 1, got {jobs}")
    folders = [run.checkpoint_dir for run in runs]
    if len(set(folders)) != len(folders):
        raise InputError("two runs share a checkpoint folder; they would overwrite each other")
    dist = dist or DistContext()
    check_runs(runs, restart_broken)
    todo = []
    for i, run in enumerate(runs):
        done = finished_result(run.checkpoint_dir)
        if done is not None:
            yield i, done
        else:
            todo.append(i)
    if jobs <= 1 or len(todo) <= 1 or dist.world_size > 1 or any(runs[i].budget.device == "cuda" for i in todo):
        for i in todo:
            yield (
                i,
                _train(
                    runs[i],
                    dist=dist,
                    progress=progress,
                    data_cache=data_cache,
                    log_epochs=log_epochs,
                    restart_broken=restart_broken,
                ),
            )
        return
    _fetch_downloads({runs[i].budget for i in todo if runs[i].budget.download})
    workers = min(jobs, len(todo))
    threads = threads or max(1, torch.get_num_threads() // jobs)
    work = functools.partial(
        _train, threads=threads, concurrent=workers, log_epochs=log_epochs, restart_broken=restart_broken
    )
    pending = [runs[i] for i in todo]
    for j, result in imap_unordered(work, pending, workers, start_method="spawn", initializer=_start_worker):
        yield todo[j], result
