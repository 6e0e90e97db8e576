"""Suite entries to concrete ModelSpecs: solved entries get their coefficients here.

Planning counts MACs (through the cache) only where an entry's cost is a target; it
writes no results, so a target the solver cannot reach fails the run before anything is
measured, with the same one-line SuiteError as any other input problem. Independent
solves run in parallel worker processes, in rounds: an entry that matches a solved entry
waits for the round after it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.measure.complexity import count_many
from bench.measure.parallel import imap_unordered
from bench.models.registry import make_spec
from bench.scaling.solver import Match, SolverError, solve
from bench.specs import ModelSpec
from bench.store.count_cache import ComplexityCache
from bench.suites import SuiteEntry, SuiteError, SuiteSpec


@dataclass(frozen=True)
class PlannedModel:
    """A suite entry with its final spec; solved entries also carry the MAC target they hit."""

    entry: SuiteEntry
    spec: ModelSpec
    target_macs: float | None = None

    @property
    def match_of(self) -> str | None:
        """The entry whose MACs this one was solved to (its name), or how an absolute target was given."""
        target = self.entry.target
        if target is None:
            return None
        return target.entry if target.entry is not None else target.describe()


@dataclass(frozen=True)
class _SolveTask:
    entry: SuiteEntry
    target_macs: float
    cache: ComplexityCache


def _solve_task(task: _SolveTask) -> tuple[Match | SolverError, dict]:
    """Solve one entry (in a worker); return the match (or the error) and everything counted."""
    entry = task.entry
    result: Match | SolverError
    try:
        result = solve(
            entry.model,
            entry.cost_target.method,
            task.target_macs,
            task.cache.macs,
            tolerance=entry.cost_target.tolerance,
            coefficients=entry.coefficients,
            name=entry.name,
            inputs=entry.inputs,
        )
    except SolverError as error:  # out of reach, in the solver's one wording (past a ScaleLimits limit included)
        result = error
    return result, task.cache.entries()


def _target_spec(entry: SuiteEntry, planned: dict[str, PlannedModel]) -> ModelSpec:
    """The spec whose MACs set ``entry``'s target (for ratios: the unscaled model)."""
    if entry.cost_target.entry is not None:
        return planned[entry.cost_target.entry].spec
    return make_spec(entry.model, inputs=entry.inputs)


def _target_macs(entry: SuiteEntry, planned: dict[str, PlannedModel], cache: ComplexityCache) -> float:
    target = entry.cost_target
    if target.macs is not None:
        return target.macs
    macs = cache.macs(_target_spec(entry, planned))
    if target.entry is not None or target.macs_ratio is None:
        return float(macs)
    return target.macs_ratio * macs


def plan_suite(
    suite: SuiteSpec, cache: ComplexityCache, jobs: int = 1, on_solved: Callable[[PlannedModel], None] | None = None
) -> list[PlannedModel]:
    """Every entry of ``suite`` with a concrete spec, in file order. A target out of reach does not stop the
    others: every entry that can be solved is, and one SuiteError lists every unreachable target (an entry
    matched to an unsolved one is not solved, and not reported twice)."""
    planned = {e.name: PlannedModel(e, e.spec) for e in suite.entries if e.spec is not None}
    pending = [e for e in suite.entries if e.spec is None]
    failed: dict[str, SuiteError] = {}
    while pending:
        ready = [e for e in pending if e.cost_target.entry is None or e.cost_target.entry in planned]
        if not ready:  # what is left is matched to an entry that failed
            break
        needed = {id(e): _target_spec(e, planned) for e in ready if e.cost_target.macs is None}
        for counted in count_many([s for s in needed.values() if cache.get(s) is None], jobs):
            cache.put(counted.spec, counted.complexity)
        tasks = [_SolveTask(e, _target_macs(e, planned, cache), cache) for e in ready]
        for index, (result, entries) in imap_unordered(_solve_task, tasks, jobs):
            cache.merge(entries)
            entry = tasks[index].entry
            if isinstance(result, SolverError):
                failed[entry.name] = SuiteError(suite.path, entry.where, str(result))
                continue
            planned[entry.name] = PlannedModel(entry, result.spec, tasks[index].target_macs)
            if on_solved is not None:
                on_solved(planned[entry.name])
        pending = [e for e in pending if e.name not in planned and e.name not in failed]
    if failed:
        raise SuiteError.many([failed[e.name] for e in suite.entries if e.name in failed])
    return [planned[e.name] for e in suite.entries]
