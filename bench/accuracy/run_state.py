"""What a training run leaves in its folder, read back safely: ``last.pt`` and ``result.json``.

A run folder holds ``last.pt`` (the last finished epoch: model, optimizer, scheduler, RNG,
history) and, once the run is done, ``result.json``. Both are read only through
``torch.load(weights_only=True)`` and ``json``, so nothing read is executed. A file that does
not parse, lacks a field, has the wrong types or does not fit the model is a ``BrokenRunError``
naming the file and what is wrong; a broken run is never silently retrained over.
``move_aside`` keeps a broken folder's files (renamed, beside it) for ``--restart-broken``.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import warnings
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import torch

from bench.errors import InputError

RESTART_HINT = "rerun with --restart-broken to move this run aside and train it again"

#: The fields of ``last.pt`` and the types each must have.
CHECKPOINT_FIELDS: dict[str, type | tuple[type, ...]] = {
    "model": dict,
    "optimizer": dict,
    "scheduler": dict,
    "epoch": int,
    "history": str,
    "train_seconds": (int, float),
    "images_seen": int,
    "rng": torch.Tensor,
}


class BrokenRunError(InputError):
    """A run folder's checkpoint or result cannot be used; the message names the file."""


@dataclass(frozen=True)
class TrainResult:
    top1: float
    top5: float | None
    train_loss: float
    epochs: int
    seconds: float
    images_per_s: float
    history: list[dict] = field(default_factory=list)
    threads: int = 0  # torch threads the run trained with (0: not recorded)
    concurrent: int = 0  # runs training on the machine at once, ``bench run --train-jobs`` (0: not recorded)
    finished: str = ""  # when the run ended (UTC, ISO 8601): the time its row reports
    processes: int = 1  # processes that trained it together (torchrun's WORLD_SIZE)
    val_top1: float | None = None  # on the budget's validation split (None: it has none)
    val_top5: float | None = None


def _broken(path: Path, why: str, hint: str = RESTART_HINT) -> BrokenRunError:
    return BrokenRunError(f"{path}: {why}; {hint}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_result(path: Path, raw: Any, hint: str = RESTART_HINT) -> TrainResult:
    def _broken(path: Path, why: str) -> BrokenRunError:
        return BrokenRunError(f"{path}: {why}; {hint}")

    if not isinstance(raw, dict):
        raise _broken(path, f"expected a JSON object, got {type(raw).__name__}")
    known = {f.name for f in fields(TrainResult)}
    required = {"top1", "top5", "train_loss", "epochs", "seconds", "images_per_s"}
    missing = sorted(required - raw.keys())
    if missing:
        raise _broken(path, f"missing field(s) {', '.join(missing)}")
    unknown = sorted(raw.keys() - known)
    if unknown:
        raise _broken(path, f"unknown field(s) {', '.join(unknown)}")
    for name in ("top1", "train_loss", "seconds", "images_per_s"):
        if not _is_number(raw[name]) or not math.isfinite(raw[name]):
            raise _broken(path, f"{name} must be a finite number, got {raw[name]!r}")
    for name in ("top5", "val_top1", "val_top5"):
        if raw.get(name) is not None and not (_is_number(raw[name]) and math.isfinite(raw[name])):
            raise _broken(path, f"{name} must be a number or null, got {raw[name]!r}")
    if not isinstance(raw["epochs"], int) or raw["epochs"] < 1:
        raise _broken(path, f"epochs must be a whole number >= 1, got {raw['epochs']!r}")
    if not isinstance(raw.get("history", []), list) or not isinstance(raw.get("finished", ""), str):
        raise _broken(path, "history must be a list and finished a string")
    return TrainResult(**raw)


def finished_result(directory: Path | None) -> TrainResult | None:
    """The result a finished run left in its folder; None if it has not finished. BrokenRunError if unreadable."""
    path = directory / "result.json" if directory else None
    if path is None or not path.exists():
        return None
    result = read_result(path)
    if not result.finished:  # written before runs recorded it: the file's own time
        mtime = _dt.datetime.fromtimestamp(path.stat().st_mtime, _dt.UTC)
        result = replace(result, finished=mtime.isoformat(timespec="seconds"))
    return result


def read_result(path: Path, hint: str = RESTART_HINT) -> TrainResult:
    """A run's result file (``result.json``, or its copy in a seed archive), checked field by field; a
    BrokenRunError naming ``path`` and ending in ``hint`` (what to do) if it cannot be used."""
    try:
        raw = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _broken(path, f"not a readable result ({error})", hint) from None
    return _check_result(path, raw, hint)


def read_checkpoint(path: Path, device: torch.device | str = "cpu") -> dict:
    """``last.pt``, loaded without executing anything and checked field by field."""
    try:
        with warnings.catch_warnings():  # a foreign pickle's protocol warning is noise: it is refused anyway
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location=device, weights_only=True)
    except Exception as error:  # truncated, empty, garbage, or a pickle that is not plain tensors and lists
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise _broken(path, f"not a readable checkpoint ({reason[:160]})") from None
    if not isinstance(state, dict):
        raise _broken(path, f"expected a checkpoint dict, got {type(state).__name__}")
    for name, kind in CHECKPOINT_FIELDS.items():
        if name not in state:
            raise _broken(path, f"checkpoint has no {name!r}")
        if not isinstance(state[name], kind) or isinstance(state[name], bool):
            raise _broken(path, f"checkpoint field {name!r} has the wrong type ({type(state[name]).__name__})")
    try:
        history = json.loads(state["history"])
    except json.JSONDecodeError:
        raise _broken(path, "checkpoint history is not JSON") from None
    if not isinstance(history, list) or state["epoch"] < 0 or len(history) != state["epoch"] + 1:
        raise _broken(path, f"checkpoint history does not match its epoch {state['epoch']}")
    return state


def check_run(directory: Path) -> str | None:
    """Why this run folder cannot be resumed (the message of its BrokenRunError), or None if it can."""
    try:
        if finished_result(directory) is None and (directory / "last.pt").exists():
            read_checkpoint(directory / "last.pt")
    except BrokenRunError as error:
        return str(error)
    return None


def move_aside(directory: Path) -> Path:
    """Rename a broken run folder (nothing deleted) so that the run starts afresh; the new name."""
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S")
    target = directory.with_name(f"{directory.name}.broken-{stamp}")
    n = 1
    while target.exists():
        target = directory.with_name(f"{directory.name}.broken-{stamp}-{n}")
        n += 1
    directory.rename(target)
    return target
