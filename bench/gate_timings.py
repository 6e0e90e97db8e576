"""The latency gate without git: timings stored once, compared with later runs on the same machine.

Interleaving the baseline's code with the candidate's needs both revisions; outside a git checkout
there is only the candidate. ``record`` times it (the gate's rounds of fresh instances, pinned) and
writes each model's median to a JSON file with the machine's fingerprint; ``compare_stored`` times
the models again and fails where one is slower than stored by more than the threshold. Runs minutes
or days apart see the machine in different states (20-30 % drift between runs here), so this is a
coarse check, refused across machines; a git baseline is the real gate.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.environment import environment, machine_fingerprint, now
from bench.gate import GateModel, GateReport, GateSettings, ModelVerdict, Side, _WorkerProcess, gate_model, timing_cores
from bench.models import workload_key

#: Default threshold against stored medians. Runs here drift 20-30 % apart without any change (the
#: interleaved gate cancels that drift; this mode cannot), so only a slowdown beyond that is a signal.
STORED_THRESHOLD = 0.30


def _time_alone(models: list[GateModel], settings: GateSettings, cwd: Path) -> dict[str, list[float]]:
    threads = {m.conditions.threads or 1 for m in models}
    if len(threads) > 1:
        raise ValueError(f"the gate's models must share one thread count, got {sorted(threads)}")
    worker = _WorkerProcess(Side(cwd, cwd=cwd), timing_cores(threads.pop(), settings.core), {})
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
        raise ValueError(f"{path}: cannot read stored gate timings ({error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict) or "machine" not in data:
        raise ValueError(f"{path}: not a gate timings file (record one with --save-timings)")
    return data


def compare_stored(models: Sequence[GateModel | str], settings: GateSettings, path: Path, cwd: Path) -> GateReport:
    """Time ``models`` now and compare each median with the one stored in ``path`` (same machine only)."""
    stored = read_timings(path)
    here = machine_fingerprint(environment())
    if stored["machine"] != here:
        raise ValueError(
            f"{path}: timings recorded on machine {stored['machine']} ({stored.get('cpu')}), this is {here}; "
            "timings compare on one machine only: record them here with --save-timings"
        )
    chosen = [gate_model(m) for m in models]
    missing = [m.name for m in chosen if m.name not in stored["models"]]
    if missing:
        raise ValueError(f"{path}: no stored timing for {', '.join(missing)}; record again with --save-timings")
    samples = _time_alone(chosen, settings, cwd)
    verdicts = []
    for model in chosen:
        before = float(stored["models"][model.name]["ms"])
        ratios = np.array(samples[model.name]) / before
        ratio = float(np.median(samples[model.name])) / before
        verdicts.append(
            ModelVerdict(
                model=model.name,
                baseline_ms=before,
                candidate_ms=float(np.median(samples[model.name])),
                ratio=ratio,
                ratio_p10=float(np.percentile(ratios, 10)),
                ratio_p90=float(np.percentile(ratios, 90)),
                pairs=len(ratios),
                regressed=ratio > 1.0 + settings.threshold,
            )
        )
    label = f"stored timings {path} ({stored.get('recorded', '?')}; not interleaved)"
    return GateReport(label, settings.threshold, settings, verdicts, interleaved=False)
