"""``bench run``: plan a suite, measure what is not done yet, and store one row per entry.

A thin driver: planning is :mod:`bench.plan`, counting :mod:`bench.complexity` (through the
cache), storage :mod:`bench.results`. Nothing is written until every entry is planned, so
an input problem leaves the results untouched.
"""

from __future__ import annotations

import json
import re
import sys
import time
import zlib
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from itertools import chain
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bench.accuracy import MEASURED, PRETRAINED_EVAL
from bench.accuracy.datasets import native_size
from bench.accuracy.distributed import DistContext
from bench.accuracy.run_state import TrainResult, read_result
from bench.accuracy.runs import SeedRun, check_runs, train_runs
from bench.atomic import atomic_write
from bench.cache import ComplexityCache
from bench.complexity import Complexity, count_many
from bench.environment import environment, machine_fingerprint, now
from bench.latency import LatencyResult, measure_latency
from bench.models import build_model, workload_key
from bench.plan import PlannedModel, plan_suite
from bench.quick import QuickProtocol
from bench.results import append_rows, identities, read_results, spec_columns
from bench.reuse import copy_is_current, finished_trainings, reusable, reused_columns, superseded_copies
from bench.specs import LatencyConditions, ModelSpec, TrainBudget
from bench.suites import SuiteSpec

COUNTER = "FlopCounterMode(meta)"
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


@dataclass
class _Writer:
    """The run's writes to its store, counted: rows written, and rows found stored by another process by the
    time they were to be written (with ``skip_stored``; a forced run replaces rows instead)."""

    path: Path
    skip_stored: bool
    written: int = 0
    stored_meanwhile: int = 0

    def write(self, rows: list[dict], replaces: Callable[[dict], bool] | None = None) -> int:
        count = append_rows(self.path, rows, replaces=replaces, skip_stored=self.skip_stored)
        self.written += count
        self.stored_meanwhile += len(rows) - count
        return count


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


def _row(suite: SuiteSpec, task: Task, counts: Complexity, env: dict) -> dict:
    """Columns every row has: identity, model, exact counts, match, paper row, environment. A measured
    row carries its machine in its identity and the time it was measured."""
    planned = task.planned
    measured = {"machine": machine_fingerprint(env), "timestamp": now()} if task.timed else {"machine": ""}
    return {
        "suite": suite.name,
        "entry": planned.entry.name,
        "measurement": task.measurement,
        "workload_key": task.key,
        **spec_columns(planned.spec),
        "params": counts.params,
        "macs": counts.macs,
        "activations": counts.activations,
        "counter": COUNTER,
        "target_macs": planned.target_macs,
        "match_of": planned.match_of,
        "paper_ref": planned.entry.paper,
        **env,
        **measured,
    }


def latency_columns(result: LatencyResult) -> dict:
    """The measured columns of a latency or throughput row, with the conditions next to the figures."""
    c, stats = result.conditions, result.stats
    return {
        "device": c.device,
        "precision": c.precision,
        "memory_format": c.memory_format,
        "compile": c.compile,
        "threads": result.threads,
        "batch_size": result.batch_used,
        "batch_requested": result.batch_requested,
        "warmup_iterations": c.warmup_iterations,
        "iterations": stats.iterations,
        "latency_ms_p50": stats.p50,
        "latency_ms_p90": stats.p90,
        "latency_ms_p99": stats.p99,
        "latency_ms_mean": stats.mean,
        "latency_ms_std": stats.std,
        "latency_cv": stats.cv,
        "throughput_ips": result.throughput,
        "peak_memory_mb": result.peak_memory_mb,
        "cpu_core": result.core,
        "cpu_wall_ratio": result.cpu_wall_ratio,
    }


