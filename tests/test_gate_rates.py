"""The latency gate's false-fail and detection rates, measured (pytest -m gate_rates; tox -e gate-rates).

Each trial starts fresh worker processes and runs the gate with its default settings:
20 trials with no change (baseline code = candidate code) must pass at least 19 times,
and 20 trials with a +15% slowdown injected into one model (a different model each trial)
must fail at least 19 times. Set GATE_TRIALS to change the number of trials.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from bench import gate
from bench.suites import load_suite
from tests.conftest import ROOT

# Each gate run takes about 25 s, so 2 x 20 of them take about 20 minutes: a tier of their own.
pytestmark = [pytest.mark.gate_rates, pytest.mark.timeout(3600)]
TRIALS = int(os.environ.get("GATE_TRIALS", "20"))


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
        slow = {models[trial % len(models)]: 0.15} if inject else {}
        verdicts = gate.compare(models, baseline_dir, ROOT, gate.GateSettings(), slow)
        reports.append(gate.GateReport("HEAD", gate.DEFAULT_THRESHOLD, gate.GateSettings(), verdicts, slow))
        print(
            f"{'inject' if inject else 'no change'} trial {trial}: "
            + " ".join(f"{v.model}={v.ratio:.3f}" for v in verdicts),
            flush=True,
        )
    return reports


def test_no_change_passes_at_least_19_of_20(setup) -> None:
    reports = _trials(*setup, inject=False)
    passed = sum(r.passed for r in reports)
    print(f"no change: passed {passed}/{TRIALS}")
    assert passed >= TRIALS - TRIALS // 20


def test_injected_15_percent_slowdown_fails_at_least_19_of_20(setup) -> None:
    reports = _trials(*setup, inject=True)
    caught = sum(any(v.regressed and v.model in r.slowdowns for v in r.verdicts) for r in reports)
    print(f"+15% injected: detected {caught}/{TRIALS}")
    assert caught >= TRIALS - TRIALS // 20
