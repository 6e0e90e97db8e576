"""The latency gate without git: timings stored once, compared with later runs on the same machine.

Interleaving the baseline's code with the candidate's needs both revisions; outside a git checkout
there is only the candidate. ``record`` times it (the gate's rounds of fresh instances, pinned) and
writes each model's median to a JSON file with the machine's fingerprint; ``compare_stored`` times
the models again and judges each forward against the stored median as the interleaved gate judges a
pair (bench.gate.decision: passed, regressed or too noisy, contended forwards re-taken). Runs minutes
or days apart see the machine in different states (20-30 % drift between runs here), so this is a
coarse check, refused across machines; a git baseline is the real gate.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import numpy as np

from bench.errors import InputError
from bench.gate.decision import PairReading, settle, take_until_clean
from bench.gate.interleaved import GateModel, GateReport, GateSettings, Side, _WorkerProcess, gate_model, timing_cores
from bench.measure.environment import environment, machine_fingerprint, now
from bench.models.registry import workload_key

#: Default threshold against stored medians. Runs here drift 20-30 % apart without any change (the
#: interleaved gate cancels that drift; this mode cannot), so only a slowdown beyond that is a signal.
STORED_THRESHOLD = 0.30


def _worker(models: list[GateModel], settings: GateSettings, cwd: Path) -> _WorkerProcess:
    threads = {m.conditions.threads or 1 for m in models}
    if len(threads) > 1:
        raise InputError(f"the gate's models must share one thread count, got {sorted(threads)}")
    return _WorkerProcess(Side(cwd, cwd=cwd), timing_cores(threads.pop(), settings.core), {})


def _time_alone(models: list[GateModel], settings: GateSettings, cwd: Path) -> dict[str, list[float]]:
    worker = _worker(models, settings, cwd)
    try:
        samples: dict[str, list[float]] = {}
        for model in models:
            for _ in range(settings.rounds):
                worker.build(model, "working tree")
                samples.setdefault(model.name, []).extend(worker.call(op="time", count=settings.pairs)["ms"])
        return samples
    finally:
        worker.close()


def record(models: Sequence[GateModel | str], settings: GateSettings, path: Path, cwd: Path) -> dict:
    """Time ``models`` with the working tree's code and store each one's median in ``path``."""
    chosen = [gate_model(m) for m in models]
    samples = _time_alone(chosen, settings, cwd)
    env = environment()
    data = {
        "machine": machine_fingerprint(env),
        "cpu": env.get("cpu"),
        "torch": env.get("torch"),
        "recorded": now(),
        "models": {
            m.name: {"ms": float(np.median(samples[m.name])), "workload_key": workload_key(m.spec)} for m in chosen
        },
        "note": "bench gate --timings FILE compares later runs on this machine with these medians",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return data


def read_timings(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: cannot read stored gate timings ({error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict) or "machine" not in data:
        raise InputError(f"{path}: not a gate timings file (record one with --save-timings)")
    return data


def compare_stored(models: Sequence[GateModel | str], settings: GateSettings, path: Path, cwd: Path) -> GateReport:
    """Time ``models`` now and compare each median with the one stored in ``path`` (same machine only)."""
    stored = read_timings(path)
    here = machine_fingerprint(environment())
    if stored["machine"] != here:
        raise InputError(
            f"{path}: timings recorded on machine {stored['machine']} ({stored.get('cpu')}), this is {here}; "
            "timings compare on one machine only: record them here with --save-timings"
        )
    chosen = [gate_model(m) for m in models]
    missing = [m.name for m in chosen if m.name not in stored["models"]]
    if missing:
        raise InputError(f"{path}: no stored timing for {', '.join(missing)}; record again with --save-timings")
    worker = _worker(chosen, settings, cwd)
    try:
        verdicts = [
            settle(
                model.name,
                partial(_stored_round, worker, model, float(stored["models"][model.name]["ms"]), settings.pairs),
                settings.threshold,
                settings.rounds,
                settings.extra_rounds,
            )
            for model in chosen
        ]
    finally:
        worker.close()
    label = f"stored timings {path} ({stored.get('recorded', '?')}; not interleaved)"
    return GateReport(label, settings.threshold, settings, verdicts, interleaved=False)


def _stored_round(worker: _WorkerProcess, model: GateModel, stored_ms: float, pairs: int) -> list[PairReading]:
    """A fresh instance, then ``pairs`` uncontended forwards, each read against the stored median."""
    worker.build(model, "working tree")
    threads = model.conditions.threads or 1

    def reading(attempt: int) -> PairReading:
        ms, cpu_wall = worker.time_one(threads)
        return PairReading(stored_ms, ms, None, cpu_wall)

    return take_until_clean(reading, pairs)