@dataclass(frozen=True)
class Task:
    """One row to produce: a planned entry, what to measure, and under which conditions."""

    planned: PlannedModel
    measurement: str
    conditions: LatencyConditions | None = None
    budget: TrainBudget | None = None
    seeds: tuple[int, ...] = ()
    #: A quick look's early stop (bench.quick): the forwards stop once all of them took longer than this.
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
    the latency rows are quick looks instead (bench.quick: measurement ``latency-quick``, never ``latency``)."""
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
            raise ValueError(f"--shard {self.index}/{self.count}: need 1 <= I <= N")

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = re.fullmatch(r"\s*([-+]?\d+)\s*/\s*([-+]?\d+)\s*", text)
        if match is None:
            raise ValueError(f"--shard {text!r}: expected I/N, e.g. 2/8")
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


def _shared(values: set[int]) -> int | None:
    """The value every seed shares, or None where they differ or none was recorded."""
    return next(iter(values)) if len(values) == 1 else None


def accuracy_columns(
    budget: TrainBudget, seeds: tuple[int, ...], results: list[TrainResult], *, input_size: int | None = None
) -> dict:
    """The accuracy columns of one entry's row: mean and std over seeds, each seed's top-1, the budget, and
    whether the entry's input is larger than the dataset's own images (``upsampled``: no new detail)."""
    top1 = np.array([r.top1 for r in results])
    native = native_size(budget.dataset)
    top5 = np.array([r.top5 for r in results], dtype=float)
    val = np.array([r.val_top1 for r in results], dtype=float)

    def spread(values: np.ndarray) -> float:
        return float(values.std(ddof=1)) if len(values) > 1 else 0.0

    validated = budget.val_images is not None and not np.isnan(val).any()
    return {
        "accuracy_source": MEASURED,
        "dataset": budget.dataset,
        "top1": float(top1.mean()),
        "top1_std": spread(top1),
        "top5": float(np.nanmean(top5)) if not np.isnan(top5).all() else None,
        "top5_std": spread(top5) if not np.isnan(top5).any() else None,
        "top1_per_seed": " ".join(f"{v:g}" for v in top1),
        "val_images": budget.val_images,
        "val_top1": float(val.mean()) if validated else None,
        "val_top1_std": spread(val) if validated else None,
        "val_top1_per_seed": " ".join(f"{v:g}" for v in val) if validated else None,
        "train_loss": float(np.mean([r.train_loss for r in results])),
        "upsampled": None if native is None or input_size is None else bool(input_size > native),
        "seeds": " ".join(map(str, seeds)),
        "n_seeds": len(seeds),
        "epochs": budget.epochs,
        "budget": budget.describe(),
        "train_seconds": float(sum(r.seconds for r in results)),
        "train_images_per_s": float(np.mean([r.images_per_s for r in results])),
        "timestamp": max((r.finished for r in results if r.finished), default=now()),  # when the last seed ended
        "device": budget.device,
        "threads": _shared({r.threads for r in results} - {0}),
        "train_jobs": _shared({r.concurrent for r in results} - {0}),
        "train_processes": _shared({r.processes for r in results}),
    }


def latency_key(spec: ModelSpec, measurement: str, c: LatencyConditions) -> str:
    """The workload key of a latency or throughput row: the network, its input, every timing condition."""
    return workload_key(
        spec,
        measurement=measurement,
        device=c.device,
        batch=c.batch_size,
        threads=c.threads,
        precision=c.precision,
        memory_format=c.memory_format,
        compile=c.compile,
    )


def single_latency_row(
    spec: ModelSpec, result: LatencyResult, env: dict, suite: str = "cli", counts: Complexity | None = None
) -> dict:
    """The row ``bench latency`` stores: as a suite's latency row, under suite ``cli``, entry = the variant
    (``counts``: the network's counts where the caller has them, else counted here)."""
    counts = counts or ComplexityCache(None).count(spec)
    return {
        "suite": suite,
        "entry": spec.name,
        "measurement": "latency",
        "workload_key": latency_key(spec, "latency", result.conditions),
        **spec_columns(spec),
        "params": counts.params,
        "macs": counts.macs,
        "activations": counts.activations,
        "counter": COUNTER,
        **env,
        "machine": machine_fingerprint(env),
        "timestamp": now(),
        **latency_columns(result),
    }


def pretrained_eval_row(
    model_name: str,
    checkpoint: Path,
    folder: Path,
    result,
    env: dict,
    suite: str = "pretrained_eval",
    *,
    model_args: dict | None = None,
    num_classes: int | None = None,
    in_chans: int | None = None,
) -> dict:
    """One ``pretrained-eval`` row: the checkpoint (by digest), the folder, top-1/top-5 and the model's counts
    (of the model as scored: its args, classes and input channels)."""
    from bench.accuracy.pretrained import file_digest
    from bench.cache import ComplexityCache
    from bench.models import make_spec
    from bench.specs import InputSpec

    size = result.data_config["input_size"][-1]
    inputs = InputSpec(in_chans=in_chans or 3, num_classes=num_classes or 1000)
    spec = make_spec(model_name, input_size=size, model_args=model_args or {}, inputs=inputs)
    counts = ComplexityCache(None).count(spec)
    digest = file_digest(checkpoint)
    config = result.data_config
    transform = {k: config.get(k) for k in ("mean", "std", "interpolation", "crop_pct", "crop_mode")}
    key = workload_key(
        spec,
        measurement="pretrained-eval",
        checkpoint=digest,
        folder=str(folder.resolve()),
        images=result.images,
        transform=json.dumps(transform, sort_keys=True, default=str),  # another normalisation, another row
    )
    return {
        "suite": suite,
        "entry": model_name,
        "measurement": "accuracy",
        "workload_key": key,
        "machine": machine_fingerprint(env),
        **spec_columns(spec),
        "params": counts.params,
        "macs": counts.macs,
        "activations": counts.activations,
        "counter": COUNTER,
        "accuracy_source": PRETRAINED_EVAL,
        "dataset": f"folder:{folder}",
        "top1": result.top1,
        "top5": result.top5,
        "eval_images": result.images,
        "device": result.device,
        "checkpoint": f"{checkpoint.name} sha256:{digest}",
        **env,
    }


def _reuse_trainings(
    suite: str, todo: list[Task], found: dict[str, list[dict]]
) -> tuple[list[Task], list[tuple[Task, dict]]]:
    """(the tasks to measure, the training tasks answered by a stored row of the same network, budget and
    seeds, with that row's columns; see bench.reuse). A task whose current copy is stored is in neither."""
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

    from bench.budgets import logical_cpus
    from bench.suites import SuiteError

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
    done = set() if force else identities(stored)
    machine = machine_fingerprint(env)
    todo = [
        t
        for t in tasks
        if (suite.name, t.planned.entry.name, t.measurement, t.key, machine if t.timed else "") not in done
    ]
    copies: list[tuple[Task, dict]] = []
    if not force and any(t.budget is not None for t in todo):
        to_measure, copies = _reuse_trainings(suite.name, todo, finished_trainings(stored))
        todo = to_measure + [task for task, _ in copies]
    else:
        to_measure = todo
    dist = DistContext.from_env(suite.train.device) if suite.train is not None else DistContext()
    checkpoints = results.parent / "checkpoints"
    if dist.is_main:  # before any row is written: a broken run folder stops the suite here, or is moved aside
        folders = list(seed_runs([t for t in to_measure if t.budget is not None], checkpoints)[0].values())
        if seed_archive is not None:
            restore_seeds([run.checkpoint_dir for run in folders], seed_archive)
        check_runs(folders, restart_broken)
    writer, reused = _Writer(results, skip_stored=not force), 0
    counts_by_key: dict[str, list[Task]] = {}
    for task in todo:
        if not task.timed:
            counts_by_key.setdefault(workload_key(task.planned.spec), []).append(task)

    def store_counts(spec: ModelSpec) -> None:
        """The count rows of every entry of this network, as soon as it is counted (a kill keeps them)."""
        tasks = counts_by_key.pop(workload_key(spec), [])
        if dist.is_main and tasks:
            writer.write([_row(suite, t, cache.count(t.planned.spec), env) for t in tasks])

    cached = [key for key, group in counts_by_key.items() if cache.get(group[0].planned.spec) is not None]
    known = [task for key in cached for task in counts_by_key.pop(key)]
    if dist.is_main and known:  # counted before: stored now, in one write (a write rewrites the whole store)
        writer.write([_row(suite, t, cache.count(t.planned.spec), env) for t in known])
    count_missing([t.planned.spec for t in todo], cache, jobs, progress, on_counted=store_counts)
    if dist.is_main:
        cache.save()
        written = [{**_row(suite, t, cache.count(t.planned.spec), env), **columns} for t, columns in copies]
        reused = writer.write(written, replaces=superseded_copies(written))
    timed = [t for t in to_measure if t.timed and (dist.is_main or t.budget is not None)]
    trained = [t for t in timed if t.budget is not None]
    measured = ((t, _measure_latency(t)) for t in timed if t.budget is None)  # first: nothing else running
    workers_print = bool(trained) and train_jobs > 1  # their epoch lines share the terminal with our progress
    desc = "quick timing" if quick else "measuring"
    with _bar(len(timed), desc, progress and dist.is_main, plain=workers_print) as bar:

        def run_cost(run: SeedRun) -> float:
            return cache.count(run.spec).macs * run.budget.epochs

        trainings = _train_tasks(
            trained,
            checkpoints,
            dist,
            train_jobs,
            progress,
            run_cost,
            restart_broken=restart_broken,
            seed_archive=seed_archive if dist.is_main else None,
            by_seed=by_seed,
        )
        # closed at once however the loop ends (Ctrl-C, a failed write), so training workers never outlive it
        with closing(trainings):
            for task, columns in chain(measured, trainings):
                if dist.is_main:
                    row = {**_row(suite, task, cache.count(task.planned.spec), env), **columns}
                    writer.write([row], replaces=superseded_copies([row]))
                label = task.planned.entry.name + (f" bs{task.conditions.batch_size}" if task.conditions else "")
                _tick(bar, label)
    return RunSummary(
        suite,
        planned,
        written=writer.written,
        skipped=len(tasks) - len(todo) + writer.stored_meanwhile,
        reused=reused,
        stored_meanwhile=writer.stored_meanwhile,
    )
