"""Run a function over items in worker processes, yielding results as they finish.

Workers are forked: they start instantly with everything the parent has imported and
warmed up (a forkserver or spawned worker spends its first seconds importing torch and
timm and compiling dispatch paths). This is safe for the work done here because workers
only build and run networks on the ``meta`` device: no OpenMP region, no CUDA call, no
real tensor math happens in a child, so thread pools the parent may hold are never touched.

Every worker (these, the spawned training workers, the gate's workers) dies with the process
that started it (``die_with_parent``): a killed ``bench run`` leaves no worker behind holding
its output open or writing.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent: int | None = None) -> None:
    """Make this worker the parent's alone to stop: Ctrl-C (SIGINT to the whole terminal group) is left
    to the parent, which stops its workers itself and prints one line; and on Linux the worker gets
    SIGTERM when the process that started it dies, even by SIGKILL.

    Used as a worker pool's initializer and as a subprocess's ``preexec_fn`` (both settings survive
    ``exec``). If ``parent`` (the starter's pid) is given and has already gone, exit now.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # no libc prctl (an unusual libc): workers then end when their pipes close
        return
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def imap_unordered(
    fn: Callable[[T], R],
    items: Iterable[T],
    jobs: int,
    start_method: str | None = None,
    initializer: Callable[[int], None] = die_with_parent,
) -> Iterator[tuple[int, R]]:
    """(index, fn(item)) for each item, in completion order; in-process when ``jobs`` <= 1.

    ``start_method`` is ``fork`` on Linux by default (see above); training passes ``spawn``, since its workers
    run real tensor math with thread pools of their own. ``initializer`` gets the starter's pid
    (``die_with_parent`` or a wrapper of it).
    """
    items = list(items)
    if jobs <= 1 or len(items) <= 1:
        yield from ((i, fn(item)) for i, item in enumerate(items))
        return
    method = start_method or ("fork" if sys.platform.startswith("linux") else "spawn")
    context = multiprocessing.get_context(method)
    workers = min(jobs, len(items))
    pool = ProcessPoolExecutor(workers, context, initializer=initializer, initargs=(os.getpid(),))
    try:
        futures = {pool.submit(fn, item): i for i, item in enumerate(items)}
        for future in as_completed(futures):
            yield futures[future], future.result()
    except BaseException:  # a failed item, Ctrl-C, or the caller closing this generator early
        stop_pool(pool)
        raise
    pool.shutdown()


def stop_pool(pool: ProcessPoolExecutor, grace: float = 5.0) -> None:
    """Cancel what has not started and end the workers now, not after their current item: SIGTERM, then
    SIGKILL for any worker still alive after ``grace`` seconds.

    The workers are taken before ``shutdown``, which forgets them (Python 3.11 sets ``_processes`` to None):
    taken after it, there would be none to stop, and every queued item would still run.
    """
    if hasattr(pool, "terminate_workers"):  # Python >= 3.14: takes the workers, then shuts down
        pool.terminate_workers()
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        if not _reaped(process, deadline):
            process.kill()
            _reaped(process, time.monotonic() + 1.0)


def _reaped(process, deadline: float) -> bool:
    """Wait until ``process`` has exited and been reaped, or ``deadline`` passes; whether it has. ``join``
    alone returns once the process's sentinel closes, which on a busy machine can come a moment before the
    exit can be collected, so it is asked again until ``exitcode`` is set."""
    while process.exitcode is None:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        process.join(min(left, 0.05))
    return True
