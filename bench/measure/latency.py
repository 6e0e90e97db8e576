"""Latency, throughput and memory of a network, on CPU or CUDA, with the conditions explicit.

One implementation for every door: the CLI and suites call ``measure_latency`` /
``measure_throughput``; pytest-benchmark times ``Runner.step`` inside ``measurement_state``.

Protocol (also in the README):

* the model is put in eval mode, moved to the device (channels_last and ``torch.compile`` if
  asked) and run under ``torch.inference_mode`` (and ``torch.autocast`` for bf16/fp16);
* CPU intra-op threads are set to ``conditions.threads`` and restored afterwards, as are
  ``cudnn.benchmark`` and the grad mode;
* ``warmup_iterations`` untimed forwards, then timed forwards until both
  ``min_iterations`` and ``min_time_s`` are reached (at most ``max_iterations``);
* each forward is timed on its own: ``time.perf_counter_ns`` on CPU; on CUDA a pair of CUDA
  events around the forward, forwards queued in chunks of ``CUDA_CHUNK`` and the events read
  after one synchronize per chunk (so the loop can check ``min_time_s``), so timing adds no
  host-device stall between the forwards of a chunk;
* statistics over the per-forward times: median (p50), p90, p99, mean, std and coefficient
  of variation; throughput is images / mean time;
* on CUDA, peak memory is ``torch.cuda.max_memory_allocated`` after a reset; a batch that
  runs out of memory is halved until it fits, and the row records both batches.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch import nn

from bench.specs import LatencyConditions

#: The torch dtype of each precision name (None: no autocast).
PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class TimingStats:
    """Summary of per-forward times in milliseconds."""

    samples_ms: tuple[float, ...] = field(repr=False)

    def _percentile(self, q: float) -> float:
        return float(np.percentile(self.samples_ms, q))

    @property
    def iterations(self) -> int:
        return len(self.samples_ms)

    @property
    def p50(self) -> float:
        return self._percentile(50)

    @property
    def p90(self) -> float:
        return self._percentile(90)

    @property
    def p99(self) -> float:
        return self._percentile(99)

    @property
    def mean(self) -> float:
        return float(np.mean(self.samples_ms))

    @property
    def std(self) -> float:
        return float(np.std(self.samples_ms, ddof=1)) if self.iterations > 1 else 0.0

    @property
    def cv(self) -> float:
        """Coefficient of variation, std / mean."""
        return self.std / self.mean if self.mean else math.nan

    def __repr__(self) -> str:
        if not self.samples_ms:
            return "TimingStats(no samples)"
        return (
            f"TimingStats(p50={self.p50:.3f} ms, p90={self.p90:.3f} ms, p99={self.p99:.3f} ms, "
            f"mean={self.mean:.3f} ms, cv={self.cv:.1%}, iterations={self.iterations})"
        )


@dataclass(frozen=True)
class LatencyResult:
    """Timings of one model at one batch size under ``conditions``."""

    conditions: LatencyConditions
    input_size: int
    batch_requested: int
    batch_used: int
    stats: TimingStats
    threads: int  # intra-op threads in effect (conditions.threads, or torch's default when that is None)
    peak_memory_mb: float | None = None
    core: int | None = None  # the CPU core the measurement was pinned to, if it was
    #: The timed process's CPU time over wall time x threads while timing (CPU only): near 1 when the forwards ran
    #: undisturbed, lower when the process waited for a core (a busy machine), as pyperf checks. None on CUDA.
    cpu_wall_ratio: float | None = None

    @property
    def noisy(self) -> bool:
        return is_noisy(self.stats.cv)

    @property
    def contended(self) -> bool:
        return is_contended(self.cpu_wall_ratio)

    @property
    def throughput(self) -> float:
        """Images per second: batch / mean time per forward."""
        return self.batch_used * 1000.0 / self.stats.mean


def timing_core() -> int | None:
    """The core a pinned measurement uses: the last this process may run on (the first core of a
    machine takes most interrupts), or None where affinity cannot be set."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    return max(os.sched_getaffinity(0))


