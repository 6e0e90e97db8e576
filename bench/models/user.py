"""A researcher's own network: ``package.module:function`` wherever a timm name is accepted.

The function returns an ``nn.Module``. It is called with the entry's ``model_args`` (scalars from a
suite's ``model_args:`` or ``--model-arg KEY=VALUE``), plus ``num_classes`` / ``in_chans`` when its
signature takes them. The working directory is importable while the user's code is imported or called,
so a model file beside the suite works without installing anything; the user's tree is left as it was
(no bytecode written, read or deleted; ``sys.path`` restored).

The source digest of the user's own code goes into the row and the
workload key: the module's file and every file of the user's code it imports, directly or not, at
module level or inside a function (found by reading the import statements, not by importing). An
edit to any of them is a new workload, and the gate sees it.

Every failure is a ``UserModelError`` (a ValueError) whose message is one line.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.util
import inspect
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from bench.errors import InputError

if TYPE_CHECKING:
    from torch import nn

FAMILY = "user"
_REFERENCE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")
Scalar = bool | int | float | str


class UserModelError(InputError):
    """A user model reference that cannot be imported, called or used."""


@dataclass(frozen=True)
class UserModel:
    """A resolved reference: where its code lives and what that code is now."""

    reference: str
    path: str
    digest: str  # sha256 of the user's source files (``local_sources``), first 12 hex digits

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


#: Where this process would look for the user's cached bytecode while importing it: a folder that is never
#: created (nothing is written, ``dont_write_bytecode``), so every import compiles the user's files from source.
_NO_BYTECODE = str(Path(tempfile.gettempdir()) / f"effbench-no-bytecode-{os.getpid()}")


@contextmanager
def _user_code() -> Iterator[None]:
    """Around importing or calling the user's code: the working directory importable, no bytecode read from
    or written to the user's ``__pycache__`` folders (a .pyc is trusted when the source's size and
    whole-second mtime match, which an edit within the same second that keeps the size does); afterwards
    ``sys.path`` and the bytecode settings are as they were. Nothing of the user's tree is written or deleted."""
    saved = (list(sys.path), sys.dont_write_bytecode, sys.pycache_prefix)
    cwd = str(Path.cwd())
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    sys.dont_write_bytecode, sys.pycache_prefix = True, _NO_BYTECODE
    try:
        yield
    finally:
        sys.path[:] = saved[0]
        sys.dont_write_bytecode, sys.pycache_prefix = saved[1], saved[2]


#: Top-level names never counted as the user's code, even when they sit beside it: effbench itself.
_NOT_USER_CODE = frozenset({"bench"})


def _root(path: Path, module_name: str) -> Path:
    """The folder the module's top-level package (or the module itself) was imported from."""
    depth = module_name.count(".") + (1 if path.name == "__init__.py" else 0)
    return path.parents[depth]


def _local_file(name: str, root: Path) -> Path | None:
    """The file of module ``name`` under ``root`` (a module file or a package's __init__), if any."""
    if not name or name.split(".")[0] in _NOT_USER_CODE:
        return None
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file() and "site-packages" not in candidate.parts and "dist-packages" not in candidate.parts:
            return candidate
    return None


