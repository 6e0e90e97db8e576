"""How ``bench pick`` times the zoo for a latency budget: a quick look at every model not stored, then the full
protocol for the models that could be in the answer (bench.zoo.quick), re-timing the noisy ones among those; or,
with ``--full``, the full protocol for every model first (the old way)."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, replace

import pandas as pd


@dataclass(frozen=True)
class TimingSummary:
    """What one ``bench pick`` timed, for the line that says when its answer was ready."""

    looked: int = 0  # quick looks taken
    full: int = 0  # models timed with the full protocol (re-timings not counted)
    retimed: int = 0  # re-timings of noisy or contended full rows
    out_of_reach: tuple[str, ...] = ()  # not timed: their MACs cannot run within the budget here
    peak_gmacs: float | None = None
    bound_ms: float | None = None
    quick_s: float = 0.0  # wall time of each phase
    full_s: float = 0.0
    retime_s: float = 0.0

    def describe(self) -> str:
        parts = []
        if self.looked:
            parts.append(f"{self.looked} models looked at quickly in {elapsed(self.quick_s)}")
        parts.append(f"{self.full} timed at full precision in {elapsed(self.full_s)}")
        if self.retimed:
            parts.append(f"{self.retimed} re-timings in {elapsed(self.retime_s)}")
        if self.out_of_reach:
            parts.append(
                f"{len(self.out_of_reach)} not timed: their MACs need over {self.bound_ms:g} ms even at twice this "
                f"core's {self.peak_gmacs:.0f} GMAC/s matrix-product peak"
            )
        return "; ".join(parts)

    def as_dict(self) -> dict:
        return {
            "quick_looks": self.looked,
            "full": self.full,
            "retimed": self.retimed,
            "not_timed_out_of_reach": list(self.out_of_reach),
            "matmul_peak_gmacs": self.peak_gmacs,
            "seconds": {"quick": self.quick_s, "full": self.full_s, "retimes": self.retime_s},
        }


def current_points(args: argparse.Namespace, suite, conditions, *, quick: bool = True) -> pd.DataFrame:
    """This machine's readings of ``suite`` under ``conditions`` in the stores, shipped rows included: each
    entry's last reading of either protocol (``quick``), else its last full one."""
    from bench.commands.pick import stored_rows

    return _points(stored_rows(args.results)[0], args, suite, conditions, quick)


def _points(rows: pd.DataFrame, args: argparse.Namespace, suite, conditions, quick: bool) -> pd.DataFrame:
    from bench.commands.pick import same_conditions
    from bench.measure.environment import environment, machine_fingerprint
    from bench.zoo.select import zoo_points

    machine = machine_fingerprint(environment())
    same = same_conditions(conditions)
    return zoo_points(rows, suite.name, machine=machine, pretrain=args.pretrain, quick=quick, **same)


def time_for_pick(suite, args: argparse.Namespace, cache, budget_ms: float) -> TimingSummary:
    """Time what ``bench pick`` needs for a ``budget_ms`` answer (see the module's docstring): with
    ``args.quick``, the quick look alone; with ``args.full``, every model in full."""
    from bench.run import run_suite
    from bench.zoo.counts import seed_cache

    seed_cache(cache)  # the zoo's shipped counts, where this torch and timm made them: nothing to count
    if args.full:
        stored = set() if args.remeasure else _stored_entries(args, suite, quick=False)
        started = time.monotonic()
        run_suite(suite, args.results, cache, force=args.remeasure)
        full = sum(1 for e in suite.entries if e.name not in stored)
        full_s, started = time.monotonic() - started, time.monotonic()
        retimed = retime_shaky(suite, args, cache)
        return TimingSummary(full=full, retimed=retimed, full_s=full_s, retime_s=time.monotonic() - started)
    summary = _quick_pass(suite, args, cache, budget_ms)
    if args.quick:
        return summary
    if summary.looked:
        _say_first_answer(args, suite, budget_ms)
    return _refine(suite, args, cache, budget_ms, summary)


def _say_first_answer(args: argparse.Namespace, suite, budget_ms: float) -> None:
    """The picks of the readings so far (quick ones for most), on stderr, before the full protocol runs."""
    from bench.zoo.select import Budget, pick

    chosen = pick(current_points(args, suite, suite.latency), Budget(latency_ms=budget_ms)).head(5)
    names = ", ".join(f"{r['base']} ({r['latency_ms']:.1f} ms {r['timing']})" for r in chosen.to_dict("records"))
    started = getattr(args, "started", None)
    after = "" if started is None else f" after {elapsed(time.monotonic() - started)}"
    print(
        f"first answer, from the quick look{after}: {names or 'no model fits'}; "
        "the answer below times in full the models that could change it",
        file=sys.stderr,
    )


