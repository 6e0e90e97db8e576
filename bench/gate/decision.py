"""The latency gate's judgement: paired readings in, passed / regressed / too noisy out.

One median ratio is not a verdict: on a loaded machine an unchanged model read 1.125 (pairs from
0.98 to 1.46) and failed, and passed at 0.937 when re-run quiet. So each model's slowdown gets a
confidence interval, and the gate calls

* **regressed** (exit 1) only when the whole interval lies above ``1 + threshold``;
* **passed** (exit 0) only when the whole interval lies at or below it;
* otherwise it takes more rounds, and a model still undecided after the last is **too noisy to
  judge** (exit 3, as ``bench pick --refuse-noisy`` answers when its rows cannot support a pick).

The unit of the interval is the round (both sides build a fresh instance, then time pairs), not the
pair: pairs of one round share one memory placement and are not independent. Each round's median
log-ratio is one observation; the interval is Student's t over them (``CONFIDENCE``, two-sided).

A forward whose CPU time fell below ``CONTENTION_RATIO`` of its wall time waited for its core while
being timed (bench.measure.latency, as pyperf checks), and its pair is *contended*. A round re-takes contended
pairs; one that still has fewer uncontended pairs than contended ones is a *contended round*, and all
its pairs count, each contended one as a range rather than a ratio: from the candidate's CPU time over
the baseline's wall time (the least the candidate can have taken, over the most the baseline can have)
to the candidate's wall time over the baseline's CPU time. The lower interval bound is formed from the
ranges' low ends and the upper bound from their high ends, so contention widens the interval (toward
"too noisy") instead of reading as a slowdown, while a regression larger than the contention still shows.

Everything here but ``take_until_clean`` and ``settle`` (which call what they are given) is a pure
function of the readings, the report's words (``format_report``) too, so each outcome is tested with
injected timings.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

from bench.measure.latency import CONTENTION_RATIO, is_contended

if TYPE_CHECKING:
    from bench.gate.interleaved import GateReport

PASSED, REGRESSED, TOO_NOISY = "passed", "regressed", "too noisy"
#: Between looks only; ``settle`` never returns it (the last look turns it into TOO_NOISY).
UNDECIDED = "undecided"
EXIT_CODES = {PASSED: 0, REGRESSED: 1, TOO_NOISY: 3}
#: The gate's outcome is its worst model's, in this order: a confirmed regression fails CI even when
#: another model could not be judged; "too noisy" only when no model regressed.
PRECEDENCE = (REGRESSED, TOO_NOISY, PASSED)
#: Two-sided confidence of the ratio's interval: each bound holds with 95 %.
CONFIDENCE = 0.90
#: The fewest usable rounds an interval is formed from (one round has no spread between rounds).
MIN_ROUNDS = 2
#: A round stops re-taking contended pairs after this many attempts per pair asked for.
ATTEMPTS_PER_PAIR = 2


@dataclass(frozen=True)
class PairReading:
    """One baseline forward and the candidate forward next to it, with each one's CPU time / wall time
    (None where that side could not say: then only the other side is checked for contention)."""

    baseline_ms: float
    candidate_ms: float
    baseline_cpu_wall: float | None = None
    candidate_cpu_wall: float | None = None

    @property
    def contended(self) -> bool:
        return is_contended(self.baseline_cpu_wall) or is_contended(self.candidate_cpu_wall)

    @property
    def log_ratio(self) -> float:
        return math.log(self.candidate_ms / self.baseline_ms)

    @property
    def log_range(self) -> tuple[float, float]:
        """The least and the most the ratio can be: a side that waited for its core took at least its CPU
        time (per thread) and at most its wall time. Uncontended, both are ``log_ratio``."""
        if not self.contended:
            return self.log_ratio, self.log_ratio
        least_b = self.baseline_ms * _ran(self.baseline_cpu_wall)
        least_c = self.candidate_ms * _ran(self.candidate_cpu_wall)
        return math.log(least_c / self.baseline_ms), math.log(self.candidate_ms / least_b)

    @property
    def cpu_wall(self) -> float | None:
        """The lower of the two sides' CPU/wall (the one that waited more), None when neither said."""
        known = [r for r in (self.baseline_cpu_wall, self.candidate_cpu_wall) if r is not None]
        return min(known) if known else None


