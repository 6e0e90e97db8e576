"""The CI latency gate: the baseline revision and the candidate, timed interleaved in one job.

Absolute times on these machines drift 20-30 % between runs, and the ratio of a model's
time to a fixed calibration workload drifts too (MobileNetV2 / a plain conv stack moved
by 12 % between runs an hour apart: contention slows depthwise, memory-bound layers more
than dense convolutions). What stays put is the ratio of *the same model* to itself. So the
gate extracts the baseline revision's ``bench`` package (``git archive``), starts two
worker processes, one importing the baseline code and one the candidate's, pins both to
the same core, and alternates single forwards between them (A B B A ...). Each pair of
neighbouring forwards sees the same machine state; the median of candidate/baseline over
all pairs is the model's slowdown. Both workers rebuild the model every round, so no
single instance's memory placement decides the result. A model fails when its median
ratio exceeds ``1 + threshold``.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from bench.parallel import die_with_parent

DEFAULT_BASELINE = Path("suites") / "ci_latency.baseline.json"
DEFAULT_THRESHOLD = 0.08


@dataclass(frozen=True)
class GateSettings:
    """How much to measure: ``rounds`` fresh instances per side, ``pairs`` forward pairs each."""

    rounds: int = 4
    pairs: int = 10
    threshold: float = DEFAULT_THRESHOLD
    core: int | None = None  # default: the last core this process may use

    def __post_init__(self) -> None:
        if self.rounds < 1 or self.pairs < 1 or not 0 < self.threshold < 1:
            raise ValueError("need rounds >= 1, pairs >= 1 and 0 < threshold < 1")


@dataclass(frozen=True)
class ModelVerdict:
    """One model's paired comparison."""

    model: str
    baseline_ms: float
    candidate_ms: float
    ratio: float  # median over pairs of candidate / baseline
    ratio_p10: float
    ratio_p90: float
    pairs: int
    regressed: bool


@dataclass(frozen=True)
class GateReport:
    baseline_revision: str
    threshold: float
    settings: GateSettings
    verdicts: list[ModelVerdict] = field(default_factory=list)
    slowdowns: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not any(v.regressed for v in self.verdicts)

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "passed": self.passed}, indent=2)


def repo_root() -> Path:
    """The checkout the running ``bench`` package lives in."""
    return Path(__file__).resolve().parent.parent


def read_baseline(path: Path) -> dict:
    """The baseline file: ``{"revision": <commit>, ...}``."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: cannot read the gate baseline ({error})") from None
    if not isinstance(data.get("revision"), str):
        raise ValueError(f"{path}: no 'revision' in the gate baseline")
    return data


def resolve_revision(revision: str, root: Path) -> str:
    proc = subprocess.run(
        ["git", "rev-parse", "--verify", f"{revision}^{{commit}}"], cwd=root, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise ValueError(f"gate baseline revision {revision!r} is not a commit of {root}")
    return proc.stdout.strip()


def baseline_revision(recorded: str, root: Path) -> tuple[str, str]:
    """The commit to compare with, and a note when it is not the recorded one.

    A clone without the recorded commit (history rewritten on landing, a shallow clone)
    falls back to the candidate's parent commit, so the newest change is still checked.
    """
    try:
        return resolve_revision(recorded, root), ""
    except ValueError:
        parent = resolve_revision("HEAD~1", root)
        return parent, f"recorded baseline {recorded[:12]} is not in this clone; comparing with HEAD~1 ({parent[:12]})"


def extract_package(revision: str, root: Path, dest: Path) -> Path:
    """Write ``bench/`` as it is at ``revision`` under ``dest``; return ``dest``."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision, "bench"], cwd=root, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    if not (dest / "bench" / "gate_worker.py").exists():
        raise ValueError(f"revision {revision[:12]} has no bench/gate_worker.py; choose a newer gate baseline")
    return dest


class _WorkerProcess:
    """A gate worker importing ``bench`` from ``code_dir``, run by ``python`` (default: this interpreter)."""

    def __init__(self, code_dir: Path, core: int, slowdowns: dict[str, float], python: str | None = None) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(code_dir), os.environ.get("PYTHONPATH", "")])}
        args = [python or sys.executable, "-m", "bench.gate_worker", "--core", str(core)]
        args += [f"--slowdown={name}={fraction}" for name, fraction in slowdowns.items()]
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=code_dir,
            bufsize=1,
            preexec_fn=die_with_parent,
        )
        used = Path(self.call(op="hello")["bench"]).resolve()
        if used != (code_dir / "bench").resolve():
            self.close()
            raise RuntimeError(f"gate worker imported {used}, not {code_dir / 'bench'}")

    def call(self, **request) -> dict:
        assert self.proc.stdin is not None and self.proc.stdout is not None  # opened as pipes above
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"gate worker stopped (exit status {self.proc.poll()})")
        return json.loads(line)

    def close(self) -> None:
        if self.proc.poll() is None and self.proc.stdin is not None:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)


def _default_core() -> int:
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]
    return cores[-1]


