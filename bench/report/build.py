"""Assemble the report from a results table: figures, tables, claims, the page. No measuring here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bench.measure.environment import machine_fingerprint
from bench.report import claims, figures, frames, glance, proxy_v2, tables
from bench.report.hover import inline_svg, svg_with_titles
from bench.report.html import FigureEntry, FirstScreen, Section, page
from bench.report.proxy_section import PROXY_FIGURES, proxy_figures, proxy_tables
from bench.report.scaling_cost_section import hw_scaling_section, scaled_cost_section
from bench.report.suite_section import Parts, SectionFigure, suite_section
from bench.report.zoo_section import zoo_section

TITLE = "effbench: EfficientNet (Tan & Le, 2019) comparisons, measured here"
INTRO = (
    "Counts (params, MACs) are exact, from FlopCounterMode on the meta device; MACs are multiply-adds, the "
    "paper's 'FLOPS' (FLOPs = 2 x MACs). Accuracy sources: 'reported' = the paper's ImageNet numbers; "
    "'measured' = trained from scratch here on a small proxy task (Fashion-MNIST), comparable only within "
    "a suite; 'pretrained-eval' = a checkpoint scored here on an image folder. Every timing names the machine it "
    "was measured on: 'this machine' is only ever the one this report was built on, and where it has timed rows "
    "they are the ones shown; rows shipped from another machine are labelled 'measured on' that machine."
)


@dataclass(frozen=True)
class Report:
    """What a report run wrote: file names and what was missing."""

    out: Path
    figures: list[FigureEntry]
    tables: list[tables.Table]
    missing: list[str]


#: Cheap suites ``python -m bench.report`` measures by default: counts for all paper suites, CPU latency
#: for Tables 2 and 4.
DEFAULT_SUITES = (
    "paper_table2",
    "paper_table3",
    "paper_table4",
    "paper_table7",
    "fig3_single_dim",
    "fig8_compound_vs_single",
)
#: Suites the paper sections already show; any other suite the report is given gets a section of its own.
PAPER_SECTION_SUITES = frozenset(
    {
        *DEFAULT_SUITES,
        "throughput_gpu",
        frames.LEARNING_CURVE_SUITE,
        *(f.suite for f in PROXY_FIGURES),
        *proxy_v2.SUITES,
    }
)


def _write_table(table: tables.Table, out: Path) -> None:
    table.frame.to_csv(out / f"{table.name}.csv", index=False)
    (out / f"{table.name}.md").write_text(tables.markdown(table))


def _latency_points(
    results: pd.DataFrame, table2_points: pd.DataFrame, current: str | None
) -> tuple[pd.DataFrame, str, str]:
    """The Table 2 models' latency points, their conditions, and whose timings they are: this machine's alone
    when it has rows, else every other machine's, each a series labelled 'measured on' it."""
    timed = frames.latency(results, "paper_table2")
    chosen = frames.timing_machine(timed, current)
    if chosen is None:
        return timed, "", ""
    if chosen.here:
        timed = timed[frames.machine_ids(timed) == chosen.machine]
    ids = frames.machine_ids(timed)
    labels = {}
    for machine in ids.unique():
        found = frames.timing_machine(timed[ids == machine], current)
        labels[machine] = found.label if found else ""
    timed = timed.assign(machine_label=ids.map(labels))
    points = table2_points.merge(timed[["entry", "latency_ms_p50", "machine_label"]], on="entry")
    points = points.rename(columns={"latency_ms_p50": "latency_ms"})
    r = timed.iloc[0]
    where = (
        chosen.label if timed["machine_label"].nunique() == 1 else f"{timed['machine_label'].nunique()} other machines"
    )
    return points, f"CPU batch {int(r['batch_size'])}, {int(r['threads'])} thread(s)", where


#: The page's sections below the first screen, in order: id, title, and a short name for the first screen.
SECTIONS = {
    "evidence": ("Claims: the evidence and tests behind each verdict", "Claims"),
    "paper": ("The paper's figures and tables, counted and timed here", "The paper's figures and tables"),
    "proxy": ("Scaling trained here: the proxy experiments (Fashion-MNIST)", "Proxy experiments"),
    "suites": ("Your suites", "Your suites"),
    "beyond": ("Beyond the paper: the timm zoo, what predicts runtime, hardware-aware scaling", "Beyond the paper"),
    "environment": ("Conditions: machine, versions, threads, date, commit", "Conditions"),
}