@contextlib.contextmanager
def pinned(core: int | None) -> Iterator[int | None]:
    """Run the block on ``core`` alone (no-op for None); the affinity is restored after."""
    if core is None:
        yield None
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {core})
    try:
        yield core
    finally:
        os.sched_setaffinity(0, before)


@contextlib.contextmanager
def measurement_state(conditions: LatencyConditions) -> Iterator[int | None]:
    """Set threads, the core (``conditions.pins``), cudnn autotuning and inference mode for a
    measurement; restore them after. Yields the pinned core, or None."""
    threads = torch.get_num_threads()
    cudnn_benchmark = torch.backends.cudnn.benchmark
    try:
        if conditions.threads is not None:
            torch.set_num_threads(conditions.threads)
        if conditions.device == "cuda":
            torch.backends.cudnn.benchmark = True
        with pinned(timing_core() if conditions.pins else None) as core, torch.inference_mode():
            yield core
    finally:
        torch.set_num_threads(threads)
        torch.backends.cudnn.benchmark = cudnn_benchmark


class Runner:
    """A model prepared for timing: on its device, in its memory format, with its input ready.

    ``step()`` runs one forward and waits for it to finish (synchronizing on CUDA), which is
    what an external harness such as pytest-benchmark should time; ``timed_step()`` returns
    the forward's time in ms, with CUDA events on the GPU.
    """

    def __init__(
        self,
        model: nn.Module,
        input_shape: tuple[int, int, int],
        conditions: LatencyConditions,
        batch_size: int | None = None,
    ) -> None:
        if conditions.device == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("CUDA was asked for but torch.cuda.is_available() is False")
        self.conditions = conditions
        self.device = torch.device(conditions.device)
        self.batch_size = batch_size or conditions.batch_size
        memory_format = torch.channels_last if conditions.channels_last else torch.contiguous_format
        model = model.eval().to(self.device).to(memory_format=memory_format)
        self.model: Callable = torch.compile(model) if conditions.compile else model
        self.input = torch.randn((self.batch_size, *input_shape), device=self.device).contiguous(
            memory_format=memory_format
        )
        dtype = PRECISIONS[conditions.precision]
        self._autocast = (lambda: torch.autocast(self.device.type, dtype=dtype)) if dtype else contextlib.nullcontext

    def forward(self) -> torch.Tensor:
        with self._autocast():
            return self.model(self.input)

    def step(self) -> None:
        self.forward()
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def timed_step(self) -> float:
        """One forward's wall time in ms (CPU); use ``time_iterations`` for CUDA event timing."""
        start = time.perf_counter_ns()
        self.step()
        return (time.perf_counter_ns() - start) / 1e6

    def time_iterations(self, count: int) -> list[float]:
        """Per-forward times (ms) of ``count`` forwards."""
        if self.device.type != "cuda":
            return [self.timed_step() for _ in range(count)]
        events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(count)]
        torch.cuda.synchronize(self.device)
        for start, end in events:
            start.record()
            self.forward()
            end.record()
        torch.cuda.synchronize(self.device)
        return [start.elapsed_time(end) for start, end in events]


#: A latency row whose CV (std / mean of its forwards) is above this is noisy.
CV_TARGET = 0.05
#: Below this CPU-time / wall-time ratio the process waited for a core while timing: the row is contended.
CONTENTION_RATIO = 0.9
#: What usually makes a row noisy or contended, for messages.
NOISE_CAUSES = "usually a busy machine (other processes on these cores) or timing that is not pinned to one core"


def is_noisy(cv: float | None) -> bool:
    return cv is not None and cv == cv and cv > CV_TARGET


def is_contended(ratio: float | None) -> bool:
    return ratio is not None and ratio == ratio and ratio < CONTENTION_RATIO


def cpu_wall_ratio(cpu_s: float, wall_s: float, threads: int) -> float | None:
    """CPU time of the process over the wall time its ``threads`` could have used; None for no wall time."""
    return cpu_s / (wall_s * max(threads, 1)) if wall_s > 0 else None


