"""The CI latency gate: the baseline revision and the candidate, timed interleaved in one job.

Absolute times on these machines drift 20-30 % between runs, and the ratio of a model's
time to a fixed calibration workload drifts too (MobileNetV2 / a plain conv stack moved
by 12 % between runs an hour apart: contention slows depthwise, memory-bound layers more
than dense convolutions). What stays put is the ratio of *the same model* to itself. So the
gate extracts the baseline revision's ``bench`` package (``git archive``), starts two
worker processes, one importing the baseline code and one the candidate's, pins both to
the same core, and alternates single forwards between them (A B B A ...). Each pair of
neighbouring forwards sees the same machine state; candidate/baseline of the pairs is the
model's slowdown. Both workers rebuild the model every round, so no single instance's memory
placement decides the result. Whether a model passed, regressed or cannot be judged (too noisy)
is bench.gate.decision's, from the rounds' paired readings: a regression only when the ratio's
whole interval lies above ``1 + threshold``; undecided models get extra rounds; pairs timed while
another process shared the core are re-taken.

A suite's entries may be scaled, user models (``package.module:function``) or at any input size;
its ``latency:`` block sets threads, batch, precision, memory format and device for both sides.
Where each side's code comes from (the project's git checkout) is bench.gate.sources.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

from bench.errors import InputError
from bench.gate.decision import (
    EXIT_CODES,
    PASSED,
    ModelVerdict,
    PairReading,
    format_report,
    overall,
    settle,
    take_until_clean,
)
from bench.gate.sources import (
    baseline_revision,
    extract,
    extract_package,
    installed_worker_module,
    present_at,
    project_root,
    resolve_revision,
    user_helpers,
    user_packages,
    worker_module,
)
from bench.gate.worker import CONDITION_FIELDS
from bench.measure.latency import cpu_wall_ratio
from bench.measure.parallel import die_with_parent
from bench.models.registry import make_spec
from bench.specs import LatencyConditions, ModelSpec

__all__ = ["ModelVerdict", "baseline_revision", "extract_package", "format_report", "resolve_revision"]

DEFAULT_BASELINE = Path("suites") / "ci_latency.baseline.json"
DEFAULT_THRESHOLD = 0.05


@dataclass(frozen=True)
class GateSettings:
    """How much to measure: ``rounds`` fresh instances per side, ``pairs`` uncontended forward pairs each;
    a model still undecided gets up to ``extra_rounds`` more, ``rounds`` at a time."""

    rounds: int = 4
    pairs: int = 10
    threshold: float = DEFAULT_THRESHOLD
    core: int | None = None  # default: the last core this process may use
    extra_rounds: int = 12

    def __post_init__(self) -> None:
        if self.rounds < 1 or self.pairs < 1 or self.extra_rounds < 0 or not 0 < self.threshold < 1:
            raise InputError("need rounds >= 1, pairs >= 1, extra rounds >= 0 and 0 < threshold < 1")


@dataclass(frozen=True)
class GateReport:
    baseline_revision: str
    threshold: float
    settings: GateSettings
    verdicts: list[ModelVerdict] = field(default_factory=list)
    slowdowns: dict[str, float] = field(default_factory=dict)
    conditions: str = ""  # e.g. "2 threads, batch 8, channels_last"
    interleaved: bool = True  # False: timed alone against stored medians (bench gate --timings)

    @property
    def outcome(self) -> str:
        """The worst model's outcome (bench.gate.decision.PRECEDENCE: regressed, too noisy, passed)."""
        return overall([v.outcome for v in self.verdicts])

    @property
    def passed(self) -> bool:
        return self.outcome == PASSED

    @property
    def exit_code(self) -> int:
        """0 passed, 1 regressed, 3 too noisy to judge."""
        return EXIT_CODES[self.outcome]

    def to_json(self) -> str:
        data = {**asdict(self), "outcome": self.outcome, "exit_code": self.exit_code, "passed": self.passed}
        return json.dumps(_no_nan(data), indent=2, allow_nan=False)


def _no_nan(value):
    """``value`` with NaN (an interval that could not be formed) as None, so the JSON is strict."""
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nan(v) for v in value]
    return None if isinstance(value, float) and math.isnan(value) else value


def repo_root() -> Path:
    """The checkout the running ``bench`` package lives in."""
    return Path(__file__).resolve().parent.parent


