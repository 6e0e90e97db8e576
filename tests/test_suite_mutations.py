"""Property: any mutation of any shipped suite file either validates, or is refused in one line with
exit 2. Never a traceback, never exit 1 (the catch-all for an error nobody anticipated)."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.cli import main
from tests.conftest import ROOT

SUITES = sorted(p for p in (ROOT / "suites").glob("*.yaml"))

#: Values a typo, a wrong unit or a hostile file might put anywhere.
ODD_VALUES = st.sampled_from(
    [None, True, 0, -1, 1, 1.5, 1e7, -1e-9, math.nan, math.inf, "", "abc", "../../etc/x", [], [1, "a"], {}, {"w": 2}]
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in a YAML tree a value sits (dict keys and list positions)."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


def _mutate(tree: Any, path: tuple, action: str, value: Any) -> Any:
    parent = tree
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "rename" and isinstance(parent, dict):
        parent[f"{last}x"] = parent.pop(last)
    else:
        parent[last] = copy.deepcopy(value)  # never share the sampled object between examples
    return tree


@st.composite
def mutated_suites(draw: st.DrawFn) -> tuple[str, str]:
    path = draw(st.sampled_from(SUITES))
    tree = yaml.safe_load(path.read_text())
    for _ in range(draw(st.integers(1, 3))):
        places = _paths(tree)
        if not places:
            break
        place = draw(st.sampled_from(places))
        tree = _mutate(tree, place, draw(st.sampled_from(["set", "set", "delete", "rename"])), draw(ODD_VALUES))
    return path.name, yaml.safe_dump(tree)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=mutated_suites())
def test_a_mutated_suite_validates_or_is_one_line(
    case: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name, text = case
    path = tmp_path / name
    path.write_text(text)
    capsys.readouterr()
    rc = main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert rc in (0, 2), f"exit {rc} for\n{text}\n{err}"
    if rc == 2:
        assert err.startswith("error: ") and str(path) in err and "Traceback" not in err, err
    else:
        assert "ok" in out and err == ""
