"""Where the shipped suites (``suites/``) and measured rows (``reports/measured/``) are.

In a clone they are the repository's own folders; an installed wheel carries copies as package
data under ``bench/_shipped/`` (setup.py copies them in at build time), read through
``importlib.resources``. Either way a command finds them from any working directory.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_CLONE = Path(__file__).resolve().parent.parent
#: Folder of the shipped copies inside the installed package, and where each comes from in a clone.
PACKAGED = "_shipped"
SOURCES = {"suites": Path("suites"), "measured": Path("reports") / "measured"}


def shipped_dir(kind: str) -> Path:
    """The folder of shipped ``suites`` or ``measured`` rows: the wheel's package data, else the clone's."""
    packaged = resources.files("bench").joinpath(PACKAGED, kind)
    if packaged.is_dir():
        return Path(str(packaged))
    return _CLONE / SOURCES[kind]


def shipped_path(path: Path) -> Path | None:
    """``suites/NAME`` or ``reports/measured/NAME`` (relative, as a clone names them) in the shipped folders,
    where it exists; None otherwise."""
    for kind, source in SOURCES.items():
        if path.parts[: len(source.parts)] == source.parts:
            candidate = shipped_dir(kind).joinpath(*path.parts[len(source.parts) :])
            return candidate if candidate.exists() else None
    return None


SUITES = shipped_dir("suites")
MEASURED = shipped_dir("measured")
