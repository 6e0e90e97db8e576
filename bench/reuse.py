"""Training rows one suite takes from another.

A training row's workload key hashes the network, its input, the budget and the seeds, so two entries
with one key are one measurement. When the store already holds such a row under another suite or
entry, ``bench run`` copies its training columns (and the conditions it was trained under) instead of
training again, and names the row it copied in ``reused_from``. This matters where the checkpoints
that would otherwise be shared are gone: they are large, stay on the machine that trained, and a
suite's rows travel without them.
"""

from __future__ import annotations

import pandas as pd

from bench.accuracy import MEASURED
from bench.environment import ENVIRONMENT_COLUMNS
from bench.results import ACCURACY_COLUMNS

#: What a reusing row takes from the row it reuses: the training's outcome and where it ran.
TRAINED_COLUMNS = (*ACCURACY_COLUMNS, *ENVIRONMENT_COLUMNS, "machine", "device", "threads")


def finished_trainings(frame: pd.DataFrame) -> dict[str, list[dict]]:
    """The measured training rows of a results table, by workload key; rows that are themselves copies
    come after the rows they copy."""
    needed = {"measurement", "accuracy_source", "top1", "workload_key"}
    if frame.empty or not needed <= set(frame.columns):
        return {}
    rows = frame[(frame["measurement"] == "accuracy") & (frame["accuracy_source"] == MEASURED) & frame["top1"].notna()]
    found: dict[str, list[dict]] = {}
    for row in rows.to_dict("records"):
        found.setdefault(str(row["workload_key"]), []).append(row)
    for candidates in found.values():
        candidates.sort(key=lambda r: isinstance(r.get("reused_from"), str) and bool(r["reused_from"]))
    return found


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
    origin = source.get("reused_from")
    columns["reused_from"] = origin if isinstance(origin, str) and origin else f"{source['suite']}/{source['entry']}"
    return columns
