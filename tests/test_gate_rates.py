"""The latency gate's false-alarm and detection rates, measured (pytest -m gate_rates; tox -e gate-rates).

Each trial starts fresh worker processes and runs the gate with its default settings (extra rounds
included): 20 trials with no change (baseline code = candidate code) may call a regression at most once,
and 20 trials with a +10% slowdown injected into one model (a different model each trial) must call that
model regressed at least 19 times. "Too noisy to judge" (exit 3) is neither a detection nor a false
alarm: it is counted and printed, so a run on a busy machine says how often the gate declined to judge.
Set GATE_TRIALS to change the number of trials, GATE_INJECT the injected fraction (default 0.10).
"""

from __future__ import annotations

import os
import subprocess

import pytest

from bench.gate import interleaved as gate
from bench.gate.decision import REGRESSED, TOO_NOISY
from bench.suites import load_suite
from tests.conftest import ROOT

# Each gate run takes 25 s to a few minutes (extra rounds), so 2 x 20 of them take 20 minutes or more.
pytestmark = [pytest.mark.gate_rates, pytest.mark.timeout(4 * 3600)]
TRIALS = int(os.environ.get("GATE_TRIALS", "20"))
INJECT = float(os.environ.get("GATE_INJECT", "0.10"))


@pytest.fixture(scope="module")
def setup():
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    models = [e.model for e in load_suite(ROOT / "suites" / "ci_latency.yaml").entries]
    with gate.baseline_code(head, ROOT) as baseline_dir:
        yield models, baseline_dir


def _trials(models, baseline_dir, inject: bool) -> list[gate.GateReport]:
    reports = []
    for trial in range(TRIALS):
        slow = {models[trial % len(models)]: INJECT} if inject else {}
        verdicts = gate.compare(models, baseline_dir, ROOT, gate.GateSettings(), slow)
        reports.append(gate.GateReport("HEAD", gate.DEFAULT_THRESHOLD, gate.GateSettings(), verdicts, slow))
        print(
            f"{'inject' if inject else 'no change'} trial {trial}: "
            + " ".join(f"{v.model}={v.ratio:.3f}[{v.low:.3f},{v.high:.3f}]/{v.rounds}:{v.outcome}" for v in verdicts),
            flush=True,
        )
    return reports


def _count(reports: list[gate.GateReport], outcome: str) -> int:
    return sum(r.outcome == outcome for r in reports)


def test_no_change_calls_a_regression_at_most_once_in_20(setup) -> None:
    reports = _trials(*setup, inject=False)
    false_alarms, noisy = _count(reports, REGRESSED), _count(reports, TOO_NOISY)
    print(f"no change: passed {TRIALS - false_alarms - noisy}/{TRIALS}, regressed {false_alarms}, too noisy {noisy}")
    assert false_alarms <= TRIALS // 20


def test_an_injected_10_percent_slowdown_is_caught_at_least_19_of_20(setup) -> None:
    reports = _trials(*setup, inject=True)
    slowed = [next(v for v in r.verdicts if v.model in r.slowdowns).outcome for r in reports]
    caught, noisy = slowed.count(REGRESSED), slowed.count(TOO_NOISY)
    print(f"+{INJECT:.0%} injected: detected {caught}/{TRIALS}, too noisy {noisy}, missed {TRIALS - caught - noisy}")
    assert caught >= TRIALS - TRIALS // 20
