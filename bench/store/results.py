"""The results store: one tidy row per (suite, entry, measurement, workload), written atomically.

This module is the only writer of results. A store is a single CSV file (default) or a
Parquet file (``.parquet``, needs pyarrow); ``pandas.read_csv`` / ``read_parquet`` reads
it in one call. Every write takes an exclusive lock, reads the table, merges the new rows
and atomically replaces the file, so concurrent runs never lose or tear rows. A row is
"done" when a row with the same identity exists; reruns skip it unless forced, and a
forced row replaces the old one.
"""

from __future__ import annotations

import csv
import io
import json
import numbers
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bench.errors import InputError
from bench.measure.environment import ENVIRONMENT_COLUMNS
from bench.store.atomic import atomic_write, locked

#: A row's identity. ``machine`` is the hardware fingerprint of a measured row (latency, throughput,
#: training) and empty for exact counts, which are the same on every machine.
IDENTITY_COLUMNS = ("suite", "entry", "measurement", "workload_key", "machine")
SPEC_COLUMNS = (
    "model",
    "base",
    "family",
    "method",
    "width",
    "depth",
    "resolution",
    "phi",
    "input_size",
    "total_stride",
    "in_chans",
    "num_classes",
    "model_source",
)
COMPLEXITY_COLUMNS = ("params", "macs", "activations", "counter")
MATCH_COLUMNS = ("target_macs", "match_of", "paper_ref")
LATENCY_COLUMNS = (
    "device",
    "precision",
    "memory_format",
    "compile",
    "threads",
    "batch_size",
    "batch_requested",
    "warmup_iterations",
    "iterations",
    "latency_ms_p50",
    "latency_ms_p90",
    "latency_ms_p99",
    "latency_ms_mean",
    "latency_ms_std",
    "latency_cv",
    "throughput_ips",
    "peak_memory_mb",
    "cpu_core",
    "cpu_wall_ratio",
)
ACCURACY_COLUMNS = (
    "accuracy_source",
    "dataset",
    "top1",
    "top1_std",
    "top1_per_seed",
    "top5",
    "top5_std",
    "val_images",
    "val_top1",
    "val_top1_std",
    "val_top1_per_seed",
    "train_loss",
    "seeds",
    "n_seeds",
    "upsampled",
    "epochs",
    "budget",
    "train_seconds",
    "train_images_per_s",
    "train_jobs",
    "train_processes",
    "eval_images",
    "checkpoint",
    "reused_from",
)
COLUMNS = (
    IDENTITY_COLUMNS
    + SPEC_COLUMNS
    + COMPLEXITY_COLUMNS
    + MATCH_COLUMNS
    + LATENCY_COLUMNS
    + ACCURACY_COLUMNS
    + ENVIRONMENT_COLUMNS
)
DEFAULT_RESULTS = Path("reports") / "results.csv"
#: Columns that hold whole numbers: written to CSV as such ("8", not "8.0") even where a column also has empty
#: cells, which make pandas read it as floats.
INTEGER_COLUMNS = (
    "input_size",
    "total_stride",
    "in_chans",
    "num_classes",
    "params",
    "macs",
    "activations",
    "threads",
    "batch_size",
    "batch_requested",
    "warmup_iterations",
    "iterations",
    "cpu_core",
    "val_images",
    "n_seeds",
    "train_jobs",
    "train_processes",
    "eval_images",
)


class ResultsFormatError(InputError):
    """A results path whose format cannot be read or written here."""


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".parquet", ".pq"):
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ResultsFormatError(f"{path}: Parquet needs pyarrow (pip install 'effbench[parquet]')") from None
        return "parquet"
    raise ResultsFormatError(f"{path}: results must be a .csv or .parquet file")


#: Columns read from CSV as text whatever they look like: a hex machine fingerprint, key or commit that
#: happens to be all digits (or "1e5...") is not a number, and a single seed is not an integer.
TEXT_COLUMNS = (
    *IDENTITY_COLUMNS,
    "match_of",
    "paper_ref",
    "seeds",
    "top1_per_seed",
    "val_top1_per_seed",
    "reused_from",
    "git_commit",
)

