"""A researcher's own network: ``package.module:function`` wherever a timm name is accepted.

The function returns an ``nn.Module``. It is called with the entry's ``model_args`` (scalars from a
suite's ``model_args:`` or ``--model-arg KEY=VALUE``), plus ``num_classes`` / ``in_chans`` when its
signature takes them. The working directory is importable, so a model file beside the suite works
without installing anything. The module's source digest goes into the row and the workload key: an
edit to the model is a new workload, and the gate sees it.

Every failure is a ``UserModelError`` (a ValueError) whose message is one line.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn

FAMILY = "user"
_REFERENCE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")
Scalar = bool | int | float | str


class UserModelError(ValueError):
    """A user model reference that cannot be imported, called or used."""


@dataclass(frozen=True)
class UserModel:
    """A resolved reference: where its code lives and what that code is now."""

    reference: str
    path: str
    digest: str  # sha256 of the module's source file, first 12 hex digits

    @property
    def source(self) -> str:
        """What a row records: ``package.module:function@digest``."""
        return f"{self.reference}@{self.digest}"


def is_reference(name: str) -> bool:
    """Whether ``name`` has the form of a user model reference (it may still fail to import)."""
    return ":" in name


def _split(reference: str) -> tuple[str, str]:
    if not _REFERENCE.match(reference):
        raise UserModelError(f"{reference!r} is not a model reference; expected package.module:function")
    module, function = reference.split(":")
    return module, function


def _importable_cwd() -> None:
    cwd = str(Path.cwd())
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)


def _digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


_loaded: dict[str, str] = {}  # module name -> digest it was imported at


def _module(name: str) -> ModuleType:
    """Import ``name``, re-importing it when its file changed since this process imported it."""
    _importable_cwd()
    try:
        module = importlib.import_module(name)
        path = getattr(module, "__file__", None)
        if path and name in _loaded and _loaded[name] != _digest(path):
            module = importlib.reload(module)
    except ModuleNotFoundError as error:
        raise UserModelError(f"cannot import {name!r} ({error}); run from the folder that holds it") from None
    except Exception as error:  # the user's module raised while importing: say where, in one line
        raise UserModelError(f"importing {name!r} failed: {type(error).__name__}: {error}") from None
    path = getattr(module, "__file__", None)
    if path:
        _loaded[name] = _digest(path)
    return module


def resolve(reference: str) -> UserModel:
    """Import the reference's module and check the function exists; the source digest it has now."""
    module_name, function = _split(reference)
    module = _module(module_name)
    target = getattr(module, function, None)
    if target is None:
        raise UserModelError(f"{module_name!r} has no {function!r}")
    if not callable(target):
        raise UserModelError(f"{reference} is not callable")
    path = getattr(module, "__file__", None)
    if not path:
        raise UserModelError(f"{module_name!r} has no source file to record")
    return UserModel(reference, path, _digest(path))


def check_args(args: dict[str, Any]) -> tuple[tuple[str, Scalar], ...]:
    """``args`` as a sorted tuple of (name, scalar): what a frozen spec holds and a key hashes."""
    checked = []
    for key, value in args.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise UserModelError(f"model_args: {key!r} is not an argument name")
        if not isinstance(value, bool | int | float | str):
            raise UserModelError(f"model_args.{key} must be a number, a string or true/false, got {value!r}")
        checked.append((key, value))
    return tuple(sorted(checked))


def parse_arg(text: str) -> tuple[str, Scalar]:
    """``KEY=VALUE`` from the command line; VALUE becomes an int, float or bool where it reads as one."""
    key, sep, raw = text.partition("=")
    if not sep or not key.isidentifier():
        raise UserModelError(f"--model-arg {text!r}: expected KEY=VALUE")
    value: Scalar = raw
    if raw.lower() in ("true", "false"):
        value = raw.lower() == "true"
    else:
        for kind in (int, float):
            try:
                value = kind(raw)
                break
            except ValueError:
                continue
    return key, value


def _accepted(function: Any, offered: dict[str, Any]) -> dict[str, Any]:
    """The offered keyword arguments ``function`` takes (all of them if it takes ``**kwargs``)."""
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return {}
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return offered
    return {k: v for k, v in offered.items() if k in parameters}


def build(reference: str, args: tuple[tuple[str, Scalar], ...], offered: dict[str, Any]) -> nn.Module:
    """Call the user's function with ``args`` and whichever of ``offered`` (num_classes, in_chans,
    drop_rate, ...) it accepts; the result must be an ``nn.Module``."""
    from torch import nn

    module_name, function_name = _split(reference)
    function = getattr(_module(module_name), function_name, None)
    if function is None or not callable(function):
        raise UserModelError(f"{reference} is not a callable in {module_name!r}")
    kwargs = {**_accepted(function, offered), **dict(args)}
    try:
        model = function(**kwargs)
    except TypeError as error:
        raise UserModelError(f"{reference}({_show(kwargs)}) failed: {error}") from None
    except Exception as error:
        raise UserModelError(f"{reference}({_show(kwargs)}) raised {type(error).__name__}: {error}") from None
    if not isinstance(model, nn.Module):
        raise UserModelError(f"{reference} returned {type(model).__name__}, not a torch.nn.Module")
    return model


def _show(kwargs: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
