"""Latency ratios that persist: a network timed interleaved with a base, read back from the results store
when this machine has stored that pair under these conditions, else timed now and stored as two rows (so
a search that is interrupted or repeated times nothing twice); and interleaved timing of several networks.

Ratios between two timings taken minutes apart carry the machine's drift (20-30 % here), and even on a
quiet pinned core of this VM single forwards vary by 10-15 % for seconds at a time. ``time_interleaved``
therefore alternates the networks forward by forward, so that a slow stretch lands on both sides of a
ratio alike; each network's row pools its forwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import torch

from bench.errors import InputError
from bench.measure.environment import environment, machine_fingerprint
from bench.measure.latency import LatencyResult, Runner, TimingStats, measurement_state
from bench.models.registry import build_model
from bench.scaling.hardware import Reading, paired_base_name
from bench.specs import LatencyConditions, ModelSpec
from bench.store.count_cache import ComplexityCache
from bench.store.results import append_rows, read_results
from bench.store.rows import latency_key, single_latency_row


class PairedTimer:
    """``timer(spec)`` -> Reading: ``spec`` and ``base`` timed interleaved (``rounds`` each), stored as two rows
    of ``suite`` (``spec.name`` and ``base@spec.name``); a pair this machine has stored under these
    conditions is read back instead. ``measured`` counts the pairs timed."""

    def __init__(
        self,
        results: Path,
        suite: str,
        base: ModelSpec,
        conditions: LatencyConditions,
        counts: ComplexityCache,
        rounds: int = 2,
    ) -> None:
        self.results, self.suite, self.base, self.conditions = results, suite, base, conditions
        self.counts, self.rounds = counts, rounds
        self.measured = 0
        machine = machine_fingerprint(environment())
        frame = read_results(results)
        stored = frame[(frame["suite"] == suite) & (frame["measurement"] == "latency") & (frame["machine"] == machine)]
        self._stored = {
            (str(r["entry"]), str(r["workload_key"])): float(r["latency_ms_p50"]) for r in stored.to_dict("records")
        }

    def _key(self, spec: ModelSpec) -> tuple[str, str]:
        return spec.name, latency_key(spec, "latency", self.conditions)

    def __call__(self, spec: ModelSpec) -> Reading:
        base = replace(self.base, name=paired_base_name(spec.name))
        found = self._stored.get(self._key(spec)), self._stored.get(self._key(base))
        if found[0] is None or found[1] is None:
            timed = time_interleaved([base, spec], self.conditions, self.rounds)
            store_interleaved(self.results, self.suite, timed, [base, spec], self.counts)
            for item in (base, spec):
                self._stored[self._key(item)] = timed[item.name].stats.p50
            self.measured += 1
        return Reading(self._stored[self._key(spec)], self._stored[self._key(base)])


def time_interleaved(
    specs: Sequence[ModelSpec],
    conditions: LatencyConditions,
    rounds: int,
    on_round: Callable[[int], None] | None = None,
) -> dict[str, LatencyResult]:
    """Time the specs one forward each in turn (A B C A B C ...), so that a slow second of the machine
    lands on all of them alike: after warm-up, ``rounds`` rounds, each of at least
    ``conditions.min_iterations`` forwards per spec and ``conditions.min_time_s`` seconds per spec.
    One result per spec, pooling its forwards."""
    if rounds < 1:
        raise InputError(f"rounds must be at least 1, got {rounds}")
    samples: dict[str, list[float]] = {spec.name: [] for spec in specs}
    with measurement_state(conditions) as core:
        runners = {
            spec.name: Runner(build_model(spec), spec.input_shape, conditions, batch_size=conditions.batch_size)
            for spec in specs
        }
        for runner in runners.values():
            for _ in range(conditions.warmup_iterations):
                runner.step()
        for index in range(rounds):
            started, forwards = time.perf_counter(), 0
            while forwards < conditions.min_iterations or (
                time.perf_counter() - started < conditions.min_time_s * len(specs)
                and forwards < conditions.max_iterations
            ):
                for name, runner in runners.items():
                    samples[name] += runner.time_iterations(1)
                forwards += 1
            if on_round is not None:
                on_round(index + 1)
        threads = torch.get_num_threads()
    return {
        spec.name: LatencyResult(
            conditions,
            spec.input_size,
            conditions.batch_size,
            conditions.batch_size,
            TimingStats(tuple(samples[spec.name])),
            threads,
            None,
            core,
        )
        for spec in specs
    }


def store_interleaved(
    results: Path,
    suite: str,
    timed: dict[str, LatencyResult],
    specs: Sequence[ModelSpec],
    counts: ComplexityCache,
) -> None:
    """The rows of an interleaved timing, one per spec (replacing this machine's earlier ones)."""
    env = environment()
    rows = [single_latency_row(spec, timed[spec.name], env, suite=suite, counts=counts.count(spec)) for spec in specs]
    append_rows(results, rows)