def _paired_ratios(baseline: _WorkerProcess, candidate: _WorkerProcess, model: str, settings: GateSettings):
    base_ms, cand_ms, ratios = [], [], []
    for _ in range(settings.rounds):
        baseline.call(op="build", model=model)
        candidate.call(op="build", model=model)
        for i in range(settings.pairs):
            first, second = (baseline, candidate) if i % 2 == 0 else (candidate, baseline)
            t_first = first.call(op="time", count=1)["ms"][0]
            t_second = second.call(op="time", count=1)["ms"][0]
            b, c = (t_first, t_second) if first is baseline else (t_second, t_first)
            base_ms.append(b)
            cand_ms.append(c)
            ratios.append(c / b)
    return base_ms, cand_ms, ratios


@dataclass(frozen=True)
class Side:
    """One side of the comparison: the ``bench`` code it imports and the Python (environment) it runs in."""

    code_dir: Path
    python: str | None = None  # None: this interpreter


def compare(
    models: list[str],
    baseline: Side | Path,
    candidate: Side | Path,
    settings: GateSettings,
    slowdowns: dict[str, float] | None = None,
) -> list[ModelVerdict]:
    """Paired timings of each model, baseline side vs candidate side (slowdowns apply to the candidate).
    A side is a code directory (a revision of ``bench``) and a Python environment (torch, timm)."""
    core = settings.core if settings.core is not None else _default_core()
    base_side = baseline if isinstance(baseline, Side) else Side(baseline)
    cand_side = candidate if isinstance(candidate, Side) else Side(candidate)
    with ExitStack() as stack:
        base_worker = _WorkerProcess(base_side.code_dir, core, {}, base_side.python)
        stack.callback(base_worker.close)
        cand_worker = _WorkerProcess(cand_side.code_dir, core, slowdowns or {}, cand_side.python)
        stack.callback(cand_worker.close)
        verdicts = []
        for model in models:
            base_ms, cand_ms, ratios = _paired_ratios(base_worker, cand_worker, model, settings)
            ratio = float(np.median(ratios))
            verdicts.append(
                ModelVerdict(
                    model=model,
                    baseline_ms=float(np.median(base_ms)),
                    candidate_ms=float(np.median(cand_ms)),
                    ratio=ratio,
                    ratio_p10=float(np.percentile(ratios, 10)),
                    ratio_p90=float(np.percentile(ratios, 90)),
                    pairs=len(ratios),
                    regressed=ratio > 1.0 + settings.threshold,
                )
            )
    return verdicts


@contextmanager
def baseline_code(revision: str, root: Path) -> Iterator[Path]:
    """A temporary directory holding ``bench/`` at ``revision``."""
    with tempfile.TemporaryDirectory(prefix="effbench-gate-") as tmp:
        yield extract_package(revision, root, Path(tmp))


def run_gate(
    models: list[str],
    revision: str,
    settings: GateSettings,
    slowdowns: dict[str, float] | None = None,
    root: Path | None = None,
    fallback: bool = False,
) -> GateReport:
    """Compare ``models`` between ``revision`` and the working tree's ``bench``.

    With ``fallback``, a revision missing from the clone is replaced by HEAD~1 (see ``baseline_revision``).
    """
    root = root or repo_root()
    commit, note = baseline_revision(revision, root) if fallback else (resolve_revision(revision, root), "")
    if note:
        print(f"latency gate: {note}", file=sys.stderr)
    with baseline_code(commit, root) as baseline_dir:
        verdicts = compare(models, baseline_dir, root, settings, slowdowns)
    return GateReport(commit, settings.threshold, settings, verdicts, dict(slowdowns or {}))


def run_environment_gate(
    models: list[str],
    baseline_python: str,
    settings: GateSettings,
    slowdowns: dict[str, float] | None = None,
    root: Path | None = None,
    candidate_python: str | None = None,
) -> GateReport:
    """Compare ``models`` between two Python environments running the same ``bench`` code: a torch or timm
    upgrade that slows a model fails the gate as a code change would."""
    root = root or repo_root()
    for python in (baseline_python, candidate_python):
        if python is not None and not (Path(python).is_file() and os.access(python, os.X_OK)):
            raise ValueError(f"{python}: not an executable Python (give e.g. /path/to/old/venv/bin/python)")
    verdicts = compare(models, Side(root, baseline_python), Side(root, candidate_python), settings, slowdowns)
    label = f"python {baseline_python}" + (f" vs {candidate_python}" if candidate_python else "")
    return GateReport(label, settings.threshold, settings, verdicts, dict(slowdowns or {}))


def format_report(report: GateReport) -> str:
    baseline = (
        report.baseline_revision if report.baseline_revision.startswith("python ") else report.baseline_revision[:12]
    )
    lines = [
        f"latency gate: candidate vs baseline {baseline} "
        f"(fail above +{report.threshold:.0%}; median of {report.verdicts[0].pairs if report.verdicts else 0} "
        f"interleaved pairs, 1 thread, same core)"
    ]
    for v in report.verdicts:
        lines.append(
            f"  {v.model:<22} baseline {v.baseline_ms:8.2f} ms  candidate {v.candidate_ms:8.2f} ms  "
            f"ratio {v.ratio:.3f} [p10 {v.ratio_p10:.3f}, p90 {v.ratio_p90:.3f}]  "
            f"{'REGRESSED' if v.regressed else 'ok'}"
        )
    lines.append("latency gate: " + ("passed" if report.passed else "FAILED"))
    return "\n".join(lines)
