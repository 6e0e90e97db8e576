"""The report's page: it opens with its answers (verdicts with scope, this machine's picks, where the rest is),
nothing scrolls sideways at 1,280 px, the zoo figure names its frontier and every point on hover, axis labels
read as quantities, and a fresh clone's ``--no-measure`` report draws Figures 1 and 5 from shipped rows."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.measure.environment import machine_fingerprint
from bench.report import figures, frames, glance, hover
from bench.report.__main__ import main as report_main
from bench.report.build import build_report
from bench.store.results import COLUMNS
from bench.zoo import select as zoo
from bench.zoo.counts import shipped_counts
from bench.zoo.pareto import pareto_mask
from tests.conftest import ROOT
from tests.test_report import ENV, _hand_made_results

HERE = machine_fingerprint(ENV)
ELSEWHERE = "fd759a02b2"
#: A few zoo models, timed: base -> (median ms, params, MACs, activations).
ZOO = {
    "lcnet_050": (4.0, 1.9e6, 0.045e9, 1.3e6),
    "mobilenetv2_100": (20.0, 3.5e6, 0.30e9, 6.7e6),
    "tf_efficientnet_b0": (30.0, 5.3e6, 0.39e9, 6.7e6),
    "resnet50": (90.0, 25.6e6, 4.1e9, 11.1e6),
}


def _zoo_rows(machine: str, cpu: str) -> pd.DataFrame:
    rows = [
        {
            "suite": zoo.ZOO_SUITE,
            "entry": base,
            "base": base,
            "model": base,
            "input_size": 224,
            "measurement": "latency",
            "workload_key": f"{base}-{machine}",
            "machine": machine,
            "cpu": cpu,
            "device": "cpu",
            "threads": 1,
            "batch_size": 1,
            "latency_ms_p50": ms,
            "latency_cv": 0.01,
            "cpu_wall_ratio": 1.0,
            "throughput_ips": 1e3 / ms,
            "params": params,
            "macs": macs,
            "activations": acts,
            "timestamp": "2026-11-24T00:00:00",
        }
        for base, (ms, params, macs, acts) in ZOO.items()
    ]
    return pd.DataFrame(rows).reindex(columns=list(COLUMNS))


def first_screen(page: str) -> str:
    """The page's opening, as text a reader sees."""
    opening = page[page.index('<header id="first-screen">') : page.index("</header>")]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", opening)))


def _pick_rows(page: str) -> dict[str, str]:
    """The first screen's pick table, one text line per budget."""
    table = page[page.index('id="pick-table"') : page.index("</table>", page.index('id="pick-table"'))]
    rows = [re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", r))).strip() for r in table.split("<tr>")[2:]]
    return {re.split(r" (?=exact counts|timed here)", row)[0]: row for row in rows}


@pytest.fixture(scope="module")
def here_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report from hand-made rows, the zoo timed on the machine it is built on."""
    out = tmp_path_factory.mktemp("here")
    results = pd.concat([_hand_made_results(), _zoo_rows(HERE, "test cpu")], ignore_index=True)
    build_report(results, out, ENV)
    return out


@pytest.fixture(scope="module")
def fresh_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python -m bench.report --no-measure`` with no results store: the shipped rows only."""
    out = tmp_path_factory.mktemp("fresh")
    here = os.getcwd()
    os.chdir(out)  # no reports/results.csv here, as in a fresh clone (a named store that is missing is an error)
    try:
        assert report_main(["--no-measure", "--out", str(out), "--quiet"]) == 0
    finally:
        os.chdir(here)
    return out


def test_the_first_screen_gives_every_verdict_with_its_scope(here_report: Path) -> None:
    page = (here_report / "index.html").read_text()
    opening = first_screen(page)
    claims = pd.read_csv(here_report / "claims.csv")
    assert len(claims) >= 10
    for claim in claims.to_dict("records"):
        assert f"{claim['claim']} {claim['verdict']} {claim['statement']} {claim['scope']}" in opening, claim
    assert glance.verdict_counts(claims) in opening and 'href="#claims"' in page.split("</header>")[0]
    assert opening.index("Verdicts") < opening.index("This machine's pick") < opening.index("Where everything else is")


def test_the_first_screen_gives_this_machines_pick_at_a_few_budgets(here_report: Path) -> None:
    page = (here_report / "index.html").read_text()
    picks = _pick_rows(page)
    assert list(picks) == ["<= 0.5 G MACs", "<= 1 G MACs", "<= 4 G MACs", "<= 10 ms", "<= 30 ms", "<= 100 ms"]
    counted = zoo.counted_points(shipped_counts().assign(base=lambda f: f["model"].str.split("@").str[0]))
    for g in glance.MACS_BUDGETS_G:  # bench pick's answer from the shipped exact counts
        best = zoo.pick(counted, zoo.Budget(macs_g=g)).iloc[0]
        assert f"exact counts {best['base']}.{best['tag']} {best['top1']:.4g}" in picks[f"<= {g:g} G MACs"]
    assert "timed here lcnet_050." in picks["<= 10 ms"]  # the only model timed within 10 ms
    assert "timed here tf_efficientnet_b0." in picks["<= 30 ms"] and "none of B0-B7 fits" not in picks["<= 30 ms"]
    assert "this machine (test cpu" in first_screen(page)
    for section in ("about", "evidence", "paper", "proxy", "beyond", "environment"):
        assert f'href="#{section}"' in page.split("</header>")[0] and f'id="{section}"' in page


def test_latency_budgets_are_never_answered_from_another_machines_rows(tmp_path: Path) -> None:
    results = pd.concat([_hand_made_results(), _zoo_rows(ELSEWHERE, "AMD EPYC")], ignore_index=True)
    page = (build_report(results, tmp_path, ENV).out / "index.html").read_text()
    opening = first_screen(page)
    assert list(_pick_rows(page)) == ["<= 0.5 G MACs", "<= 1 G MACs", "<= 4 G MACs"]
    assert "this machine has no timed zoo rows" in opening and glance.TIME_THE_ZOO in opening
    assert f"measured on AMD EPYC [{ELSEWHERE}]" in opening and "timed here" not in opening
    assert "this machine (" not in page  # no timing anywhere is called this machine's
    picks = glance.budget_picks(frames.latest(results), None)
    assert len(picks.table.frame) == 3 and "no timed zoo rows" in picks.latency_note


def test_every_table_scrolls_in_its_own_box_and_figures_shrink_to_the_page(here_report: Path) -> None:
    """At 1,280 px nothing scrolls the page sideways: the CSS that guarantees it, on every page."""
    page = (here_report / "index.html").read_text()
    style = page[page.index("<style>") : page.index("</style>")]
    assert ".wide{overflow-x:auto" in style and "img,svg.figure{max-width:100%;height:auto}" in style
    assert re.search(r"body\{[^}]*max-width:(\d+)px", style) and int(re.search(r"max-width:(\d+)px", style)[1]) < 1280
    assert "table.fit{table-layout:fixed;width:100%}" in style
    tables = [m.start() for m in re.finditer("<table", page)]
    assert len(tables) > 10
    assert all(page[:start].endswith('<div class="wide">') for start in tables)
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), {i for i in ids if ids.count(i) > 1}


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


