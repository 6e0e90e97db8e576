"""``bench run``: plan a suite, measure what is not done yet, and store one row per entry.

A thin driver: planning is :mod:`bench.scaling.plan`, counting :mod:`bench.measure.complexity` (through the
cache), storage :mod:`bench.store.results`. Nothing is written until every entry is planned, so
an input problem leaves the results untouched.
"""

from __future__ import annotations

import re
import sys
import time
import zlib
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from itertools import chain
from pathlib import Path

from tqdm import tqdm

from bench.accuracy.distributed import DistContext
from bench.accuracy.run_state import TrainResult, read_result
from bench.accuracy.runs import SeedRun, check_runs, train_runs
from bench.errors import InputError
from bench.measure.complexity import count_many
from bench.measure.environment import environment, machine_fingerprint
from bench.measure.latency import measure_latency
from bench.models.registry import build_model, workload_key
from bench.scaling.plan import PlannedModel, plan_suite
from bench.specs import LatencyConditions, ModelSpec, TrainBudget
from bench.store.atomic import atomic_write
from bench.store.count_cache import ComplexityCache
from bench.store.results import append_rows, identities, read_results
from bench.store.reuse import copy_is_current, finished_trainings, reusable, reused_columns, superseded_copies
from bench.store.rows import accuracy_columns, latency_columns, latency_key, suite_row
from bench.suites import SuiteSpec
from bench.zoo.quick import QuickProtocol

#: Below this many networks to count, worker start-up costs more than it saves.
PARALLEL_THRESHOLD = 8


@dataclass(frozen=True)
class RunSummary:
    """What a run planned, how many rows this process wrote, and how many it skipped as already done: stored
    before it started, or meanwhile by another run of the same suite (``stored_meanwhile`` of them), which
    it then leaves as they are. Runs sharing a store thus add up to the rows the store gained."""

    suite: SuiteSpec
    planned: list[PlannedModel]
    written: int
    skipped: int
    reused: int = 0
    stored_meanwhile: int = 0


def _bar(total: int, desc: str, progress: bool, plain: bool = False) -> tqdm | LineProgress:
    """A progress bar on stderr on a terminal (no monitor thread: workers are forked); elsewhere (a log, a
    pipe, CI) plain progress lines (``LineProgress``), so a long run is never silent. ``plain``: lines on a
    terminal too, for when other processes (training workers) print to it, whose lines a bar cannot clear
    around and would garble."""
    if progress and (plain or not sys.stderr.isatty()):
        return LineProgress(total, desc)
    tqdm.monitor_interval = 0
    return tqdm(total=total, desc=desc, unit="model", leave=False, disable=None if progress else True)


class LineProgress:
    """Progress as lines on stderr, for output that is not a terminal: one line every ``every`` models or
    whenever ``seconds`` have passed since the last line (checked as each model finishes)."""

    def __init__(self, total: int, desc: str, every: int = 10, seconds: float = 30.0, clock=time.monotonic) -> None:
        self.total, self.desc, self.every, self.seconds, self.clock = total, desc, every, seconds, clock
        self.done, self.label = 0, ""
        self.started = self.last = clock()

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def set_postfix_str(self, label: str, refresh: bool = False) -> None:
        self.label = label

    def update(self, n: int = 1) -> None:
        self.done += n
        now = self.clock()
        if self.done % self.every == 0 or now - self.last >= self.seconds:
            self.last = now
            elapsed = int(now - self.started)
            print(
                f"{self.desc}: {self.done}/{self.total} models, {elapsed // 60}m{elapsed % 60:02d}s"
                + (f" (last: {self.label})" if self.label else ""),
                file=sys.stderr,
                flush=True,
            )


def _tick(bar: tqdm | LineProgress, label: str) -> None:
    bar.set_postfix_str(label, refresh=False)
    bar.update()


