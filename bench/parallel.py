"""Run a function over items in worker processes, yielding results as they finish.

Workers are forked: they start instantly with everything the parent has imported and
warmed up (a forkserver or spawned worker spends its first seconds importing torch and
timm and compiling dispatch paths). This is safe for the work done here because workers
only build and run networks on the ``meta`` device: no OpenMP region, no CUDA call, no
real tensor math happens in a child, so thread pools the parent may hold are never touched.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def imap_unordered(fn: Callable[[T], R], items: Iterable[T], jobs: int) -> Iterator[tuple[int, R]]:
    """(index, fn(item)) for each item, in completion order; in-process when ``jobs`` <= 1."""
    items = list(items)
    if jobs <= 1 or len(items) <= 1:
        yield from ((i, fn(item)) for i, item in enumerate(items))
        return
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    with ProcessPoolExecutor(max_workers=min(jobs, len(items)), mp_context=multiprocessing.get_context(method)) as pool:
        futures = {pool.submit(fn, item): i for i, item in enumerate(items)}
        for future in as_completed(futures):
            yield futures[future], future.result()
