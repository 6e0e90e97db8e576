"""Where each side of the latency gate gets its code: a git revision of the project, extracted.

The project is the git checkout the gate runs in (``git rev-parse --show-toplevel`` of the working
directory): effbench's own repository, or a researcher's repository with models of its own. At the
baseline revision the gate extracts ``bench/`` (when the project holds it), the top-level package
of each user model (``mylab`` for ``mylab.nets:tiny``) and the other top-level packages or modules of
the project its code imports (those that existed then), laid out as in the checkout, so the baseline
worker imports the baseline's code for all of them. Outside git there is no baseline revision: the messages
say so and point to stored timings (bench.gate.timings).
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

from bench.errors import InputError
from bench.specs import ModelSpec

NO_GIT_HINT = (
    "outside git, record timings once with `bench gate --save-timings FILE` and compare later runs "
    "with `bench gate --timings FILE`"
)


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=False)
    except FileNotFoundError:
        raise InputError(f"the gate needs git to read the baseline revision; {NO_GIT_HINT}") from None


def project_root(cwd: Path) -> Path:
    """The git checkout holding ``cwd``; a ValueError saying what to do when there is none."""
    proc = _git(["rev-parse", "--show-toplevel"], cwd)
    if proc.returncode != 0:
        raise InputError(f"{cwd} is not inside a git checkout, so there is no baseline revision; {NO_GIT_HINT}")
    return Path(proc.stdout.decode().strip()).resolve()


def resolve_revision(revision: str, root: Path) -> str:
    proc = _git(["rev-parse", "--verify", f"{revision}^{{commit}}"], root)
    if proc.returncode != 0:
        raise InputError(f"gate baseline revision {revision!r} is not a commit of {root}")
    return proc.stdout.decode().strip()


def baseline_revision(recorded: str, root: Path) -> tuple[str, str]:
    """The commit to compare with, and a note when it is not the recorded one.

    A clone without the recorded commit (history rewritten on landing, a shallow clone) falls back to
    the candidate's parent commit, so the newest change is still checked; a repository with a single
    commit has no parent, and says so.
    """
    try:
        return resolve_revision(recorded, root), ""
    except ValueError:
        try:
            parent = resolve_revision("HEAD~1", root)
        except ValueError:
            raise InputError(
                f"recorded baseline {recorded[:12]} is not in {root}, and HEAD has no parent to compare with; "
                "refresh it with `bench gate --set-baseline HEAD`, or give --against REVISION"
            ) from None
        return parent, f"recorded baseline {recorded[:12]} is not in this clone; comparing with HEAD~1 ({parent[:12]})"


def user_packages(specs: list[ModelSpec], cwd: Path, root: Path) -> list[str]:
    """The project paths (relative to ``root``) of the top-level packages or modules of the user models
    among ``specs``, as imported from ``cwd``."""
    paths = []
    for spec in specs:
        if spec.family != "user":
            continue
        top = spec.base.split(":")[0].split(".")[0]
        for candidate in (cwd / top, cwd / f"{top}.py"):
            if candidate.exists():
                try:
                    paths.append(str(candidate.resolve().relative_to(root)))
                except ValueError:
                    raise InputError(
                        f"{spec.base}: {candidate} is outside the git checkout {root}, so its baseline cannot be read"
                    ) from None
                break
        else:
            raise InputError(f"{spec.base}: no {top}/ or {top}.py in {cwd} to read at the baseline revision")
    return sorted(set(paths))


def user_helpers(specs: list[ModelSpec], cwd: Path, root: Path) -> list[str]:
    """The other top-level packages or modules of the project that the user models' code imports (the
    files its source digest covers, bench.models.user.local_sources), relative to ``root``."""
    from bench.models.user import UserModelError, local_sources, resolve

    own = set(user_packages(specs, cwd, root))
    helpers = set()
    for spec in specs:
        if spec.family != "user":
            continue
        module = spec.base.split(":")[0]
        try:
            path = resolve(spec.base).path
        except UserModelError:
            continue  # not importable from here: its own package is still extracted
        for file in local_sources(path, module):
            inside = file.absolute().relative_to(cwd) if file.absolute().is_relative_to(cwd) else None
            if inside is None:
                continue
            top = (cwd / inside.parts[0]).resolve()
            if top.is_relative_to(root):
                helpers.add(str(top.relative_to(root)))
    return sorted(helpers - own)


def present_at(revision: str, root: Path, paths: list[str]) -> list[str]:
    """Those of ``paths`` that exist at ``revision`` (a helper added since then is not part of it)."""
    return [path for path in paths if _git(["cat-file", "-e", f"{revision}:{path}"], root).returncode == 0]


#: The gate worker's module in each layout: a package since the re-layout, a top-level module before it
#: (a baseline revision may be either).
WORKER_MODULES = {"bench/gate/worker.py": "bench.gate.worker", "bench/gate_worker.py": "bench.gate_worker"}


def worker_module(tree: Path) -> str | None:
    """The module ``python -m`` runs as the gate worker of the ``bench`` under ``tree``, if it has one."""
    return next((module for path, module in WORKER_MODULES.items() if (tree / path).is_file()), None)


def installed_worker_module(python: str, env: dict[str, str], cwd: Path) -> str:
    """The gate worker's module in the ``bench`` that ``python`` imports (an installed one, either layout)."""
    code = (
        "import importlib.util as u\n"
        "try:\n    found = u.find_spec('bench.gate.worker') is not None\n"
        "except ImportError:\n    found = False\n"
        "print('bench.gate.worker' if found else 'bench.gate_worker')"
    )
    try:
        proc = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env, cwd=cwd, timeout=60)
    except OSError:
        return WORKER_MODULES["bench/gate/worker.py"]  # starting the worker says what is wrong, in one line
    answer = proc.stdout.strip()
    return answer if answer in WORKER_MODULES.values() else WORKER_MODULES["bench/gate/worker.py"]


def extract(revision: str, root: Path, paths: list[str], dest: Path) -> Path:
    """Write ``paths`` (folders or files of the project) as they are at ``revision`` under ``dest``."""
    proc = _git(["archive", "--format=tar", revision, "--", *paths], root)
    if proc.returncode != 0:
        message = proc.stderr.decode(errors="replace").strip().splitlines()
        raise InputError(
            f"revision {revision[:12]} lacks {', '.join(paths)} ({message[-1] if message else 'git archive failed'})"
        )
    with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
        tar.extractall(dest, filter="data")
    if "bench" in paths and worker_module(dest) is None:
        raise InputError(f"revision {revision[:12]} has no gate worker; choose a newer gate baseline")
    return dest


def extract_package(revision: str, root: Path, dest: Path) -> Path:
    """``bench/`` as it is at ``revision``, under ``dest``."""
    return extract(revision, root, ["bench"], dest)