@dataclass(frozen=True)
class Task:
    """One row to produce: a planned entry, what to measure, and under which conditions."""

    planned: PlannedModel
    measurement: str
    conditions: LatencyConditions | None = None
    budget: TrainBudget | None = None
    seeds: tuple[int, ...] = ()
    #: A quick look's early stop (bench.zoo.quick): the forwards stop once all of them took longer than this.
    stop_above_ms: float | None = None

    @property
    def key(self) -> str:
        spec = self.planned.spec
        if self.budget is not None:
            return workload_key(spec, measurement="accuracy", budget=self.budget.describe(), seeds=list(self.seeds))
        if self.conditions is None:
            return workload_key(spec)
        return latency_key(spec, self.measurement, self.conditions)

    @property
    def train_budget(self) -> TrainBudget:
        if self.budget is None:
            raise ValueError(f"{self.planned.entry.name}: not a training task")
        return self.budget

    @property
    def latency_conditions(self) -> LatencyConditions:
        if self.conditions is None:
            raise ValueError(f"{self.planned.entry.name}: not a timing task")
        return self.conditions

    @property
    def timed(self) -> bool:
        return self.conditions is not None or self.budget is not None


def suite_tasks(suite: SuiteSpec, planned: list[PlannedModel], quick: QuickProtocol | None = None) -> list[Task]:
    """Every row the suite asks for: complexity, latency, and throughput at each batch size. With ``quick``,
    the latency rows are quick looks instead (bench.zoo.quick: measurement ``latency-quick``, never ``latency``)."""
    tasks = []
    for item in planned:
        if "complexity" in suite.metrics:
            tasks.append(Task(item, "complexity"))
        if quick is not None:
            tasks.append(Task(item, quick.measurement, quick.conditions, stop_above_ms=quick.stop_above_ms))
        elif suite.latency is not None:
            tasks.append(Task(item, "latency", suite.latency))
        if suite.throughput is not None:
            tasks += [
                Task(item, "throughput", replace(suite.throughput.conditions, batch_size=b))
                for b in suite.throughput.batch_sizes
            ]
        seeds = item.entry.seeds or suite.seeds
        tasks += [Task(item, "accuracy", budget=budget, seeds=seeds) for budget in suite.budgets]
    return tasks


def count_missing(
    specs: list[ModelSpec],
    cache: ComplexityCache,
    jobs: int,
    progress: bool,
    on_counted: Callable[[ModelSpec], None] | None = None,
) -> None:
    """Count every spec the cache lacks (each distinct workload once), in parallel if worth it;
    ``on_counted(spec)`` as each network is counted, so its rows can be stored at once."""
    missing = {workload_key(s): s for s in specs if cache.get(s) is None}
    if not missing:
        return
    workers = jobs if len(missing) >= PARALLEL_THRESHOLD else 1
    with _bar(len(missing), "counting", progress) as bar:
        for counted in count_many(missing.values(), jobs=workers):
            cache.put(counted.spec, counted.complexity)
            if on_counted is not None:
                on_counted(counted.spec)
            _tick(bar, counted.spec.name)


def _measure_latency(task: Task) -> dict:
    spec = task.planned.spec
    model = build_model(spec)
    return latency_columns(
        measure_latency(model, spec.input_shape, task.latency_conditions, stop_above_ms=task.stop_above_ms)
    )


def seed_runs(tasks: list[Task], checkpoints: Path) -> tuple[dict[Path, SeedRun], dict[Path, list[tuple[int, int]]]]:
    """Each (network, budget, seed) run of the training tasks, by checkpoint folder, and for each folder
    the (task, seed) positions it answers: two entries with one network and budget share their runs."""
    runs: dict[Path, SeedRun] = {}
    owners: dict[Path, list[tuple[int, int]]] = {}
    for t, task in enumerate(tasks):
        run_key = workload_key(task.planned.spec, measurement="accuracy", budget=task.train_budget.describe())
        for s, seed in enumerate(task.seeds):
            folder = checkpoints / f"{run_key}-s{seed}"
            runs.setdefault(folder, SeedRun(task.planned.spec, task.train_budget, seed, folder))
            owners.setdefault(folder, []).append((t, s))
    return runs, owners


def _copy(source: Path, target: Path) -> None:
    text = source.read_text()
    atomic_write(target, lambda tmp: tmp.write_text(text))


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (1-based): the entries whose name hashes (CRC-32, the same on every
    machine and Python) to it. The shards of a suite are disjoint and together are the whole suite."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not 1 <= self.index <= self.count:
            raise InputError(f"--shard {self.index}/{self.count}: need 1 <= I <= N")

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = re.fullmatch(r"\s*([-+]?\d+)\s*/\s*([-+]?\d+)\s*", text)
        if match is None:
            raise InputError(f"--shard {text!r}: expected I/N, e.g. 2/8")
        return cls(int(match.group(1)), int(match.group(2)))  # -1/2 or 3/2: "need 1 <= I <= N"

    def holds(self, entry: str) -> bool:
        return zlib.crc32(entry.encode()) % self.count == self.index - 1