def _ran(cpu_wall: float | None) -> float:
    """The share of a forward's wall time it ran: its CPU/wall when contended, else all of it."""
    return min(cpu_wall, 1.0) if cpu_wall is not None and is_contended(cpu_wall) else 1.0


Round = Sequence[PairReading]


@dataclass(frozen=True)
class ModelVerdict:
    """One model's judgement: the ratio, its interval, the outcome and, in words, why."""

    model: str
    baseline_ms: float  # median over the pairs judged
    candidate_ms: float
    ratio: float  # candidate / baseline: the geometric mean of the rounds' median ratios
    low: float  # the ratio's CONFIDENCE interval (widened by contended rounds); nan under MIN_ROUNDS rounds
    high: float
    pairs: int  # pairs judged (the uncontended ones of each round, all of a contended round)
    outcome: str  # PASSED, REGRESSED or TOO_NOISY
    reason: str = ""
    rounds: int = 0  # rounds taken, extra rounds included
    contended_rounds: int = 0  # rounds with fewer uncontended pairs than contended ones: judged as ranges

    @property
    def regressed(self) -> bool:
        return self.outcome == REGRESSED


def contended_round(readings: Round) -> bool:
    """A round whose re-takes did not get at least as many uncontended pairs as contended ones."""
    clean = sum(not r.contended for r in readings)
    return clean == 0 or clean < len(readings) - clean


def judged_pairs(readings: Round) -> list[PairReading]:
    """The pairs a round is judged on: its uncontended ones (contended ones were re-taken), or all of a
    contended round."""
    return list(readings) if contended_round(readings) else [r for r in readings if not r.contended]


def take_until_clean(take_pair: Callable[[int], PairReading], pairs: int) -> list[PairReading]:
    """Pairs from ``take_pair(attempt)`` until ``pairs`` of them are uncontended, at most
    ``ATTEMPTS_PER_PAIR * pairs`` attempts."""
    readings: list[PairReading] = []
    while sum(not r.contended for r in readings) < pairs and len(readings) < ATTEMPTS_PER_PAIR * pairs:
        readings.append(take_pair(len(readings)))
    return readings


def interval(round_logs: Sequence[float]) -> tuple[float, float, float]:
    """The ratio and its CONFIDENCE interval from the rounds' median log-ratios (Student's t)."""
    logs = np.asarray(round_logs, dtype=float)
    center = float(logs.mean())
    if len(logs) < MIN_ROUNDS:
        return math.exp(center), math.nan, math.nan
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, len(logs) - 1) * logs.std(ddof=1) / math.sqrt(len(logs)))
    return math.exp(center), math.exp(center - half), math.exp(center + half)


def judge(model: str, rounds: Sequence[Round], threshold: float, final: bool = True) -> ModelVerdict:
    """The verdict on ``model`` from its rounds of paired readings; UNDECIDED only when not ``final``."""
    judged = [judged_pairs(readings) for readings in rounds if readings]
    ranges = [[r.log_range for r in readings] for readings in judged]
    ratio = interval([_median([r.log_ratio for r in readings]) for readings in judged] or [math.nan])[0]
    low = interval([_median([least for least, _ in pairs]) for pairs in ranges] or [math.nan])[1]
    high = interval([_median([most for _, most in pairs]) for pairs in ranges] or [math.nan])[2]
    limit = 1.0 + threshold
    if low > limit:
        outcome, reason = REGRESSED, f"its {CONFIDENCE:.0%} interval lies above {limit:.2f}"
    elif high <= limit:
        outcome, reason = PASSED, f"its {CONFIDENCE:.0%} interval lies at or below {limit:.2f}"
    else:
        outcome = TOO_NOISY if final else UNDECIDED
        reason = _undecided_reason(rounds, len(judged), low, high, limit)
    pool = [r for readings in judged for r in readings]
    return ModelVerdict(
        model=model,
        baseline_ms=_median([r.baseline_ms for r in pool]),
        candidate_ms=_median([r.candidate_ms for r in pool]),
        ratio=ratio,
        low=low,
        high=high,
        pairs=len(pool),
        outcome=outcome,
        reason=reason,
        rounds=len(rounds),
        contended_rounds=sum(contended_round(readings) for readings in rounds),
    )