def read_baseline(path: Path) -> dict:
    """The baseline file: ``{"revision": <commit>, ...}``."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: cannot read the gate baseline ({error})") from None
    if not isinstance(data.get("revision"), str):
        raise InputError(f"{path}: no 'revision' in the gate baseline")
    return data


@dataclass(frozen=True)
class GateModel:
    """One model the gate times: the entry's name, the network to build, and the timing conditions."""

    name: str
    spec: ModelSpec
    conditions: LatencyConditions = LatencyConditions(threads=1)

    @property
    def plain(self) -> bool:
        """A model a protocol-1 worker (which builds ``make_spec(name)`` at 1 thread, batch 1) times alike."""
        return self.spec == make_spec(self.spec.base) and _sent(self.conditions) == _sent(LatencyConditions(threads=1))


def _sent(conditions: LatencyConditions) -> dict:
    return {f: getattr(conditions, f) for f in CONDITION_FIELDS}


def gate_model(item: GateModel | str) -> GateModel:
    return item if isinstance(item, GateModel) else GateModel(item, make_spec(item))


@dataclass(frozen=True)
class Side:
    """One side of the comparison: the code it imports and the Python (environment) it runs in.

    ``code_dir`` is a project tree (the checkout, or a revision of it extracted); ``cwd`` the folder
    under it the worker runs in (user models import from there; default ``code_dir``). When
    ``code_dir`` has no ``bench/`` (a researcher's own project), both sides use the installed bench.
    """

    code_dir: Path
    python: str | None = None  # None: this interpreter
    cwd: Path | None = None


class GateWorkerError(RuntimeError):
    """A gate worker process that stopped or answered something else than a JSON line; the message is one line
    (its last stderr line, or what it printed). ``reason`` is the message without the worker's name."""

    def __init__(self, python: str, reason: str) -> None:
        super().__init__(f"the gate worker ({python}) {reason}")
        self.reason = reason


class UnusablePythonError(InputError):
    """An interpreter given for a side (``--baseline-python``) that cannot run the gate worker: an input error."""


PYTHON_EXAMPLE = "e.g. /path/to/old/venv/bin/python"


def check_python(python: str, option: str = "--baseline-python") -> None:
    """Refuse, before anything is timed, an interpreter path that cannot be started: none there, a folder, or
    not executable. A bare command name (``python3``) is looked up on PATH, as starting it would."""
    if shutil.which(python) is not None:
        return
    path = Path(python)
    if path.is_dir():
        raise UnusablePythonError(f"{option} {python}: is a directory; give its Python interpreter, {PYTHON_EXAMPLE}")
    if path.exists():
        raise UnusablePythonError(f"{option} {python}: not executable; give a Python interpreter, {PYTHON_EXAMPLE}")
    where = "" if os.sep in python else " (nor a command on PATH)"
    raise UnusablePythonError(f"{option} {python}: no such file{where}; give a Python interpreter, {PYTHON_EXAMPLE}")


def _printed(line: str) -> str:
    """What a process printed, quoted for a one-line message (at most 80 characters)."""
    text = line.strip()
    return repr(text[:80] + ("..." if len(text) > 80 else "")) if text else "an empty line"


