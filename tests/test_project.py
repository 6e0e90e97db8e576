"""The project's own promises: README commands, CI script and tox envs stay consistent."""

from __future__ import annotations

import re
import subprocess

from tests.conftest import ROOT


def _block_after(marker: str) -> str:
    text = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- {marker} -->\s*```bash\n(.+?)\n```", text, re.S)
    assert match, f"README lacks a bash block after <!-- {marker} -->"
    return match.group(1).strip()


def test_readme_has_the_two_setup_commands() -> None:
    main, tests = _block_after("main-command"), _block_after("test-command")
    assert "\n" not in main and "\n" not in tests
    assert "python -m bench" in main and "pytest" in tests
    assert "pip install -e" in main and "pip install -e" in tests


def test_ci_runs_the_readme_test_command() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    extract = re.search(r"command=\$\((.+)\)\n", script).group(1)
    out = subprocess.run(["bash", "-c", extract], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == _block_after("test-command")


def test_tox_has_the_tier_envs() -> None:
    text = (ROOT / "tox.ini").read_text()
    for env in ("tests", "integration", "slow", "gate-rates", "bench", "report", "lint"):
        assert f"[testenv:{env}]" in text


def test_every_shipped_accuracy_is_labelled_by_a_known_source() -> None:
    from bench.accuracy import SOURCES
    from bench.report.frames import reported
    from bench.store.results import read_results
    from bench.zoo.select import reported_timm

    shipped = [read_results(path) for path in sorted((ROOT / "reports" / "measured").glob("*.csv"))]
    labels = {label for frame in [*shipped, reported(), reported_timm()] for label in frame["accuracy_source"].dropna()}
    assert labels and labels <= set(SOURCES), labels - set(SOURCES)
    assert {"measured", "reported", "reported-timm"} <= labels


def test_readme_suite_table_gives_each_suites_entry_count() -> None:
    from bench.suites import load_suite

    text = (ROOT / "docs" / "suites.md").read_text()
    table = text[text.index("Shipped suites:") :]
    rows = re.findall(r"^\| `(\w+)` \| [^\n]*\| (\d+) \|$", table, re.M)
    named = {name: int(count) for name, count in rows if (ROOT / "suites" / f"{name}.yaml").exists()}
    assert len(named) >= 9
    for name, count in named.items():
        assert len(load_suite(ROOT / "suites" / f"{name}.yaml").entries) == count, name
