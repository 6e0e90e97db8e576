"""The conditions every row carries: versions, machine, threads, commit, time.

Measured numbers are meaningless without them (pyperf's rule): rows from different machines
or versions must never be mixed by accident, so each row records where it came from.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import platform
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path

ENVIRONMENT_COLUMNS = (
    "effbench_version",
    "python",
    "torch",
    "timm",
    "platform",
    "cpu",
    "cpu_count",
    "gpu",
    "torch_threads",
    "git_commit",
    "hostname",
    "timestamp",
)


@lru_cache(maxsize=1)
def cpu_name() -> str:
    """The CPU model name (from /proc/cpuinfo on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_commit(directory: Path | None = None) -> str:
    """Short commit of the checkout the code runs from, '+dirty' if it has local changes; '' outside git."""
    cwd = directory or Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return f"{commit}+dirty" if dirty else commit


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return ""


def now() -> str:
    """The current UTC time as a row stores it."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def machine_fingerprint(env: dict[str, object]) -> str:
    """A short id of the hardware a measured row came from: CPU model, core count and GPU.

    It is part of a measured row's identity, so stores from several machines merge side by side. The
    thread count is not in it: a latency row's threads are in its workload key, a training row's in
    its ``threads`` column."""
    text = f"{env.get('cpu', '')}|{env.get('cpu_count', '')}|{env.get('gpu', '')}"
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def environment() -> dict[str, object]:
    """The current conditions, one value per ``ENVIRONMENT_COLUMNS`` entry."""
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else ""
    return {
        "effbench_version": _version("effbench"),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "timm": _version("timm"),
        "platform": platform.platform(),
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "gpu": gpu,
        "torch_threads": torch.get_num_threads(),  # the process default; a latency row's own is `threads`
        "git_commit": git_commit(),
        "hostname": platform.node(),
        "timestamp": now(),
    }