def archive_seed(folder: Path, archive: Path) -> None:
    """Copy a finished run's ``result.json`` to ``archive/<run folder name>.json``."""
    if (folder / "result.json").exists():
        _copy(folder / "result.json", archive / f"{folder.name}.json")


ARCHIVE_HINT = "fix or delete this archived seed (it is then trained again)"


def restore_seeds(folders: list[Path], archive: Path) -> int:
    """Put each archived result back as ``result.json`` of its run folder where the folder has none, so
    that run counts as finished (a half-trained ``last.pt`` there is then unused). Returns how many."""
    restored = 0
    for folder in folders:
        archived = archive / f"{folder.name}.json"
        if archived.exists() and not (folder / "result.json").exists():
            read_result(archived, ARCHIVE_HINT)  # checked here, so that an error names the archive's file
            _copy(archived, folder / "result.json")
            restored += 1
    return restored


def _train_tasks(
    tasks: list[Task],
    checkpoints: Path,
    dist: DistContext,
    jobs: int,
    progress: bool,
    cost: Callable[[SeedRun], float] | None = None,
    *,
    restart_broken: bool = False,
    seed_archive: Path | None = None,
    by_seed: bool = False,
) -> Generator[tuple[Task, dict], None, None]:
    """(task, accuracy columns) as each task's seeds all finish (resuming from checkpoints);
    ``jobs`` runs train at once on CPU (see bench.accuracy.runs). Runs start most ``cost``ly first, so
    that with several workers the last ones to finish are short and no worker idles long at the end;
    ``by_seed`` puts the seed first (every run of seed s before any of seed s + 1), so that a run stopped
    part-way leaves every entry with the same seeds."""
    runs, owners = seed_runs(tasks, checkpoints)
    if cost is not None:
        runs = dict(sorted(runs.items(), key=lambda item: (item[1].seed if by_seed else 0, -cost(item[1]))))
    order = list(runs)
    finished = train_runs(
        list(runs.values()),
        jobs,
        dist=dist,
        progress=progress and jobs <= 1,
        data_cache={},
        log_epochs=progress,
        restart_broken=restart_broken,
    )
    with closing(finished):  # closed at once on Ctrl-C or an error: its workers stop, queued runs never start
        yield from _completed_tasks(tasks, order, owners, finished, seed_archive)


def _completed_tasks(
    tasks: list[Task],
    order: list[Path],
    owners: dict[Path, list[tuple[int, int]]],
    finished: Iterator[tuple[int, TrainResult]],
    seed_archive: Path | None,
) -> Iterator[tuple[Task, dict]]:
    """(task, accuracy columns) for each task whose last seed is among the ``finished`` runs."""
    results: dict[int, dict[int, TrainResult]] = {t: {} for t in range(len(tasks))}
    for i, result in finished:
        if seed_archive is not None:
            archive_seed(order[i], seed_archive)
        for t, s in owners[order[i]]:
            results[t][s] = result
            task = tasks[t]
            if len(results[t]) == len(task.seeds):
                yield (
                    task,
                    accuracy_columns(
                        task.train_budget,
                        task.seeds,
                        [results[t][k] for k in range(len(task.seeds))],
                        input_size=task.planned.spec.input_size,
                    ),
                )


def _reuse_trainings(
    suite: str, todo: list[Task], found: dict[str, list[dict]]
) -> tuple[list[Task], list[tuple[Task, dict]]]:
    """(the tasks to measure, the training tasks answered by a stored row of the same network, budget and
    seeds, with that row's columns; see bench.store.reuse). A task whose current copy is stored is in neither."""
    measure, copies = [], []
    for task in todo:
        source = reusable(found, task.key, suite, task.planned.entry.name) if task.budget is not None else None
        if source is None:
            measure.append(task)
            continue
        columns = reused_columns(source)
        if not copy_is_current(found, task.key, suite, task.planned.entry.name, columns):
            copies.append((task, columns))
    return measure, copies