def build_report(results: pd.DataFrame, out: Path, environment: dict, suites: Sequence[str] = ()) -> Report:
    """Write every figure (PNG + SVG), every table (CSV + MD) and index.html into ``out``. Each of
    ``suites`` (names) that no paper section shows gets a section of its own (bench.report.suite_section)."""
    out.mkdir(parents=True, exist_ok=True)
    results, left_out = frames.usable_rows(frames.latest(results))
    current = machine_fingerprint(environment) if environment.get("cpu") else None
    claims_table = _claims_table(results, current)
    paper, proxy = _paper_figures(results, current), proxy_figures(results)
    paper.add(_paper_tables(results, current))
    proxy.add(proxy_tables(results))
    parts = {
        "evidence": Parts(tables=[claims_table]),
        "paper": paper,
        "proxy": proxy,
        "suites": _own_suites(results, suites, current),
        "beyond": _beyond_the_paper(results, current),
        "environment": Parts(tables=[tables.conditions_table(results, environment)]),
    }
    sections = [_write_section(key, *SECTIONS[key], part, out) for key, part in parts.items()]
    picks = glance.budget_picks(results, current)
    _write_table(picks.table, out)
    tally = glance.verdict_counts(claims_table.frame)
    first = FirstScreen(claims_table.frame, tally, picks.table, picks.summary, picks.latency_note)
    (out / "index.html").write_text(page(TITLE, first, INTRO, left_out, sections))
    return Report(
        out,
        [f for s in sections for f in s.figures],
        [t for s in sections if s.id != "environment" for t in s.tables] + [picks.table],
        left_out + [m for s in sections for m in s.missing],
    )


def _write_section(key: str, title: str, short: str, parts: Parts, out: Path) -> Section:
    """Write a section's figures (PNG + SVG; a figure with hover text gets its SVG titled and inlined) and
    tables (CSV + MD); an empty table joins what the section lacks."""
    entries = []
    for drawn in parts.figures:
        figures.save(drawn.figure, out / drawn.stem)
        svg = ""
        if drawn.hover:
            path = (out / drawn.stem).with_suffix(".svg")
            path.write_text(svg_with_titles(path.read_text(), dict(drawn.hover)))
            svg = inline_svg(path.read_text(), drawn.stem)
        entries.append(FigureEntry(drawn.stem, drawn.title, drawn.caption, svg))
    for table in parts.tables:
        _write_table(table, out)
    missing = parts.missing + [f"{t.title}: {t.caption}" for t in parts.tables if t.frame.empty]
    return Section(key, title, short, entries, parts.tables, missing)


def _paper_figures(results: pd.DataFrame, current: str | None) -> Parts:
    """Figures 1 and 5 (the paper's top-1 against counts here), and top-1 against CPU latency and GPU throughput."""
    parts = Parts()
    comparison = frames.paper_comparison(results, "table2", "paper_table2")
    points = figures.table2_points(comparison)
    if comparison["macs_b_ours"].notna().any():
        parts.figures += [
            SectionFigure(
                "fig1_accuracy_vs_params",
                "Figure 1 analogue: ImageNet top-1 vs parameters",
                "EfficientNet B0-B7 against the Table 2 comparison ConvNets. x: parameters counted here (squares: "
                "models timm lacks, the paper's count); y: the paper's reported top-1 (hollow markers). Lines: "
                "Pareto frontier of each family.",
                figures.accuracy_vs_cost(
                    points, "params_m", "parameters (millions), log scale", "Figure 1 analogue: accuracy vs params"
                ),
            ),
            SectionFigure(
                "fig5_accuracy_vs_macs",
                "Figure 5 analogue: ImageNet top-1 vs MACs",
                "As Figure 1 with MACs counted here on the x axis (the paper's FLOPS are multiply-adds).",
                figures.accuracy_vs_cost(
                    points, "macs_b", "MACs (billions, multiply-adds), log scale", "Figure 5 analogue: accuracy vs MACs"
                ),
            ),
        ]
    else:
        parts.missing.append(
            "Table 2 counts (Figures 1 and 5): the rows given have no exact counts of suite paper_table2 (a clone "
            "ships them in reports/measured/paper_counts.csv); python -m bench run suites/paper_table2.yaml "
            "counts them"
        )
    latency_points, conditions, where = _latency_points(results, points, current)
    if not latency_points.empty:
        parts.figures.append(
            SectionFigure(
                "fig_accuracy_vs_cpu_latency",
                f"New: ImageNet top-1 vs CPU latency, {where}",
                f"x: median latency ({conditions}, {where}); y: the paper's reported top-1. Which model is "
                f"best for a latency budget there."
                + (
                    ""
                    if where.startswith("this machine")
                    else " No row of this machine: run python -m bench run suites/paper_table2.yaml to time them here."
                ),
                figures.accuracy_vs_latency(latency_points, f"{conditions}, {where}"),
            )
        )
    else:
        parts.missing.append("CPU latency of the Table 2 models: python -m bench run suites/paper_table2.yaml")
    gpu = frames.best_throughput(results, "throughput_gpu")
    chosen = frames.timing_machine(gpu, current)
    if chosen is not None:
        gpu = gpu[frames.machine_ids(gpu) == chosen.machine]
    if chosen is not None and gpu["top1_reported"].notna().any():
        r = gpu.iloc[0]
        conditions = f"{r['gpu'] or r['device']}, {r['precision']}, {r['memory_format']}"
        parts.figures.append(
            SectionFigure(
                "fig_accuracy_vs_gpu_throughput",
                f"New: ImageNet top-1 vs GPU throughput, {chosen.label}",
                f"x: images/s ({conditions}, {chosen.label}), the best batch of each model's sweep; y: the paper's "
                "reported top-1. Models without a paper row are left out.",
                figures.accuracy_vs_throughput(gpu, f"{conditions}, {chosen.label}"),
            )
        )
    else:
        parts.missing.append(
            "GPU throughput: python -m bench run suites/throughput_gpu.yaml (on a machine with a CUDA GPU)"
        )
    return parts