def _refine(suite, args: argparse.Namespace, cache, budget_ms: float, summary: TimingSummary) -> TimingSummary:
    """Time with the full protocol each model in play (bench.zoo.quick.in_play) on a quick reading, and re-time
    each in play on a noisy or contended full one (``args.retimes`` times at most), until neither is left:
    a new full reading may put another model in play. A model out of reach by its MACs (``summary``) never is,
    whatever an older row of it says. Returns ``summary`` with what was timed, and how long."""
    from collections import Counter

    from bench.zoo.quick import in_play
    from bench.zoo.select import shaky

    refined: set[str] = set()
    timings: Counter[str] = Counter()  # full timings of each model in this run
    while True:
        points = current_points(args, suite, suite.latency)
        play = in_play(points, budget_ms) & ~points["entry"].isin(summary.out_of_reach)
        quick = points["timing"] == "quick"
        new = set(points.loc[play & quick, "entry"]) - refined
        noisy = play & ~quick & shaky(points)
        again = {e for e in points.loc[noisy, "entry"] if timings[e] < args.retimes + (e in refined)}
        if not new and not again:
            return summary
        if new:
            seconds = _time_in_full(suite, new, args, cache, f"timing {len(new)} models with the full protocol")
            summary = replace(summary, full=summary.full + len(new), full_s=summary.full_s + seconds)
        if again:
            seconds = _time_in_full(suite, again, args, cache, f"re-timing {len(again)} noisy or contended rows")
            summary = replace(summary, retimed=summary.retimed + len(again), retime_s=summary.retime_s + seconds)
        refined |= new
        timings.update(new | again)


def _time_in_full(suite, names: set[str], args: argparse.Namespace, cache, says: str) -> float:
    """Time the entries ``names`` with the full protocol (their rows replace this machine's); the seconds taken."""
    from bench.run import run_suite

    print(f"{says}: they could be in the answer", file=sys.stderr)
    started = time.monotonic()
    entries = tuple(e for e in suite.entries if e.name in names)
    run_suite(replace(suite, entries=entries), args.results, cache, force=True)
    return time.monotonic() - started


def _quick_pass(suite, args: argparse.Namespace, cache, budget_ms: float) -> TimingSummary:
    """A quick look at each entry with no reading of this machine in the results store (every entry with
    ``--remeasure``), less those out of reach by their MACs (``bench.zoo.quick.out_of_reach``)."""
    from bench.run import run_suite
    from bench.zoo.quick import QUICK_ITERATIONS, quick_protocol

    started = time.monotonic()
    stored = set() if args.remeasure else _stored_entries(args, suite)
    todo = tuple(e for e in suite.entries if e.name not in stored)
    far, peak, bound = _out_of_reach(suite, todo, cache, budget_ms)
    look = tuple(e for e in todo if e.name not in far)
    if look:
        then = "" if args.quick else ", then the full protocol for those that could be in the answer"
        print(
            f"a quick look at {len(look)} models (1 warm-up and up to {QUICK_ITERATIONS} timed forwards each){then}",
            file=sys.stderr,
        )
        protocol = quick_protocol(suite.latency, budget_ms)
        run_suite(replace(suite, entries=look), args.results, cache, force=args.remeasure, quick=protocol)
    seconds = time.monotonic() - started
    return TimingSummary(len(look), out_of_reach=tuple(sorted(far)), peak_gmacs=peak, bound_ms=bound, quick_s=seconds)


def _stored_entries(args: argparse.Namespace, suite, quick: bool = True) -> set[str]:
    """Entries with a reading (full, or also quick) of this machine under the suite's conditions in the results
    store itself (not the shipped rows: as ``bench run``, a pick times what its own store lacks)."""
    from bench.store.results import read_results

    return set(_points(read_results(args.results), args, suite, suite.latency, quick)["entry"])


def _out_of_reach(suite, entries: tuple, cache, budget_ms: float) -> tuple[set[str], float | None, float | None]:
    """(the entries whose exact MACs cannot run within the budget here, the core's matrix-product peak in
    GMAC/s, the latency those MACs would exceed) where the bound holds (bench.zoo.quick.bound_applies)."""
    from bench.measure.latency import matmul_peak_gmacs
    from bench.zoo.counts import suite_counts
    from bench.zoo.quick import MIN_MARGIN, bound_applies, out_of_reach

    known = tuple(e for e in entries if e.spec is not None)  # a solved entry's network is known only once solved
    if not known or not bound_applies(suite.latency):
        return set(), None, None
    counts, _ = suite_counts(replace(suite, entries=known), pd.DataFrame(), cache.count)
    peak = matmul_peak_gmacs(suite.latency)
    far = counts.loc[out_of_reach(counts["macs"], budget_ms, peak), "entry"]
    return set(far), peak, budget_ms * (1 + MIN_MARGIN)


def retime_shaky(suite, args: argparse.Namespace, cache, only: set[str] | None = None) -> int:
    """Re-time this machine's full rows of ``suite`` (of the entries ``only``, where given) that are noisy or
    contended, up to ``args.retimes`` times; rows still shaky after that stay, and are marked in the answer.
    Returns how many re-timings ran."""
    from bench.run import run_suite
    from bench.zoo.select import shaky

    retimed = 0
    for attempt in range(1, args.retimes + 1):
        timed = current_points(args, suite, suite.latency, quick=False)
        names = set(timed.loc[shaky(timed), "entry"]) if not timed.empty else set()
        names = names if only is None else names & only
        if not names:
            break
        print(f"re-timing {len(names)} noisy or contended rows (try {attempt} of {args.retimes})", file=sys.stderr)
        entries = tuple(e for e in suite.entries if e.name in names)
        run_suite(replace(suite, entries=entries), args.results, cache, force=True)
        retimed += len(names)
    return retimed


def elapsed(seconds: float) -> str:
    """``1m23s``."""
    whole = int(round(seconds))
    return f"{whole // 60}m{whole % 60:02d}s"
