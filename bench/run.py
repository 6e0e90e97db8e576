"""``bench run``: plan a suite, measure what is not done yet, and store one row per entry.

A thin driver: planning is :mod:`bench.plan`, counting :mod:`bench.complexity` (through the
cache), storage :mod:`bench.results`. Nothing is written until every entry is planned, so
an input problem leaves the results untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from bench.cache import ComplexityCache
from bench.complexity import Complexity, count_many
from bench.environment import environment
from bench.models import workload_key
from bench.plan import PlannedModel, plan_suite
from bench.results import append_rows, done_identities, identity, spec_columns
from bench.suites import SuiteSpec

COUNTER = "FlopCounterMode(meta)"
#: Below this many networks to count, worker start-up costs more than it saves.
PARALLEL_THRESHOLD = 8


@dataclass(frozen=True)
class RunSummary:
    """What a run planned, how many rows it wrote, and how many it skipped as already done."""

    suite: SuiteSpec
    planned: list[PlannedModel]
    written: int
    skipped: int


def _bar(total: int, desc: str, progress: bool) -> tqdm:
    """A progress bar on stderr, shown only on a terminal (no monitor thread: workers are forked)."""
    tqdm.monitor_interval = 0
    return tqdm(total=total, desc=desc, unit="model", leave=False, disable=None if progress else True)


def _tick(bar: tqdm, label: str) -> None:
    bar.set_postfix_str(label, refresh=False)
    bar.update()


def complexity_row(suite: SuiteSpec, planned: PlannedModel, counts: Complexity, env: dict) -> dict:
    """The tidy row of one entry's exact counts."""
    return {
        "suite": suite.name, "entry": planned.entry.name, "measurement": "complexity",
        "workload_key": workload_key(planned.spec),
        **spec_columns(planned.spec),
        "params": counts.params, "macs": counts.macs, "activations": counts.activations, "counter": COUNTER,
        "target_macs": planned.target_macs, "match_of": planned.match_of, "paper_ref": planned.entry.paper,
        **env,
    }


def count_missing(planned: list[PlannedModel], cache: ComplexityCache, jobs: int, progress: bool) -> None:
    """Count every planned spec the cache lacks (each distinct workload once), in parallel if worth it."""
    missing = {workload_key(p.spec): p.spec for p in planned if cache.get(p.spec) is None}
    if not missing:
        return
    workers = jobs if len(missing) >= PARALLEL_THRESHOLD else 1
    with _bar(len(missing), "counting", progress) as bar:
        for counted in count_many(missing.values(), jobs=workers):
            cache.put(counted.spec, counted.complexity)
            _tick(bar, counted.spec.name)


def _identity(suite: SuiteSpec, planned: PlannedModel) -> tuple:
    return identity({"suite": suite.name, "entry": planned.entry.name, "measurement": "complexity",
                     "workload_key": workload_key(planned.spec)})


def run_suite(
    suite: SuiteSpec, results: Path, cache: ComplexityCache, *, force: bool = False, jobs: int = 2,
    progress: bool = True,
) -> RunSummary:
    """Plan ``suite``, count what is missing, and append the rows not already in ``results``."""
    solved = sum(1 for entry in suite.entries if entry.target is not None)
    with _bar(solved, "solving", progress) as bar:
        planned = plan_suite(suite, cache, jobs, on_solved=lambda item: _tick(bar, item.entry.name))
    done = set() if force else done_identities(results)
    todo = [item for item in planned if _identity(suite, item) not in done]
    count_missing(todo, cache, jobs, progress)
    env = environment()
    rows = [complexity_row(suite, item, cache.count(item.spec), env) for item in todo]
    append_rows(results, rows)
    cache.save()
    return RunSummary(suite, planned, written=len(rows), skipped=len(planned) - len(todo))