def _with_parents(name: str) -> list[str]:
    """``a.b.c`` -> ``a``, ``a.b``, ``a.b.c``: importing a module runs its parent packages' __init__ too."""
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _imported_names(tree: ast.AST, package: str) -> list[str]:
    """Every module name an import statement anywhere in ``tree`` may load (relative ones made absolute)."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            names += [base, *(f"{base}.{alias.name}" for alias in node.names)]
    return [parent for name in names if name for parent in _with_parents(name)]


def local_sources(path: str | Path, module_name: str) -> list[Path]:
    """The module's file and every file of the user's own code it imports, directly or not: its parent
    packages' ``__init__`` files and the modules its import statements name (inside functions too) that
    live under the folder its top-level package was imported from, outside site-packages and effbench.
    Paths are as imported (a linked file is not followed out of that folder)."""
    path = Path(path).absolute()
    root = _root(path, module_name)
    seen: dict[Path, Path] = {}  # real file -> the path it was found at
    todo = [(path, module_name)]
    todo += [(found, parent) for parent in _with_parents(module_name)[:-1] if (found := _local_file(parent, root))]
    while todo:
        file, name = todo.pop()
        if file.resolve() in seen:
            continue
        seen[file.resolve()] = file
        try:
            tree = ast.parse(file.read_bytes())
        except (SyntaxError, ValueError):
            continue  # importing it says what is wrong; the digest still covers its bytes
        package = name if file.name == "__init__.py" else name.rpartition(".")[0]
        for imported in _imported_names(tree, package):
            found = _local_file(imported, root)
            if found is not None and found.resolve() not in seen:
                todo.append((found, imported))
    return sorted(seen.values())


def _digest(path: str | Path, module_name: str) -> str:
    root = _root(Path(path).absolute(), module_name)
    digest = hashlib.sha256()
    for file in local_sources(path, module_name):
        digest.update(str(file.relative_to(root)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


#: The attribute a user module carries once imported here: the digest of its sources at that time.
_DIGEST = "__effbench_digest__"


def _forget(path: str, module_name: str) -> None:
    """Drop the user's modules from ``sys.modules`` so the next import reads their files afresh."""
    files = {str(f.resolve()) for f in local_sources(path, module_name)}
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and str(Path(file).resolve()) in files:
            del sys.modules[name]
    importlib.invalidate_caches()


def _module(name: str) -> ModuleType:
    """Import ``name``; import it afresh (with the user's modules it imports) when any of their files
    changed since this process imported it."""
    try:
        with _user_code():
            module = importlib.import_module(name)
            path = getattr(module, "__file__", None)
            if path and getattr(module, _DIGEST, None) not in (None, _digest(path, name)):
                _forget(path, name)
                module = importlib.import_module(name)
    except ModuleNotFoundError as error:
        raise UserModelError(f"cannot import {name!r} ({error}); run from the folder that holds it") from None
    except SystemExit as error:  # sys.exit() in the user's module would end bench itself, silently
        raise UserModelError(
            f"importing {name!r} called sys.exit({error.code!r}); a model module must not exit"
        ) from None
    except Exception as error:  # the user's module raised while importing: say where, in one line
        raise UserModelError(f"importing {name!r} failed: {type(error).__name__}: {error}") from None
    path = getattr(module, "__file__", None)
    if path and getattr(module, _DIGEST, None) is None:
        setattr(module, _DIGEST, _digest(path, name))
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
    return UserModel(reference, path, getattr(module, _DIGEST, None) or _digest(path, module_name))


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


def own_defaults(reference: str) -> dict[str, int]:
    """``num_classes`` / ``in_chans`` as the user's function defaults them (those it gives an int default)."""
    module_name, function_name = _split(reference)
    try:
        parameters = inspect.signature(getattr(_module(module_name), function_name)).parameters
    except (TypeError, ValueError, AttributeError):
        return {}
    return {
        name: p.default
        for name, p in parameters.items()
        if name in ("num_classes", "in_chans") and isinstance(p.default, int) and not isinstance(p.default, bool)
    }


def call_kwargs(reference: str, args: tuple[tuple[str, Scalar], ...], offered: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments ``build`` calls the user's function with: ``args`` and the ``offered`` it takes."""
    module_name, function_name = _split(reference)
    function = getattr(_module(module_name), function_name, None)
    return {**_accepted(function, offered), **dict(args)}


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
        with _user_code():  # an import inside the function finds the user's modules, and writes no bytecode
            model = function(**kwargs)
    except TypeError as error:
        raise UserModelError(f"{reference}({_show(kwargs)}) failed: {error}") from None
    except SystemExit as error:  # would end bench itself, with status 0 and no word
        raise UserModelError(
            f"{reference}({_show(kwargs)}) called sys.exit({error.code!r}); a model function must return a module"
        ) from None
    except Exception as error:
        raise UserModelError(f"{reference}({_show(kwargs)}) raised {type(error).__name__}: {error}") from None
    if not isinstance(model, nn.Module):
        raise UserModelError(f"{reference} returned {type(model).__name__}, not a torch.nn.Module")
    return model


def _show(kwargs: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
