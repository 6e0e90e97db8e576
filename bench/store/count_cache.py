"""A persistent memo of exact counts, keyed by workload key and the versions that built the net.

Counts are pure functions of (architecture, input, torch and timm versions), so once
counted they never need counting again: the solver and repeated suite runs read them
from here. The file is JSON, rewritten atomically; a missing or unreadable file is an
empty cache, never an error.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

from bench.errors import InputError
from bench.measure.complexity import Complexity, count_complexity
from bench.models.registry import workload_key
from bench.specs import ModelSpec
from bench.store.atomic import atomic_write, locked


def _versions() -> str:
    import timm
    import torch

    return f"torch-{torch.__version__}/timm-{timm.__version__}"


def _entry(value: object) -> Complexity | None:
    """A cached count, or None where it is not params, MACs and activations as whole numbers >= 0 (a file edited
    or damaged by hand): such an entry is counted again, never stored into a row or handed to the solver."""
    fields = ("params", "macs", "activations")
    if not isinstance(value, dict) or set(value) != set(fields):
        return None
    numbers = [value[f] for f in fields]
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in numbers):
        return None
    return Complexity(*numbers)


class ComplexityCache:
    """Counts keyed by workload key; ``path=None`` keeps them in memory only."""

    def __init__(self, path: Path | None = None) -> None:
        if path is not None and path.is_dir():  # found now, not after every network is counted and stored
            raise InputError(f"{path}: is a directory; give a cache file such as {path / 'complexity-cache.json'}")
        self.path = path
        self._versions = _versions()
        self._entries: dict[str, Complexity] = self._load()
        self._dirty = False

    def _load(self) -> dict[str, Complexity]:
        """The cached counts of these versions; an unreadable cache is said once and recounted (a count is
        exact, so recounting is always safe), and its file is replaced at the next save."""
        if self.path is None or not self.path.exists():
            return {}
        try:
            raw = json.loads(self.path.read_text())
            found = raw.get(self._versions, {})
            entries = {key: _entry(value) for key, value in found.items()}
        except (OSError, ValueError, TypeError, AttributeError) as error:
            print(
                f"warning: {self.path}: unreadable count cache ({type(error).__name__}); counting afresh",
                file=sys.stderr,
            )
            return {}
        bad = [key for key, value in entries.items() if value is None]
        if bad:
            print(
                f"warning: {self.path}: {len(bad)} count entr{'y' if len(bad) == 1 else 'ies'} not three whole "
                f"numbers >= 0 (e.g. {bad[0]}: {json.dumps(found[bad[0]])}); counting those afresh",
                file=sys.stderr,
            )
        return {key: value for key, value in entries.items() if value is not None}

    @property
    def versions(self) -> str:
        """The torch and timm versions its counts hold for (``torch-X/timm-Y``)."""
        return self._versions

    def key(self, spec: ModelSpec) -> str:
        return workload_key(spec)

    def get(self, spec: ModelSpec) -> Complexity | None:
        return self._entries.get(self.key(spec))

    def put(self, spec: ModelSpec, complexity: Complexity) -> None:
        self._entries[self.key(spec)] = complexity
        self._dirty = True

    def count(self, spec: ModelSpec) -> Complexity:
        """Cached counts of ``spec``, counting (and remembering) it on a miss."""
        found = self.get(spec)
        if found is None:
            found = count_complexity(spec)
            self.put(spec, found)
        return found

    def macs(self, spec: ModelSpec) -> int:
        return self.count(spec).macs

    def entries(self) -> dict[str, Complexity]:
        """A copy of every (workload key -> counts) entry, to ship between processes."""
        return dict(self._entries)

    def merge(self, entries: dict[str, Complexity]) -> None:
        """Add entries counted elsewhere (a worker process's cache)."""
        fresh = {key: value for key, value in entries.items() if key not in self._entries}
        if fresh:
            self._entries.update(fresh)
            self._dirty = True

    def save(self) -> None:
        """Write the cache atomically (other versions' entries in the file are kept)."""
        if self.path is None or not self._dirty:
            return
        path = self.path
        with locked(path):  # runs sharing the cache add to it, none loses another's keys
            try:
                existing = json.loads(path.read_text()) if path.exists() else {}
                if not isinstance(existing, dict):
                    existing = {}
            except (OSError, ValueError):
                existing = {}
            mine = {key: asdict(value) for key, value in self._entries.items()}
            found = existing.get(self._versions)
            theirs: dict = found if isinstance(found, dict) else {}
            existing[self._versions] = dict(sorted({**theirs, **mine}.items()))
            atomic_write(path, lambda tmp: tmp.write_text(json.dumps(existing, indent=0)))
        self._dirty = False
