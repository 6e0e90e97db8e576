"""One side of the latency gate: a process that builds and times models with *its own* code.

``python -m bench.gate.worker [--core N] [--slowdown MODEL=FRACTION ...]`` reads JSON lines on
stdin and answers each with one JSON line on stdout:

* ``{"op": "hello"}`` -> ``{"bench": <path of the bench package in use>, "protocol": 3}``
* ``{"op": "build", "model": NAME}`` -> ``{"ok": true}`` (a fresh instance, warmed up); protocol 2
  also takes ``"spec"`` (the ModelSpec's fields: scaled entries, user models, any input size) and
  ``"conditions"`` (threads, batch_size, precision, channels_last, device of a suite's latency block)
* ``{"op": "time", "count": K}`` -> ``{"ms": [K forward times], "cpu_ms": [the process's CPU time
  during each]}`` (protocol 3; ``cpu_ms`` / ``ms`` per thread below 0.9 means the forward waited for
  its core, and bench.gate.decision treats its pair as contended)

The gate runs two of these, one importing the baseline revision's ``bench`` and one the
candidate's, so both sides use their own revision's builders and timing code. The
``--slowdown`` flag exists to validate the gate: it makes one model's forward slower by a
fraction of its own time, as a real regression would.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import torch

import bench
from bench.measure.complexity import first_line
from bench.measure.latency import Runner
from bench.models.registry import build_model, make_spec
from bench.specs import LatencyConditions, ModelSpec

WARMUP = 3
PROTOCOL = 3
#: The fields of a suite's latency block a gate comparison honours (the rest are about how long to time).
CONDITION_FIELDS = ("device", "threads", "batch_size", "precision", "channels_last")


def spec_from_fields(fields: dict) -> ModelSpec:
    """A ModelSpec from its JSON fields (lists back to tuples; fields this revision lacks left out)."""
    known = {f for f in ModelSpec.__dataclass_fields__}
    values = {k: v for k, v in fields.items() if k in known}
    if "model_args" in values:
        values["model_args"] = tuple(tuple(pair) for pair in values["model_args"])
    return ModelSpec(**values)


def _spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


class _Worker:
    def __init__(self, slowdowns: dict[str, float]) -> None:
        self.slowdowns = slowdowns
        self.runner: Runner | None = None
        self.extra = 0.0

    def build(self, name: str, spec_fields: dict | None = None, conditions: dict | None = None) -> dict:
        spec = make_spec(name) if spec_fields is None else spec_from_fields(spec_fields)
        timing = LatencyConditions(**{"threads": 1, **(conditions or {})})
        torch.set_num_threads(timing.threads or 1)
        self.runner = None  # free the previous instance first: a fresh one lands elsewhere in memory
        self.runner = Runner(build_model(spec), spec.input_shape, timing)
        self.extra = self.slowdowns.get(name, 0.0)
        for _ in range(WARMUP):
            self.runner.step()
        return {"ok": True}

    def time(self, count: int) -> dict:
        if self.runner is None:
            raise RuntimeError("time before build")
        times, cpu_times = [], []
        for _ in range(count):
            cpu, start = time.process_time_ns(), time.perf_counter_ns()
            self.runner.step()
            if self.extra:
                _spin((time.perf_counter_ns() - start) / 1e9 * self.extra)
            times.append((time.perf_counter_ns() - start) / 1e6)
            cpu_times.append((time.process_time_ns() - cpu) / 1e6)
        return {"ms": times, "cpu_ms": cpu_times}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gate.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--core", type=int, help="pin this process to one CPU core")
    parser.add_argument("--cores", help="pin this process to these CPU cores (comma-separated)")
    parser.add_argument(
        "--slowdown",
        action="append",
        default=[],
        metavar="MODEL=FRACTION",
        help="make MODEL's forward slower by FRACTION of its time (to validate the gate)",
    )
    args = parser.parse_args(argv)
    cores = {args.core} if args.core is not None else {int(c) for c in (args.cores or "").split(",") if c}
    if cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, cores)
    slowdowns = {k: float(v) for k, v in (item.split("=", 1) for item in args.slowdown)}
    worker = _Worker(slowdowns)
    torch.set_num_threads(1)
    with torch.inference_mode():
        for line in sys.stdin:
            request = json.loads(line)
            if request["op"] == "hello":
                reply = {"bench": os.path.dirname(bench.__file__), "protocol": PROTOCOL}
            elif request["op"] == "build":
                try:
                    reply = worker.build(request["model"], request.get("spec"), request.get("conditions"))
                except Exception as error:  # the model cannot be built here: say so, in one line
                    reply = {"error": first_line(error)}
            elif request["op"] == "time":
                reply = worker.time(int(request["count"]))
            else:
                break
            print(json.dumps(reply), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