#: Added to a copy of the page (the page itself has no scripts): the page's width and where the first
#: screen's tables end, printed into the DOM that --dump-dom returns.
_MEASURE = """<script>window.addEventListener('load', () => {
  const e = document.documentElement, at = id => document.getElementById(id).getBoundingClientRect();
  const out = document.createElement('pre');
  const titles = [...document.querySelectorAll('svg.figure g > title')].filter(t => t instanceof SVGTitleElement);
  out.textContent = `measured ${e.scrollWidth} ${e.clientWidth} ${e.scrollHeight} ${at('verdict-table').bottom} `
    + `${at('pick-table').top} ${titles.length}`;
  document.body.appendChild(out);
});</script>"""


def test_no_sideways_scroll_at_1280_px_in_headless_chromium(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip("no Chromium on PATH (apt-get install chromium): the CSS-level test above still runs")
    fresh_clone: Path = request.getfixturevalue("fresh_clone")  # built only where a browser will read it
    checked = fresh_clone / "index-measured.html"
    checked.write_text((fresh_clone / "index.html").read_text().replace("</body>", _MEASURE + "</body>"))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,900", "--virtual-time-budget=10000"]
    done = subprocess.run(
        [browser, *flags, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", checked.as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
    )
    match = re.search(r"measured (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+) (\d+)", done.stdout)
    assert match, done.stderr[-2000:]
    scroll_width, client_width, _, verdicts_end, picks_start, titles = (float(v) for v in match.groups())
    assert scroll_width <= client_width <= 1280
    assert verdicts_end <= 900 and picks_start < 900  # both answers on the first screen
    # the inlined zoo figure's point names are SVG titles the browser shows on hover
    assert titles == (fresh_clone / "zoo_accuracy_vs_latency.svg").read_text().count("<title>") > 100


def test_the_zoo_figure_names_its_frontier_and_every_point_on_hover(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    latency = np.exp(rng.uniform(np.log(3), np.log(2000), 80))
    top1 = 55 + 8 * np.log(latency) + rng.normal(0, 4, 80)
    points = pd.DataFrame({"latency_ms": latency, "top1": top1, "name": [f"model_{i:02d}" for i in range(80)]})
    points = points.assign(hover=[f"top-1 {t:.2f}%" for t in top1], highlight=[i % 9 == 0 for i in range(80)])
    mask = pareto_mask(points["latency_ms"].tolist(), points["top1"].tolist())
    drawn = hover.frontier_scatter(points, ("latency_ms", "ms"), ("top1", "top-1"), "zoo", mask, "paper's")
    ax = drawn.figure.axes[0]
    assert {t.get_text() for t in ax.texts} == set(points.loc[mask, "name"]) and 3 <= sum(mask) < 40
    renderer = drawn.figure.canvas.get_renderer()
    boxes = [hover.name_box(t, renderer) for t in ax.texts]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])  # no name covers another
    figures.save(drawn.figure, tmp_path / "zoo")
    svg = hover.svg_with_titles((tmp_path / "zoo.svg").read_text(), drawn.titles)
    assert svg.count("<title>") == len(points) == len(drawn.titles)
    assert '<g id="point-3"><title>model_03: top-1' in re.sub(r'(<g id="point-3")[^>]*>', r"\1>", svg)
    inline = hover.inline_svg(svg, "zoo")
    assert inline.startswith('<svg class="figure"') and "http" not in inline and "<?xml" not in inline
    assert 'id="zoo-point-3"' in inline and 'href="#zoo-' in inline and "url(#zoo-" in inline


def test_the_report_inlines_the_zoo_figure_with_a_title_per_model(here_report: Path) -> None:
    page = (here_report / "index.html").read_text()
    figure = page[page.index('<figure id="figure-zoo_accuracy_vs_latency">') :]
    figure = figure[: figure.index("</figure>")]
    assert '<svg class="figure"' in figure and "<img" not in figure
    titles = re.findall(r"<title>([^<]*)</title>", figure)
    assert sorted(t.split(":")[0] for t in titles) == sorted(ZOO)
    assert all(" ms, " in t and "G MACs" in t for t in titles)
    assert "<title>" in (here_report / "zoo_accuracy_vs_latency.svg").read_text()


def test_proxy_axis_labels_name_the_quantity_and_the_bars_are_explained_once() -> None:
    results = _hand_made_results()
    fig8, table3 = (frames.measured_accuracy(results, suite) for suite in ("proxy_fig8_table7", "proxy_table3"))
    for drawn in (figures.compound_vs_single(fig8), figures.networks_compound_vs_single(table3)):
        ax = drawn.axes[0]
        assert ax.get_ylabel() == "proxy top-1 (%), measured" and not ax.get_ylabel().endswith("(t)")
        assert ax.get_legend().get_title().get_text() == figures.ERROR_BARS
    assert "95% CI" in figures.ERROR_BARS and "Student's t" in figures.ERROR_BARS


def test_a_fresh_clone_draws_figures_1_and_5_from_shipped_counts(fresh_clone: Path) -> None:
    page = (fresh_clone / "index.html").read_text()
    for stem in ("fig1_accuracy_vs_params", "fig5_accuracy_vs_macs"):
        assert (fresh_clone / f"{stem}.png").stat().st_size > 10_000 and (fresh_clone / f"{stem}.svg").exists()
        assert f'<figure id="figure-{stem}">' in page
    table2 = pd.read_csv(fresh_clone / "table2.csv")
    counted = table2[table2["entry"].notna()]
    assert len(counted) == 19 and counted["macs_b_ours"].notna().all()
    b7 = counted[counted["entry"] == "efficientnet_b7"].iloc[0]
    assert b7["macs_b_ours"] == pytest.approx(37.746, abs=5e-4)  # shown to 3 decimals
    shipped = pd.read_csv(ROOT / "reports" / "measured" / "paper_counts.csv")
    assert shipped.query("entry == 'efficientnet_b7'")["macs"].item() == 37745884192  # as test_slow counts it
    assert "Table 2 counts (Figures 1 and 5)" not in page


def test_without_counted_rows_the_page_says_in_one_line_why_figures_1_and_5_are_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the default store, missing here: no rows at all
    args = ["--no-measure", "--include", "--out", str(tmp_path), "--quiet"]
    assert report_main(args) == 0
    page = (tmp_path / "index.html").read_text()
    paper = page[page.index('<section id="paper">') : page.index('<section id="proxy">')]
    line = next(li for li in re.findall(r"<li>(.*?)</li>", paper) if "Figures 1 and 5" in li)
    assert "paper_table2" in line and "python -m bench run suites/paper_table2.yaml" in line
    assert "fig1_accuracy_vs_params" not in page


def test_the_report_docs_describe_the_first_screen_and_its_budgets() -> None:
    text = re.sub(r"\s+", " ", (ROOT / "docs" / "report.md").read_text())
    assert "## The first screen" in text and glance.TIME_THE_ZOO in text
    macs = ", ".join(f"{g:g}" for g in glance.MACS_BUDGETS_G[:-1]) + f" and {glance.MACS_BUDGETS_G[-1]:g} G"
    ms = ", ".join(f"{m:g}" for m in glance.LATENCY_BUDGETS_MS[:-1]) + f" and {glance.LATENCY_BUDGETS_MS[-1]:g} ms"
    assert f"MACs budgets ({macs})" in text and f"latency budgets ({ms})" in text