class _WorkerProcess:
    """A gate worker importing ``bench`` from the side's tree (or the installed one), pinned to ``cores``."""

    def __init__(self, side: Side, cores: Sequence[int], slowdowns: dict[str, float]) -> None:
        cwd = side.cwd or side.code_dir
        path = [str(side.code_dir), str(cwd), os.environ.get("PYTHONPATH", "")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
        # one core as --core: a baseline from before --cores understands it
        pin = ["--core", str(cores[0])] if len(cores) == 1 else ["--cores", ",".join(map(str, cores))]
        self.python = side.python or sys.executable
        self.module = worker_module(side.code_dir) or installed_worker_module(self.python, env, Path(cwd))
        args = [self.python, "-m", self.module, *pin]
        args += [f"--slowdown={name}={fraction}" for name, fraction in slowdowns.items()]
        # the worker's stderr goes to a file (a pipe nobody reads could fill and stall it); when the
        # worker dies, its last line is the one-line reason
        self.stderr = tempfile.TemporaryFile(mode="w+", errors="replace")  # noqa: SIM115 (closed in close())
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            env=env,
            cwd=cwd,
            bufsize=1,
            preexec_fn=die_with_parent,
        )
        try:
            hello = self.call(op="hello")
            if not isinstance(hello, dict) or "bench" not in hello:
                raise GateWorkerError(self.python, f"printed {_printed(json.dumps(hello))}, not the worker's hello")
        except GateWorkerError as error:
            self.close()
            if side.python is None:
                raise
            raise UnusablePythonError(
                f"{self.python}: not a Python interpreter the gate can use: asked to run the gate worker "
                f"(-m {self.module}), it {error.reason}; give one with torch, timm and bench, {PYTHON_EXAMPLE}"
            ) from None
        self.protocol = int(hello.get("protocol", 1))
        used = Path(hello["bench"]).resolve()
        own = (side.code_dir / "bench").resolve()
        if (side.code_dir / "bench").is_dir() and used != own:
            self.close()
            raise RuntimeError(f"gate worker imported {used}, not {own}")

    def build(self, model: GateModel, label: str) -> None:
        """A fresh, warmed-up instance of ``model`` in the worker; ``label`` names the side in errors."""
        request: dict = {"op": "build", "model": model.name}
        if self.protocol >= 2:
            request |= {"spec": asdict(model.spec), "conditions": _sent(model.conditions)}
        elif not model.plain:
            raise InputError(
                f"{model.name}: the {label}'s gate worker times plain models at 1 thread, batch 1 only; "
                "scaled entries, your own models and latency settings need a newer baseline "
                "(`bench gate --set-baseline HEAD`)"
            )
        reply = self.call(**request)
        if "error" in reply:
            raise InputError(f"{model.name}: the {label} cannot build it ({reply['error']})")

    def time_one(self, threads: int) -> tuple[float, float | None]:
        """One forward's time (ms) and the worker's CPU time / wall time over it (None where unknown). A
        worker before protocol 3 reports no CPU time: then it is read from /proc around the call (Linux)."""
        before, wall = (None if self.protocol >= 3 else _cpu_seconds(self.proc.pid)), time.perf_counter()
        reply = self.call(op="time", count=1)
        wall = time.perf_counter() - wall
        ms = reply["ms"][0]
        if "cpu_ms" in reply:
            return ms, cpu_wall_ratio(reply["cpu_ms"][0] / 1e3, ms / 1e3, threads)
        after = _cpu_seconds(self.proc.pid)
        return ms, None if before is None or after is None else cpu_wall_ratio(after - before, wall, threads)

    def call(self, **request) -> dict:
        assert self.proc.stdin is not None and self.proc.stdout is not None  # opened as pipes above
        with suppress(BrokenPipeError):  # it stopped already: what it printed before is still to be read
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise GateWorkerError(self.python, self._death())
        try:
            return json.loads(line)
        except ValueError:  # not the gate worker answering (an executable that is not Python, a stray print)
            raise GateWorkerError(self.python, f"printed {_printed(line)}, not a JSON line") from None

    def _death(self) -> str:
        """One line on why the worker stopped: its exit status and the last error line it wrote to stderr."""
        try:
            status = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            status = None
        self.stderr.seek(0)
        lines = [line.strip() for line in self.stderr.read().splitlines() if line.strip()]
        errors = [line for line in lines if re.match(r"^[\w.]+(Error|Exception|Interrupt|Exit)\b", line)]
        # a Python traceback's error line (warnings may follow it); else what another program said first
        reason = errors[-1] if errors else lines[0][:160] if lines else "no error message"
        return f"stopped (exit status {status}): {reason}"

    def close(self) -> None:
        if self.proc.poll() is None and self.proc.stdin is not None:
            with suppress(BrokenPipeError):
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:  # not a gate worker, or one that hangs: it does not outlive the gate
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.stderr):
            if stream is not None:
                stream.close()


def _cpu_seconds(pid: int) -> float | None:
    """CPU time of all threads of process ``pid`` so far (Linux /proc schedstat, in ns), None elsewhere."""
    try:
        tasks = Path(f"/proc/{pid}/task")
        return sum(int((task / "schedstat").read_text().split()[0]) for task in tasks.iterdir()) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def timing_cores(threads: int, core: int | None = None) -> list[int]:
    """The cores both workers are pinned to: ``core`` (one thread), else the last ``threads`` this process
    may use (the first core of a machine takes most interrupts)."""
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]
    if core is not None and threads == 1:
        return [core]
    if threads > len(cores):
        raise InputError(f"the latency block asks for {threads} threads; this process may use {len(cores)} cores")
    return cores[-threads:]


def _take_round(baseline: _WorkerProcess, candidate: _WorkerProcess, model: GateModel, pairs: int) -> list[PairReading]:
    """One round: a fresh instance on each side, then ``pairs`` uncontended pairs (A B, B A, ...), contended
    ones re-taken (bench.gate.decision.take_until_clean)."""
    baseline.build(model, "baseline")
    candidate.build(model, "candidate")
    threads = model.conditions.threads or 1

    def pair(attempt: int) -> PairReading:
        first, second = (baseline, candidate) if attempt % 2 == 0 else (candidate, baseline)
        one, two = first.time_one(threads), second.time_one(threads)
        (b, b_cpu_wall), (c, c_cpu_wall) = (one, two) if first is baseline else (two, one)
        return PairReading(b, c, b_cpu_wall, c_cpu_wall)

    return take_until_clean(pair, pairs)


