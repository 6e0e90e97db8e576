"""timm's private builders, which the scalable families call: present, with the arguments passed to them, in
the installed timm, and that timm within the range pyproject.toml allows (the exact counts of what they
build are checked against checked-in references in test_models and test_counts)."""

from __future__ import annotations

import importlib
import inspect
import re

from packaging.version import Version

from bench.models.timm_builders import PRIVATE_API
from tests.conftest import ROOT


def test_every_private_timm_builder_exists_and_takes_what_is_passed() -> None:
    for (module, name), keywords in PRIVATE_API.items():
        function = getattr(importlib.import_module(module), name, None)
        assert callable(function), f"timm no longer has {module}.{name}"
        parameters = inspect.signature(function).parameters
        takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
        missing = [k for k in keywords if k not in parameters and not takes_kwargs]
        assert not missing, f"{module}.{name} no longer takes {missing}"


def test_the_installed_timm_is_within_the_range_pyproject_allows() -> None:
    import timm

    text = (ROOT / "pyproject.toml").read_text()
    low, high = re.search(r'"timm>=([\d.]+),<([\d.]+)"', text).groups()  # type: ignore[union-attr]
    assert Version(low) <= Version(timm.__version__) < Version(high)


def test_only_timm_builders_calls_timms_private_builders() -> None:
    names = [name for _, name in PRIVATE_API]
    callers = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "bench").rglob("*.py")
        if any(re.search(rf"import[^\n]*\b{name}\b|\.{name}\(", path.read_text()) for name in names)
    }
    assert callers == {"bench/models/timm_builders.py"}
