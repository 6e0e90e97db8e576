"""Train many (network, seed) runs, several at once in worker processes when asked.

Why: on a small CPU, training kernels are small (tiny feature maps, many layers) and scale
badly across threads. On the 2-core machine two single-thread trainings side by side process
about 1.45x the images per second of one two-thread training (B0, 32 px, batch 128: 2 x 346
against 474 images/s). So ``jobs`` runs go at once, each with ``threads`` threads.

Workers are spawned, not forked: the parent may already have run OpenMP regions (data
resizing, latency), which a forked child cannot use safely. A worker trains exactly as the
parent would (same seed, data, budget, checkpoints); only the thread count differs, which
changes float rounding, not the experiment. CUDA runs always go one at a time in-process.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import torch

from bench.accuracy.distributed import DistContext
from bench.accuracy.train import TrainBudget, TrainResult, finished_result, train_model
from bench.specs import ModelSpec


@dataclass(frozen=True)
class SeedRun:
    """One training run: a network, a budget, a seed, and where its checkpoints go."""

    spec: ModelSpec
    budget: TrainBudget
    seed: int
    checkpoint_dir: Path


def _train(run: SeedRun, threads: int | None = None, dist: DistContext | None = None, progress: bool = False,
           data_cache: dict | None = None) -> TrainResult:
    if threads:
        torch.set_num_threads(threads)
    return train_model(run.spec, run.budget, run.seed, checkpoint_dir=run.checkpoint_dir, dist=dist,
                       data_cache=data_cache, progress=progress)


def train_runs(runs: list[SeedRun], jobs: int = 1, threads: int | None = None, dist: DistContext | None = None,
               progress: bool = False, data_cache: dict | None = None) -> Iterator[tuple[int, TrainResult]]:
    """(index, result) for each run, in completion order.

    Finished runs (a ``result.json`` in their checkpoint folder) come back first, without a worker.
    With ``jobs`` > 1 (CPU only) the rest train ``jobs`` at a time in spawned workers with
    ``threads`` threads each (default: this process's threads // jobs, at least 1). Under torchrun
    (``dist`` with several processes) runs go one at a time, each spread over the processes.
    """
    dist = dist or DistContext()
    todo = []
    for i, run in enumerate(runs):
        done = finished_result(run.checkpoint_dir)
        if done is not None:
            yield i, done
        else:
            todo.append(i)
    if jobs <= 1 or len(todo) <= 1 or dist.world_size > 1 or any(runs[i].budget.device == "cuda" for i in todo):
        for i in todo:
            yield i, _train(runs[i], dist=dist, progress=progress, data_cache=data_cache)
        return
    threads = threads or max(1, torch.get_num_threads() // jobs)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=context) as pool:
        futures = {pool.submit(_train, runs[i], threads): i for i in todo}
        for future in as_completed(futures):
            yield futures[future], future.result()