def noise_warnings(result: LatencyResult) -> list[str]:
    """One line per reason not to trust ``result`` as a quiet-machine figure (empty when there is none)."""
    lines = []
    if result.noisy:
        lines.append(
            f"CV {result.stats.cv:.1%} is above the {CV_TARGET:.0%} target (p50 {result.stats.p50:.3f} ms, "
            f"p99 {result.stats.p99:.3f} ms): {NOISE_CAUSES}"
        )
    if result.contended and result.cpu_wall_ratio is not None:
        lines.append(
            f"contended: the process ran {result.cpu_wall_ratio:.0%} of the time it was timed (CPU/wall "
            f"{result.cpu_wall_ratio:.2f} < {CONTENTION_RATIO}); another process shared its core(s)"
        )
    return lines


#: CUDA forwards queued between two synchronizes (each still timed on its own by a pair of events).
CUDA_CHUNK = 10


def _time_until_enough(runner: Runner, conditions: LatencyConditions, stop_above_ms: float | None) -> list[float]:
    for _ in range(conditions.warmup_iterations):
        runner.step()
    samples: list[float] = []
    started = time.perf_counter()
    chunk = 1 if runner.device.type == "cpu" else CUDA_CHUNK
    while len(samples) < conditions.max_iterations and (
        len(samples) < conditions.min_iterations or time.perf_counter() - started < conditions.min_time_s
    ):
        samples.extend(runner.time_iterations(min(chunk, conditions.max_iterations - len(samples))))
        if stop_above_ms is not None and min(samples) > stop_above_ms:
            break
    return samples


def measure_latency(
    model: nn.Module,
    input_shape: tuple[int, int, int],
    conditions: LatencyConditions,
    *,
    stop_above_ms: float | None = None,
) -> LatencyResult:
    """Time forwards of ``model`` at ``conditions.batch_size``; on CUDA, halve the batch on OOM.

    ``stop_above_ms``: stop as soon as every forward timed so far took longer than this, however few (a quick
    look at a model far over a budget, which more forwards would not bring within it)."""
    batch = conditions.batch_size
    with measurement_state(conditions) as core:
        while True:
            try:
                if conditions.device == "cuda":
                    torch.cuda.empty_cache()
                    torch.cuda.reset_peak_memory_stats()
                runner = Runner(model, input_shape, conditions, batch_size=batch)
                cpu, wall = time.process_time(), time.perf_counter()
                samples = _time_until_enough(runner, conditions, stop_above_ms)
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                break
            except torch.cuda.OutOfMemoryError:
                runner = None
                if batch == 1:
                    raise
                batch //= 2
        peak = torch.cuda.max_memory_allocated() / 2**20 if conditions.device == "cuda" else None
        threads = torch.get_num_threads()
    ratio = cpu_wall_ratio(cpu, wall, threads) if conditions.device == "cpu" else None
    stats = TimingStats(tuple(samples))
    return LatencyResult(conditions, input_shape[-1], conditions.batch_size, batch, stats, threads, peak, core, ratio)


def measure_throughput(
    model: nn.Module, input_shape: tuple[int, int, int], batch_sizes: list[int], conditions: LatencyConditions
) -> list[LatencyResult]:
    """``measure_latency`` over a batch-size sweep (the same prepared model, one result per batch)."""
    return [measure_latency(model, input_shape, replace(conditions, batch_size=b)) for b in batch_sizes]


#: Side of the square matrices whose product ``matmul_peak_gmacs`` times, and how many products it times.
PEAK_MATRIX, PEAK_REPEATS = 256, 200


def matmul_peak_gmacs(conditions: LatencyConditions) -> float:
    """Multiply-accumulates per second (in billions) of the fastest of ``PEAK_REPEATS`` fp32 products of two
    256 x 256 matrices on the timing's core and threads: how fast this core multiplies when nothing holds it
    back (a product this small fits in a time slice, so a busy machine lowers it little). No network runs its
    MACs faster than that at batch 1 (see bench.zoo.quick.out_of_reach)."""
    a, b = torch.randn(PEAK_MATRIX, PEAK_MATRIX), torch.randn(PEAK_MATRIX, PEAK_MATRIX)
    with measurement_state(replace(conditions, device="cpu")):
        for _ in range(3):
            a @ b
        best = math.inf
        for _ in range(PEAK_REPEATS):
            start = time.perf_counter_ns()
            a @ b
            best = min(best, time.perf_counter_ns() - start)
    return PEAK_MATRIX**3 / best
