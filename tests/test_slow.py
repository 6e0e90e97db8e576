"""Slow tier (pytest -m slow / tox -e slow): whole suites end to end."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from bench.run import run_suite
from bench.scaling.plan import plan_suite
from bench.store.count_cache import ComplexityCache
from bench.suites import SuiteSpec, load_suite
from tests.conftest import ROOT, SUITES

pytestmark = pytest.mark.slow


def test_fig8_every_single_dimension_variant_matches_its_compound_point() -> None:
    cache = ComplexityCache(None)
    planned = plan_suite(load_suite(ROOT / "suites" / "fig8_compound_vs_single.yaml"), cache, jobs=2)
    solved = [p for p in planned if p.target_macs is not None]
    assert len(solved) == 18
    for item in solved:
        assert abs(cache.macs(item.spec) / item.target_macs - 1) <= 0.03, item.entry.name


#: A suite of more entries than this, none solved against another (the zoo: 155 timm models), runs an
#: even spread of this many: every kind of entry it has still runs its whole path.
MAX_ENTRIES = 24


def _shrunk(suite: SuiteSpec) -> SuiteSpec:
    """The suite with every timing and training as small as still runs its whole path: two untimed-warmup-free
    forwards per reading, one epoch on 256 images scored on 256, one seed; a long suite of independent
    entries cut to an even spread of ``MAX_ENTRIES``."""
    quick = {"warmup_iterations": 0, "min_iterations": 2, "min_time_s": 0.0}
    changes: dict = {}
    if len(suite.entries) > MAX_ENTRIES and all(entry.target is None for entry in suite.entries):
        step = -(-len(suite.entries) // MAX_ENTRIES)
        suite = replace(suite, entries=suite.entries[::step])
    if suite.latency is not None:
        changes["latency"] = replace(suite.latency, **quick)
    if suite.throughput is not None:
        changes["throughput"] = replace(suite.throughput, conditions=replace(suite.throughput.conditions, **quick))
    if suite.train is not None:
        changes["train"] = replace(suite.train, train_images=256, test_images=256, epochs=1, batch_size=64)
        changes["seeds"] = (0,)
        changes["curve_epochs"] = (1,) if suite.curve_epochs else ()
        changes["entries"] = tuple(replace(entry, seeds=None) for entry in suite.entries)
    return replace(suite, **changes)


def _rows_per_entry(suite: SuiteSpec) -> int:
    """Rows one entry writes: a count, a latency row, one per throughput batch, one per training budget."""
    return (
        ("complexity" in suite.metrics)
        + (suite.latency is not None)
        + (len(suite.throughput.batch_sizes) if suite.throughput is not None else 0)
        + len(suite.budgets)
    )


@pytest.mark.parametrize("path", SUITES, ids=[p.stem for p in SUITES])
def test_every_suite_runs_end_to_end(path: Path, tmp_path: Path) -> None:
    """Each shipped suite, shrunk (bench.run.run_suite, as ``bench run`` calls it): every entry planned, counted,
    timed and trained, one row per task, all with counts."""
    import torch

    suite = _shrunk(load_suite(path))
    if "cuda" in suite.devices.values() and not torch.cuda.is_available():
        pytest.skip(f"{suite.name} needs a CUDA GPU")
    results = tmp_path / "results.csv"
    summary = run_suite(suite, results, ComplexityCache(tmp_path / "cache.json"), jobs=2, train_jobs=2, progress=False)
    frame = pd.read_csv(results)
    assert summary.skipped == 0
    assert len(frame) == len(suite.entries) * _rows_per_entry(suite)
    assert frame["macs"].gt(0).all() and frame["params"].gt(0).all()
    assert set(frame["entry"]) == {entry.name for entry in suite.entries}
    if suite.train is not None:
        trained = frame[frame["measurement"] == "accuracy"]
        assert trained["top1"].between(0, 100).all() and (trained["accuracy_source"] == "measured").all()
    if suite.name == "paper_table2":
        b7 = frame[(frame["entry"] == "efficientnet_b7") & (frame["measurement"] == "complexity")]
        assert b7["macs"].item() == 37745884192 and b7["input_size"].item() == 600


def _chromium() -> str | None:
    import shutil

    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


# Appended to a copy of the page (the shipped page has no scripts): after the load event, report
# every image that did not decode into an element that --dump-dom prints.
_IMAGE_CHECK = """<script>window.addEventListener('load', () => {
  const bad = [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src);
  const out = document.createElement('pre'); out.id = 'image-check';
  out.textContent = 'images=' + document.images.length + ' broken=' + JSON.stringify(bad);
  document.body.appendChild(out);
});</script>"""


@pytest.mark.slow
def test_report_opens_in_headless_chromium(tmp_path: Path) -> None:
    """The default report, opened from disk: every image loads, no console errors; a screenshot is saved."""
    import re
    import subprocess
    import sys

    browser = _chromium()
    if browser is None:
        pytest.skip("no Chromium: apt-get install chromium")
    out = tmp_path / "reports"
    done = subprocess.run(
        [sys.executable, "-m", "bench.report", "--results", str(tmp_path / "results.csv"), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    page = out / "index.html"
    checked = out / "index-checked.html"
    checked.write_text(page.read_text().replace("</body>", _IMAGE_CHECK + "</body>"))
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--allow-file-access-from-files",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=10000",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run([browser, *flags, "--dump-dom", checked.as_uri()], capture_output=True, text=True, timeout=180)
    match = re.search(r"images=(\d+) broken=(\[.*?\])", dom.stdout)
    assert match, dom.stderr[-3000:]
    assert int(match.group(1)) == page.read_text().count("<img") >= 3 and match.group(2) == "[]"
    console = subprocess.run(
        [browser, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=180
    )
    errors = [line for line in console.stderr.splitlines() if "CONSOLE" in line or "Failed to load resource" in line]
    assert errors == [], errors
    screenshot = out / "index-screenshot.png"
    subprocess.run(
        [browser, *flags, "--window-size=1200,4000", f"--screenshot={screenshot}", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert screenshot.stat().st_size > 50_000
