"""Slow tier (pytest -m slow / tox -e slow): whole suites end to end."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bench.cache import ComplexityCache
from bench.cli import main
from bench.plan import plan_suite
from bench.suites import load_suite
from tests.conftest import ROOT, SUITES

pytestmark = pytest.mark.slow


def test_fig8_every_single_dimension_variant_matches_its_compound_point() -> None:
    cache = ComplexityCache(None)
    planned = plan_suite(load_suite(ROOT / "suites" / "fig8_compound_vs_single.yaml"), cache, jobs=2)
    solved = [p for p in planned if p.target_macs is not None]
    assert len(solved) == 18
    for item in solved:
        assert abs(cache.macs(item.spec) / item.target_macs - 1) <= 0.03, item.entry.name


def test_every_suite_runs_end_to_end(tmp_path: Path) -> None:
    results = tmp_path / "results.csv"
    assert main(["run", *map(str, SUITES), "--results", str(results), "--quiet"]) == 0
    frame = pd.read_csv(results)
    assert len(frame) == sum(len(load_suite(path).entries) for path in SUITES)
    assert frame["macs"].gt(0).all() and frame["params"].gt(0).all()
    b7 = frame[(frame["suite"] == "paper_table2") & (frame["entry"] == "efficientnet_b7")]
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