def check_machine(suite: SuiteSpec) -> None:
    """Refuse, before anything runs, a suite this machine cannot run as written: a block that needs a CUDA GPU
    on a machine without one, or that asks for more threads than the machine's logical CPUs."""
    import torch

    from bench.suites import SuiteError
    from bench.zoo.budgets import logical_cpus

    cuda = [name for name, device in suite.devices.items() if device == "cuda"]
    if cuda and not torch.cuda.is_available():
        raise SuiteError(
            suite.path,
            f"{cuda[0]}.device",
            "needs a CUDA GPU, and this machine has none "
            "(torch.cuda.is_available() is False); run it on a GPU machine or set device: cpu",
        )
    blocks = {
        "latency": suite.latency,
        "throughput": suite.throughput.conditions if suite.throughput else None,
        "train": suite.train,
    }
    cpus = logical_cpus()
    for name, block in blocks.items():
        threads = getattr(block, "threads", None)
        if threads is not None and threads > cpus:
            raise SuiteError(
                suite.path, f"{name}.threads", f"{threads} is more than the {cpus} logical CPUs of this machine"
            )


def run_suite(
    suite: SuiteSpec,
    results: Path,
    cache: ComplexityCache,
    *,
    force: bool = False,
    jobs: int = 2,
    train_jobs: int = 1,
    progress: bool = True,
    restart_broken: bool = False,
    seed_archive: Path | None = None,
    shard: Shard | None = None,
    by_seed: bool = False,
    quick: QuickProtocol | None = None,
) -> RunSummary:
    """Plan ``suite``, then produce every row not already in ``results``.

    Complexity rows are written together; each timed row is written as soon as it is
    measured, so an interrupted run resumes where it stopped. ``train_jobs`` training runs go at
    once (CPU; bench.accuracy.runs). A training run whose checkpoint folder is broken stops the suite
    with one error naming the file, unless ``restart_broken`` (then it is moved aside and retrained).
    With ``seed_archive``, finished seeds are copied there as they finish and seeds found there count
    as finished (see ``restore_seeds``). With ``shard``, only that shard's entries are measured. ``by_seed``:
    training runs go seed by seed (see ``_train_tasks``). ``quick``: latency rows are quick looks (``suite_tasks``).
    """
    solved = sum(1 for entry in suite.entries if entry.target is not None)
    with _bar(solved, "solving", progress) as bar:
        planned = plan_suite(suite, cache, jobs, on_solved=lambda item: _tick(bar, item.entry.name))
    tasks = suite_tasks(suite, planned, quick)
    if shard is not None:
        tasks = [t for t in tasks if shard.holds(t.planned.entry.name)]
    env = environment()
    stored = read_results(results)
    todo = _not_stored(suite, tasks, set() if force else identities(stored), machine_fingerprint(env))
    copies: list[tuple[Task, dict]] = []
    if not force and any(t.budget is not None for t in todo):
        to_measure, copies = _reuse_trainings(suite.name, todo, finished_trainings(stored))
        todo = to_measure + [task for task, _ in copies]
    else:
        to_measure = todo
    dist = DistContext.from_env(suite.train.device) if suite.train is not None else DistContext()
    checkpoints = results.parent / "checkpoints"
    if dist.is_main:  # before any row is written: a broken run folder stops the suite here, or is moved aside
        _check_run_folders([t for t in to_measure if t.budget is not None], checkpoints, seed_archive, restart_broken)
    rows = _RowWriter(suite, results, cache, env, write=dist.is_main, skip_stored=not force)
    rows.counts(todo, jobs, progress)
    reused = rows.copies(copies)
    timed = [t for t in to_measure if t.timed and (dist.is_main or t.budget is not None)]
    workers_print = train_jobs > 1 and any(t.budget is not None for t in timed)  # their lines share the terminal
    desc = "quick timing" if quick else "measuring"
    with _bar(len(timed), desc, progress and dist.is_main, plain=workers_print) as bar:

        def run_cost(run: SeedRun) -> float:
            return cache.count(run.spec).macs * run.budget.epochs

        trained = [t for t in timed if t.budget is not None]
        archive = seed_archive if dist.is_main else None
        trainings = _train_tasks(
            trained,
            checkpoints,
            dist,
            train_jobs,
            progress,
            run_cost,
            restart_broken=restart_broken,
            seed_archive=archive,
            by_seed=by_seed,
        )
        measured = ((t, _measure_latency(t)) for t in timed if t.budget is None)  # first: nothing else running
        # closed at once however the loop ends (Ctrl-C, a failed write), so training workers never outlive it
        with closing(trainings):
            for task, columns in chain(measured, trainings):
                rows.measured(task, columns)
                _tick(bar, task.planned.entry.name + (f" bs{task.conditions.batch_size}" if task.conditions else ""))
    return RunSummary(
        suite,
        planned,
        written=rows.written,
        skipped=len(tasks) - len(todo) + rows.stored_meanwhile,
        reused=reused,
        stored_meanwhile=rows.stored_meanwhile,
    )


