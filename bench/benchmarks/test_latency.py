"""Latency of each model of a suite through pytest-benchmark (default suite: ci_latency).

    pytest bench/ --benchmark-only -k test_latency [--suite suites/paper_table2.yaml]
        [--benchmark-json out.json] [--benchmark-save NAME] [--benchmark-compare]

pytest-benchmark times ``Runner.step`` (one forward, synchronized on CUDA) in pedantic mode:
the suite's ``warmup_iterations`` as warm-up rounds and ``min_iterations`` rounds, under
``measurement_state`` (threads set and restored, pinned to one core for a one-thread CPU
measurement, inference mode). Params and MACs go into
``extra_info`` beside the conditions.
"""

from __future__ import annotations

from bench.measure.complexity import count_complexity
from bench.measure.latency import Runner, measurement_state
from bench.models.registry import build_model
from bench.specs import LatencyConditions


def test_latency(benchmark, suite_entry) -> None:
    suite, planned = suite_entry
    spec = planned.spec
    conditions = suite.latency or LatencyConditions()
    counts = count_complexity(spec)
    with measurement_state(conditions) as core:
        runner = Runner(build_model(spec), spec.input_shape, conditions)
        benchmark.pedantic(
            runner.step, rounds=conditions.min_iterations, warmup_rounds=conditions.warmup_iterations, iterations=1
        )
    benchmark.extra_info.update(
        model=spec.name,
        input_size=spec.input_size,
        params=counts.params,
        macs=counts.macs,
        device=conditions.device,
        threads=conditions.threads,
        precision=conditions.precision,
        memory_format=conditions.memory_format,
        compile=conditions.compile,
        batch_size=conditions.batch_size,
        cpu_core=core,
    )