def _median(values: Sequence[float]) -> float:
    return float(np.median(values)) if len(values) else math.nan


def _undecided_reason(rounds: Sequence[Round], judged: int, low: float, high: float, limit: float) -> str:
    if judged < MIN_ROUNDS:
        return f"{judged} round(s) to judge from; an interval needs {MIN_ROUNDS} (more --rounds or --extra-rounds)"
    reason = f"its {CONFIDENCE:.0%} interval {low:.3f}-{high:.3f} straddles {limit:.2f} after {len(rounds)} rounds"
    contended = sum(contended_round(readings) for readings in rounds)
    if contended:
        waited = _median(
            [r.cpu_wall for readings in rounds for r in readings if r.contended and r.cpu_wall is not None]
        )
        reason += (
            f"; {contended} of {len(rounds)} rounds were timed while another process shared the core "
            f"(CPU/wall {waited:.2f} < {CONTENTION_RATIO}), which widens it"
        )
    return reason


def settle(
    model: str, take_round: Callable[[], Round], threshold: float, rounds: int, extra_rounds: int
) -> ModelVerdict:
    """``rounds`` rounds from ``take_round``, judged; while undecided, ``rounds`` more at a time, up to
    ``extra_rounds`` in all; undecided after the last, TOO_NOISY."""
    taken = [take_round() for _ in range(rounds)]
    while True:
        final = len(taken) >= rounds + extra_rounds
        verdict = judge(model, taken, threshold, final)
        if verdict.outcome != UNDECIDED:
            return verdict
        taken += [take_round() for _ in range(min(max(rounds, 1), rounds + extra_rounds - len(taken)))]


def overall(outcomes: Sequence[str]) -> str:
    """The gate's outcome: its models' worst, by PRECEDENCE (PASSED for no models)."""
    return next((outcome for outcome in PRECEDENCE if outcome in outcomes), PASSED)


def format_report(report: GateReport) -> str:
    """The report in words: a header, one line per model (ratio, its interval, outcome and, when too noisy,
    why), and a last line with the gate's outcome."""
    revision = report.baseline_revision
    baseline = revision[:12] if len(revision) == 40 and all(c in "0123456789abcdef" for c in revision) else revision
    how = (
        f"rounds of interleaved pairs, {report.conditions or '1 thread'}, same cores"
        if report.interleaved
        else f"forwards timed now against the stored median, {report.conditions or '1 thread'}"
    )
    lines = [
        f"latency gate: candidate vs baseline {baseline} (fail above +{report.threshold:.0%}, "
        f"judged on the ratio's {CONFIDENCE:.0%} interval; {how})"
    ]
    for v in report.verdicts:
        status = {PASSED: "ok", REGRESSED: "REGRESSED"}.get(v.outcome, f"TOO NOISY: {v.reason}")
        lines.append(
            f"  {v.model:<22} baseline {v.baseline_ms:8.2f} ms  candidate {v.candidate_ms:8.2f} ms  "
            f"ratio {v.ratio:.3f} [{v.low:.3f}, {v.high:.3f}]  {v.pairs} pairs, {v.rounds} rounds  {status}"
        )
    lines.append(f"latency gate: {_summary(report)}")
    return "\n".join(lines)


def _summary(report: GateReport) -> str:
    regressed = [v.model for v in report.verdicts if v.outcome == REGRESSED]
    noisy = [v for v in report.verdicts if v.outcome == TOO_NOISY]
    unjudged = f"too noisy to judge: {', '.join(v.model for v in noisy)}"
    if regressed:
        return f"FAILED: {', '.join(regressed)} regressed" + (f"; {unjudged}" if noisy else "")
    if noisy:
        first = noisy[0].reason if len(noisy) == 1 else f"{noisy[0].model}: {noisy[0].reason}"
        return (
            f"TOO NOISY TO JUDGE: {', '.join(v.model for v in noisy)} ({first}); no regression shown and none "
            "ruled out: run it again on a quieter machine (exit 3)"
        )
    return "passed"