def _check_run_folders(tasks: list[Task], checkpoints: Path, archive: Path | None, restart_broken: bool) -> None:
    """Archived seeds restored into their run folders, then every folder checked (see ``check_runs``)."""
    folders = list(seed_runs(tasks, checkpoints)[0].values())
    if archive is not None:
        restore_seeds([run.checkpoint_dir for run in folders], archive)
    check_runs(folders, restart_broken)


def _not_stored(suite: SuiteSpec, tasks: list[Task], done: set, machine: str) -> list[Task]:
    """The tasks whose row is not in the store yet (a timed row is this machine's)."""
    return [
        t
        for t in tasks
        if (suite.name, t.planned.entry.name, t.measurement, t.key, machine if t.timed else "") not in done
    ]


class _RowWriter:
    """Writes a suite's rows as they come: count rows as soon as their network is counted, copied training
    rows together, each measured row alone (so a kill keeps every row finished before it). Only the main
    process of a torchrun job writes (``write``)."""

    def __init__(
        self, suite: SuiteSpec, results: Path, cache: ComplexityCache, env: dict, *, write: bool, skip_stored: bool
    ) -> None:
        self.suite, self.results, self.cache, self.env, self.write = suite, results, cache, env, write
        self.skip_stored = skip_stored  # a row another run stored meanwhile is left as it is (not with --force)
        self.written = self.stored_meanwhile = 0

    def _append(self, rows: list[dict], replaces: Callable[[dict], bool] | None = None) -> int:
        count = append_rows(self.results, rows, replaces=replaces, skip_stored=self.skip_stored)
        self.written += count
        self.stored_meanwhile += len(rows) - count
        return count

    def _row(self, task: Task) -> dict:
        counts = self.cache.count(task.planned.spec)
        return suite_row(self.suite.name, task.planned, task.measurement, task.key, counts, self.env, timed=task.timed)

    def counts(self, todo: list[Task], jobs: int, progress: bool) -> None:
        """Count what is missing (in parallel) and store the count rows of every entry of each network."""
        by_key: dict[str, list[Task]] = {}
        for task in todo:
            if not task.timed:
                by_key.setdefault(workload_key(task.planned.spec), []).append(task)

        def store(spec: ModelSpec) -> None:
            tasks = by_key.pop(workload_key(spec), [])
            if self.write and tasks:
                self._append([self._row(t) for t in tasks])

        cached = [key for key, group in by_key.items() if self.cache.get(group[0].planned.spec) is not None]
        known = [task for key in cached for task in by_key.pop(key)]
        if self.write and known:  # counted before: stored now, in one write (a write rewrites the whole store)
            self._append([self._row(t) for t in known])
        count_missing([t.planned.spec for t in todo], self.cache, jobs, progress, on_counted=store)
        if self.write:
            self.cache.save()

    def copies(self, copies: list[tuple[Task, dict]]) -> int:
        """Training rows taken from another suite's identical run, written together; how many were written."""
        if not self.write:
            return 0
        written = [{**self._row(t), **columns} for t, columns in copies]
        return self._append(written, replaces=superseded_copies(written))

    def measured(self, task: Task, columns: dict) -> None:
        """One timed or trained row, written at once."""
        if self.write:
            row = {**self._row(task), **columns}
            self._append([row], replaces=superseded_copies([row]))