#: The columns without which a file is not a results store (``machine`` came later: it may be absent).
REQUIRED_COLUMNS = ("suite", "entry", "measurement", "workload_key")


def concat_tables(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """The rows of every table, in order; an empty table (``COLUMNS``) when none has a row."""
    full = [frame for frame in frames if not frame.empty]
    return pd.concat(full, ignore_index=True) if full else pd.DataFrame(columns=list(COLUMNS))


def read_results(path: Path) -> pd.DataFrame:
    """The whole table (columns in ``COLUMNS`` order first); an absent file is an empty table.

    A file that does not parse completely, that is not a results store (a user's own CSV), or that
    has a row without its identity (a write cut short) is a ResultsFormatError naming the file and
    the line: never a shorter table that the next write would make permanent."""
    fmt = _format(path)
    if path.is_dir():
        raise ResultsFormatError(f"{path}: is a directory; give a results file such as {path / 'results.csv'}")
    if not path.exists():
        return pd.DataFrame(columns=list(COLUMNS))
    frame = _parse(path, fmt)
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ResultsFormatError(f"{path}: not a results store (no {', '.join(missing)} column); it is left untouched")
    broken = frame[list(REQUIRED_COLUMNS)].isna().any(axis=1)
    if broken.any():
        line = int(broken.to_numpy().argmax()) + 2  # the header is line 1
        raise ResultsFormatError(
            f"{path}: line {line}: a row without its identity (a write cut short?); remove that line to go on"
        )
    extra = [c for c in frame.columns if c not in COLUMNS]
    return frame.reindex(columns=list(COLUMNS) + extra)


def _parse(path: Path, fmt: str) -> pd.DataFrame:
    try:
        if fmt == "parquet":
            return pd.read_parquet(path)
        data = path.read_bytes()
        if b"\x00" in data:
            raise ResultsFormatError(f"{path}: not a readable results store (binary data, not CSV)")
        if data and not data.endswith(b"\n"):
            lines = data.count(b"\n") + 1
            raise ResultsFormatError(
                f"{path}: line {lines}: the last row is cut short (no line end); remove that line to go on"
            )
        _check_fields(path, data)
        return pd.read_csv(path, keep_default_na=True, dtype={c: str for c in TEXT_COLUMNS})
    except pd.errors.EmptyDataError:
        raise ResultsFormatError(f"{path}: empty file, not a results store; delete it to start a new one") from None
    except (pd.errors.ParserError, csv.Error, UnicodeDecodeError, ValueError, OSError) as error:
        if isinstance(error, ResultsFormatError):
            raise
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ResultsFormatError(f"{path}: not a readable results store ({detail})") from None


def _check_fields(path: Path, data: bytes) -> None:
    """Every row has as many fields as the header (the writer writes them all): a shorter one is a write cut
    short, even where it ends in a line end, and pandas would read it as a row with empty measurements."""
    reader = csv.reader(io.StringIO(data.decode("utf-8")))
    header = next(reader, None)
    if header is None:
        return
    for record in reader:
        if record and len(record) != len(header):
            raise ResultsFormatError(
                f"{path}: line {reader.line_num}: the row is cut short ({len(record)} of {len(header)} fields); "
                "remove that line to go on"
            )


def check_writable(path: Path) -> None:
    """ResultsFormatError now, before any work, if ``path`` could not be written at the end."""
    _format(path)
    if path.is_dir():
        raise ResultsFormatError(f"{path}: is a directory; give a results file such as {path / 'results.csv'}")
    folder = next((p for p in [path.parent, *path.parent.parents] if p.exists()), Path("."))
    if path.exists() and (not os.access(path, os.W_OK) or not path.stat().st_mode & 0o222):
        # the mode bits too: root may write anywhere, but a file made read-only was made so on purpose
        raise ResultsFormatError(f"{path}: is read-only (chmod u+w to add rows to it); nothing was measured")
    if not os.access(folder, os.W_OK):
        raise ResultsFormatError(f"{path}: cannot write in {folder}; nothing was measured")


def whole_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its INTEGER_COLUMNS as nullable integers where every value in them is whole (a column
    with a fractional value, from an older or foreign store, is left as it is)."""
    out = frame.copy()
    for column in INTEGER_COLUMNS:
        if column not in out.columns or pd.api.types.is_integer_dtype(out[column]):
            continue
        values = out[column].dropna()  # None and NaN alike (rows given with None make the column object)
        real = all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in values)
        if real and all(float(v).is_integer() for v in values):
            out[column] = pd.array([None if pd.isna(v) else int(v) for v in out[column]], dtype="Int64")
    return out


def _write(frame: pd.DataFrame, path: Path) -> None:
    if _format(path) == "csv":  # (Parquet keeps its column types: pandas reads them back as written)
        text = whole_numbers(frame)
        atomic_write(path, lambda tmp: text.to_csv(tmp, index=False))
    else:
        atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))


def _key_part(value: object) -> str:
    """An identity field as text; missing values (None, NaN, '') are all the empty string."""
    return "" if value is None or value != value or value == "" else str(value)


def identity(row: dict) -> tuple:
    return tuple(_key_part(row.get(c)) for c in IDENTITY_COLUMNS)


def identities(frame: pd.DataFrame) -> set[tuple]:
    """Identities of a results table's rows."""
    return {tuple(map(_key_part, values)) for values in frame[list(IDENTITY_COLUMNS)].itertuples(index=False)}


def append_rows(
    path: Path,
    rows: Iterable[dict],
    *,
    replaces: Callable[[dict], bool] | None = None,
    skip_stored: bool = False,
) -> int:
    """Merge ``rows`` into the store atomically; a row replaces any old row of the same identity, and
    any old row for which ``replaces`` is true. With ``skip_stored``, a row whose identity the store
    holds by the time the lock is taken (another process wrote it meanwhile) is left out instead.

    Returns the number of rows written.
    """
    new = pd.DataFrame(list(rows))
    if new.empty:
        return 0
    missing = [c for c in IDENTITY_COLUMNS if c not in new.columns and c != "machine"]
    if missing:
        raise ValueError(f"rows lack identity columns {missing}")
    with locked(path):
        old = read_results(path)
        if skip_stored and not old.empty:
            stored = identities(old)
            new = new[[identity(r) not in stored for r in new.to_dict("records")]]
            if new.empty:
                return 0
        if not old.empty:
            new_ids = {identity(r) for r in new.to_dict("records")}
            dropped = replaces or (lambda _: False)
            keep = [identity(r) not in new_ids and not dropped(r) for r in old.to_dict("records")]
            old = old[keep]
        merged = concat_tables((old, new))
        extra = [c for c in merged.columns if c not in COLUMNS]
        _write(merged.reindex(columns=list(COLUMNS) + extra), path)
    return len(new)


def budget_family(budget: object) -> object:
    """A stored budget less its epoch count: the points of one learning curve share a family."""
    if not isinstance(budget, str):
        return budget
    try:
        fields = json.loads(budget)
    except ValueError:
        return budget
    if not isinstance(fields, dict):
        return budget
    fields.pop("epochs", None)
    return json.dumps(fields, sort_keys=True)


def newest_budget(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` less those of a superseded training budget: per suite, rows with a budget keep only the
    budget family (the budget less its epochs, so a learning curve's points stay together) of that
    suite's most recent such row; rows without a budget (counts, latency) all stay."""
    if rows.empty or "budget" not in rows.columns:
        return rows
    trained = rows["budget"].notna()
    ordered = rows[trained].sort_values("timestamp", kind="stable")
    newest = ordered["budget"].map(budget_family).groupby(ordered["suite"]).last()
    keep = ~trained | (rows["budget"].map(budget_family) == rows["suite"].map(newest))
    return rows[keep]


def spec_columns(spec) -> dict:
    """The SPEC_COLUMNS of a ModelSpec (``model`` is the variant's name). A timm model's own coefficients
    are not ours to claim: its width, depth and resolution stay blank, as do a user model's.
    ``model_source`` is a user model's ``reference@digest`` plus its arguments."""
    own = spec.method not in ("timm", "user")
    return {
        "model": spec.name,
        "base": spec.base,
        "family": spec.family,
        "method": spec.method,
        "width": spec.width if own else None,
        "depth": spec.depth if own else None,
        "resolution": spec.resolution if own else None,
        "phi": spec.phi,
        "input_size": spec.input_size,
        "total_stride": spec.total_stride,
        "in_chans": spec.in_chans,
        "num_classes": spec.num_classes,
        "model_source": _source(spec),
    }


def _source(spec) -> str | None:
    if spec.source is None:
        return None
    args = ",".join(f"{k}={v}" for k, v in spec.model_args)
    return spec.source + (f"({args})" if args else "")


@dataclass(frozen=True)
class MergeOutcome:
    """What ``merge_stores`` did: rows read (every store, the target's own rows included), rows in the merged
    store, and for each store that won a tie (two rows of one identity and one timestamp, their values
    different) how many rows it won."""

    read: int
    written: int
    ties: dict[str, int]


def merge_stores(sources: Iterable[Path], target: Path) -> MergeOutcome:
    """Merge results stores into ``target`` (created, or merged into if it exists): every row of every
    store, one per identity. Rows of different machines have different identities, so none is lost.

    Where stores hold the same identity, the row with the newest timestamp wins; on a tie (the same
    timestamp, or none, as exact counts have) the store named later wins, ``target``'s own rows counting as
    named first. Tied rows that are equal in every column are one row; tied rows that differ are counted
    per winning store in the outcome, so that the caller can say so."""
    stores = [target, *sources]
    with locked(target):
        frames = [read_results(path).assign(_store=i) for i, path in enumerate(stores)]
        merged = concat_tables(frames)
        read = len(merged)
        merged["_identity"] = ["\x1f".join(identity(r)) for r in merged.to_dict("records")]
        # stable: within one timestamp, rows keep the stores' order; rows without one sort before any that has
        merged = merged.sort_values("timestamp", kind="stable", na_position="first").reset_index(drop=True)
        kept = merged.drop_duplicates("_identity", keep="last")
        ties = _tie_winners(merged, kept)
        merged = kept.drop(columns=["_identity", "_store"])
        extra = [c for c in merged.columns if c not in COLUMNS]
        _write(merged.reindex(columns=list(COLUMNS) + extra), target)
    return MergeOutcome(read, len(merged), {str(stores[i]): n for i, n in sorted(ties.items())})


def _tie_winners(ordered: pd.DataFrame, kept: pd.DataFrame) -> dict[int, int]:
    """For each store (by index), how many rows it won against a row of the same identity and timestamp whose
    values differ (``ordered``: every row, sorted; ``kept``: the winners)."""
    stamp = ordered["timestamp"].fillna("").astype(str)
    winning_stamp = ordered["_identity"].map(dict(zip(kept["_identity"], stamp[kept.index], strict=True)))
    tied = ordered[(stamp == winning_stamp) & ordered["_identity"].duplicated(keep=False)]
    wins: dict[int, int] = {}
    values = [c for c in ordered.columns if c != "_store"]
    for _, group in tied.groupby("_identity", sort=False):
        winner = group.iloc[-1]
        differ = sum(not row[values].equals(winner[values]) for _, row in group.iloc[:-1].iterrows())
        if differ:
            wins[int(winner["_store"])] = wins.get(int(winner["_store"]), 0) + differ
    return wins
