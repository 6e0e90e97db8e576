"""How fast exact counting is: every model of the paper suites, cold and cached.

Targets: all paper-suite models, B7 at 600px included, counted from cold in <= 15 s on the 2-core
machine, and <= 1 s when every count comes from the cache. The targets are recorded beside the
figures in ``extra_info`` (``target_s``, ``target_met``), never asserted: a busy neighbour must not
fail the user's benchmark run.
"Cold" means an empty count cache in a process that has imported torch and timm and
planned the suites (planning solves the cost-matched entries; it is timed on its own).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bench.measure.complexity import count_complexity, count_many
from bench.models.registry import make_spec, workload_key
from bench.scaling.plan import plan_suite
from bench.store.count_cache import ComplexityCache
from bench.suites import load_suite

SUITES = Path(__file__).resolve().parents[2] / "suites"
PAPER_SUITES = ("paper_table2", "paper_table3", "paper_table7", "fig3_single_dim", "fig8_compound_vs_single")
COLD_TARGET_S = 15.0
CACHED_TARGET_S = 1.0


@pytest.fixture(scope="module")
def paper_specs():
    """Distinct networks of the paper suites (planning timed once, reported in extra_info)."""
    cache = ComplexityCache(None)
    start = time.perf_counter()
    specs = {}
    for name in PAPER_SUITES:
        for item in plan_suite(load_suite(SUITES / f"{name}.yaml"), cache, jobs=2):
            specs[workload_key(item.spec)] = item.spec
    return list(specs.values()), time.perf_counter() - start, cache


def test_count_paper_suites_cold(benchmark, paper_specs) -> None:
    specs, planning_s, _ = paper_specs
    assert len(specs) >= 40 and any(s.input_size == 600 for s in specs)
    result = benchmark.pedantic(lambda: list(count_many(specs, jobs=2)), rounds=1, iterations=1)
    assert len(result) == len(specs)
    benchmark.extra_info.update(
        models=len(specs),
        planning_s=round(planning_s, 2),
        target_s=COLD_TARGET_S,
        target_met=benchmark.stats.stats.max <= COLD_TARGET_S,
    )


def test_count_paper_suites_cached(benchmark, paper_specs) -> None:
    specs, _, cache = paper_specs
    for counted in count_many([s for s in specs if cache.get(s) is None], jobs=2):  # fill the cache, untimed
        cache.put(counted.spec, counted.complexity)
    result = benchmark.pedantic(lambda: [cache.count(s) for s in specs], rounds=5, iterations=1)
    assert len(result) == len(specs)
    benchmark.extra_info.update(
        models=len(specs), target_s=CACHED_TARGET_S, target_met=benchmark.stats.stats.max <= CACHED_TARGET_S
    )


@pytest.mark.parametrize("name", ["efficientnet_b0", "efficientnet_b7", "resnet50"])
def test_count_one_model(benchmark, name: str) -> None:
    spec = make_spec(name)
    counts = benchmark.pedantic(count_complexity, args=(spec,), rounds=3, iterations=1, warmup_rounds=1)
    benchmark.extra_info.update(input_size=spec.input_size, macs=counts.macs, params=counts.params)