def _claims_table(results: pd.DataFrame, current: str | None) -> tables.Table:
    """Every testable claim with its scope, evidence and verdict."""
    return tables.Table(
        "claims",
        "Claims of the paper: verdicts",
        "Each testable claim, the scope its verdict speaks for, the evidence from our rows, and a verdict: "
        "reproduced, not reproduced or inconclusive. Count ratios reproduce within 15%. Proxy v2 verdicts "
        f"follow the protocol fixed before their runs ({proxy_v2.PROTOCOL}: pooled-variance t-tests, Holm); "
        "v1 proxy verdicts (the 1x1-map regime) count differences only where Welch's t-test over seeds, "
        "Holm-corrected across the claim's alternatives, finds them at the 5% level. Every interval is at "
        "the level Holm judged its comparison by, so it excludes 0 exactly when Holm rejects.",
        claims.claims_table(results, current),
    )


def _paper_tables(results: pd.DataFrame, current: str | None) -> Parts:
    """The paper's tables beside ours (counts, latency ratios) and the pretrained evaluations."""
    return Parts(
        tables=[
            tables.comparison_table(results, "table2", "paper_table2", "Table 2: params and MACs, paper vs ours"),
            tables.comparison_table(
                results, "table3", "paper_table3", "Table 3: scaling MobileNets and ResNet-50, paper vs ours"
            ),
            tables.comparison_table(results, "table7", "paper_table7", "Table 7: scaling B0 four ways, paper vs ours"),
            tables.latency_ratio_table(results, current=current),
            tables.pretrained_table(results),
        ]
    )


def _own_suites(results: pd.DataFrame, suites: Sequence[str], current: str | None) -> Parts:
    """A section for each suite given that no paper section shows."""
    parts = Parts()
    for suite in dict.fromkeys(s for s in suites if s not in PAPER_SECTION_SUITES):
        section = suite_section(results, suite, current)
        if section is None:
            parts.missing.append(
                f"suite {suite}: no rows in the results given (python -m bench run it, or pass --results)"
            )
            continue
        parts.tables.append(section.table)
        parts.figures += section.figures
    return parts


def _beyond_the_paper(results: pd.DataFrame, current: str | None) -> Parts:
    """The zoo's frontier here, which cost predicts runtime, and hardware-aware compound scaling."""
    parts = Parts()
    for build, hint in (
        (zoo_section, "the timm zoo's frontier on this machine: python -m bench pick --latency-ms 30"),
        (scaled_cost_section, "costs against runtime of scaled nets: python -m bench run suites/scaled_cost_cpu.yaml"),
        (hw_scaling_section, "hardware-aware compound scaling: python -m bench scale --latency-ratio 2"),
    ):
        section_tables, section_figures = build(results, current)
        if not section_tables:
            parts.missing.append(hint)
        parts.tables += section_tables
        parts.figures += section_figures
    return parts