def compare(
    models: Sequence[GateModel | str],
    baseline: Side | Path,
    candidate: Side | Path,
    settings: GateSettings,
    slowdowns: dict[str, float] | None = None,
) -> list[ModelVerdict]:
    """Each model's verdict from paired timings, baseline side vs candidate side (slowdowns apply to the
    candidate). A side is a code directory (a revision of the project) and a Python environment (torch, timm)."""
    chosen = [gate_model(m) for m in models]
    threads = {m.conditions.threads or 1 for m in chosen}
    if len(threads) > 1:
        raise InputError(f"the gate's models must share one thread count, got {sorted(threads)}")
    cores = timing_cores(threads.pop() if threads else 1, settings.core)
    base_side = baseline if isinstance(baseline, Side) else Side(baseline)
    cand_side = candidate if isinstance(candidate, Side) else Side(candidate)
    with ExitStack() as stack:
        base_worker = _WorkerProcess(base_side, cores, {})
        stack.callback(base_worker.close)
        cand_worker = _WorkerProcess(cand_side, cores, slowdowns or {})
        stack.callback(cand_worker.close)
        return [
            settle(
                model.name,
                partial(_take_round, base_worker, cand_worker, model, settings.pairs),
                settings.threshold,
                settings.rounds,
                settings.extra_rounds,
            )
            for model in chosen
        ]


@contextmanager
def baseline_code(revision: str, root: Path, paths: Sequence[str] = ("bench",)) -> Iterator[Path]:
    """A temporary directory holding ``paths`` of the project at ``revision``."""
    with tempfile.TemporaryDirectory(prefix="effbench-gate-") as tmp:
        yield extract(revision, root, list(paths), Path(tmp))


def run_gate(
    models: Sequence[GateModel | str],
    revision: str,
    settings: GateSettings,
    slowdowns: dict[str, float] | None = None,
    root: Path | None = None,
    fallback: bool = False,
    cwd: Path | None = None,
) -> GateReport:
    """Compare ``models`` between ``revision`` and the working tree of the project (the git checkout of
    ``cwd``, default the working directory; ``root`` overrides it): its ``bench/`` if it has one, and the
    packages of its user models. With ``fallback``, a revision missing from the clone is replaced by
    HEAD~1 (see ``baseline_revision``)."""
    cwd = (cwd or Path.cwd()).resolve()
    root = (root or project_root(cwd)).resolve()
    chosen = [gate_model(m) for m in models]
    commit, note = baseline_revision(revision, root) if fallback else (resolve_revision(revision, root), "")
    if note:
        print(f"latency gate: {note}", file=sys.stderr)
    specs = [m.spec for m in chosen]
    paths = (["bench"] if worker_module(root) else []) + user_packages(specs, cwd, root)
    paths += present_at(commit, root, user_helpers(specs, cwd, root))
    if not paths:
        raise InputError(
            f"nothing of the gate's models lives in {root}: with timm models and the installed bench, "
            "both sides would run the same code; compare Python environments with --baseline-python instead"
        )
    inside = cwd.relative_to(root) if cwd.is_relative_to(root) else Path(".")
    with baseline_code(commit, root, paths) as baseline_dir:
        baseline = Side(baseline_dir, cwd=baseline_dir / inside)
        verdicts = compare(chosen, baseline, Side(root, cwd=cwd), settings, slowdowns)
    return GateReport(commit, settings.threshold, settings, verdicts, dict(slowdowns or {}))


def run_environment_gate(
    models: Sequence[GateModel | str],
    baseline_python: str,
    settings: GateSettings,
    slowdowns: dict[str, float] | None = None,
    root: Path | None = None,
    candidate_python: str | None = None,
) -> GateReport:
    """Compare ``models`` between two Python environments running the same ``bench`` code: a torch or timm
    upgrade that slows a model fails the gate as a code change would."""
    root = root or repo_root()
    check_python(baseline_python, "--baseline-python")
    if candidate_python is not None:
        check_python(candidate_python, "--candidate-python")
    cwd = Path.cwd()
    verdicts = compare(models, Side(root, baseline_python, cwd), Side(root, candidate_python, cwd), settings, slowdowns)
    label = f"python {baseline_python}" + (f" vs {candidate_python}" if candidate_python else "")
    return GateReport(label, settings.threshold, settings, verdicts, dict(slowdowns or {}))
