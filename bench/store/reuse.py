"""Training rows one suite takes from another.

A training row's workload key hashes the network, its input, the budget and the seeds, so two entries
with one key are one measurement. When the store already holds such a row under another suite or
entry, ``bench run`` copies its training columns (and the conditions it was trained under) instead of
training again, and names the row it copied in ``reused_from``. This matters where the checkpoints
that would otherwise be shared are gone: they are large, stay on the machine that trained, and a
suite's rows travel without them.

An entry keeps at most one copy: a copy is written again when its source changed (retrained), and
goes when the entry is trained itself (``--force``).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from bench.accuracy import MEASURED
from bench.measure.environment import ENVIRONMENT_COLUMNS
from bench.store.results import ACCURACY_COLUMNS

#: What a reusing row takes from the row it reuses: the training's outcome and where it ran.
TRAINED_COLUMNS = (*ACCURACY_COLUMNS, *ENVIRONMENT_COLUMNS, "machine", "device", "threads")
#: What tells one training's outcome from another's: a copy whose source still has these is current.
_SAME_TRAINING = ("reused_from", "timestamp", "top1_per_seed", "machine")


def is_copy(row: dict) -> bool:
    origin = row.get("reused_from")
    return isinstance(origin, str) and bool(origin)


def finished_trainings(frame: pd.DataFrame) -> dict[str, list[dict]]:
    """The measured training rows of a results table, by workload key: original trainings first, newest
    first (by timestamp, then by place in the file), then copies."""
    needed = {"measurement", "accuracy_source", "top1", "workload_key"}
    if frame.empty or not needed <= set(frame.columns):
        return {}
    rows = frame[(frame["measurement"] == "accuracy") & (frame["accuracy_source"] == MEASURED) & frame["top1"].notna()]
    found: dict[str, list[dict]] = {}
    for row in reversed(rows.to_dict("records")):  # a later row of the file was written later: first on ties
        found.setdefault(str(row["workload_key"]), []).append(row)
    for candidates in found.values():
        candidates.sort(key=lambda r: _text(r.get("timestamp")), reverse=True)
        candidates.sort(key=is_copy)  # stable: originals first, each group newest first
    return found


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def reusable(found: dict[str, list[dict]], key: str, suite: str, entry: str) -> dict | None:
    """A stored training row with this key under another suite or entry. Not the entry's own row, nor a
    copy of it: a row trained on another machine is not a reason to skip training it here."""
    own = f"{suite}/{entry}"
    sources = (r for r in found.get(key, []) if own not in (f"{r['suite']}/{r['entry']}", r.get("reused_from")))
    return next(sources, None)


def reused_columns(source: dict) -> dict:
    """The columns a row takes from ``source``, and ``reused_from``: the suite/entry that trained it
    (followed through a row that is itself a copy)."""
    columns = {c: source[c] for c in TRAINED_COLUMNS if c in source and c != "reused_from"}
    columns["reused_from"] = source["reused_from"] if is_copy(source) else f"{source['suite']}/{source['entry']}"
    return columns


def copy_is_current(found: dict[str, list[dict]], key: str, suite: str, entry: str, columns: dict) -> bool:
    """Whether the store already holds this entry's copy of the training ``columns`` describe."""
    copies = (r for r in found.get(key, []) if (r["suite"], r["entry"]) == (suite, entry) and is_copy(r))
    return any(all(r.get(c) == columns.get(c) for c in _SAME_TRAINING) for r in copies)


def superseded_copies(rows: list[dict]) -> Callable[[dict], bool]:
    """Whether a stored row is a copy for an entry that ``rows`` write again (copied anew or trained)."""

    def entry(row: dict) -> tuple:
        return (row["suite"], row["entry"], row["measurement"], str(row["workload_key"]))

    written = {entry(r) for r in rows}
    return lambda old: is_copy(old) and entry(old) in written
