"""Assemble the report from a results table: figures, tables, claims, the page. No measuring here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from bench.environment import machine_fingerprint
from bench.report import claims, figures, frames, proxy_v2, tables
from bench.report.html import FigureEntry, page
from bench.report.regime_section import regime_table
from bench.report.scaling_cost_section import hw_scaling_section, scaled_cost_section
from bench.report.suite_section import SectionFigure, suite_section
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


@dataclass(frozen=True)
class ProxyFigure:
    """A figure over one proxy suite's measured accuracy rows."""

    suite: str
    stem: str
    title: str
    caption: str
    draw: Callable[[pd.DataFrame, str], Figure]


V1 = "proxy v1, the 1x1-map regime: 14 px base, total stride 32"
PROXY_FIGURES = (
    ProxyFigure(
        proxy_v2.PROBE,
        "proxy_v2_probe",
        "Proxy v2 probe: B0's validation top-1 against its input size, at total stride 8 and 32",
        "against the input size: B0 at total stride 8 (its stages 5 and 7 at stride 1) from 12 to 28 px, and at "
        "stride 32 (v1's geometry) at 14 px; each point's MACs named. Validation split (10,000 training images "
        "held out); the protocol's headroom check reads 28 px against 14 px.",
        lambda rows, budget: figures.probe(rows),
    ),
    ProxyFigure(
        proxy_v2.FIG8,
        "fig8_proxy_v2_compound_vs_single",
        "Figure 8 analogue, proxy v2 (total stride 8): compound vs single-dimension scaling of B0 at 2x its MACs",
        "against MACs: B0, its compound model (the paper's alpha, beta, gamma) and its width-, depth- and "
        "resolution-only models at 2x B0's MACs (resolution 2.18x: no input size costs 2x at stride 8), "
        "test split.",
        lambda rows, budget: figures.compound_vs_single(rows),
    ),
    ProxyFigure(
        "proxy_fig3_single_dim",
        "fig3_proxy_single_dimension",
        f"Figure 3 analogue: single-dimension scaling of B0 ({V1})",
        "against MACs at the proxy resolution: B0 scaled by width, depth and resolution alone.",
        figures.single_dimension_panels,
    ),
    ProxyFigure(
        "proxy_fig8_table7",
        "fig8_proxy_compound_vs_single",
        f"Figure 8 analogue: compound vs single-dimension scaling of B0 ({V1})",
        "against MACs at the proxy resolution: the Table 7 models, and width-, depth- and resolution-only "
        "variants solved to the compound model's MACs.",
        lambda rows, budget: figures.compound_vs_single(rows),
    ),
    ProxyFigure(
        "proxy_table3",
        "table3_proxy_networks",
        f"Table 3 analogue: MobileNetV1/V2 and ResNet-18, compound vs single-dimension scaling ({V1})",
        "against MACs at the proxy resolution: each network, its compound model, and the single-dimension "
        "variants solved to the compound model's MACs (each panel names those it has).",
        lambda rows, budget: figures.networks_compound_vs_single(rows),
    ),
    ProxyFigure(
        "proxy_grid_search",
        "grid_search_proxy",
        f"Grid search at phi = 1 ({V1})",
        "against the input size: B0 scaled to about twice its MACs, split between resolution (x axis), depth "
        "(a line per alpha) and width (solved to the target, labelled), and the paper's alpha=1.2, beta=1.1, "
        "gamma=1.15 (star; its MACs in the legend).",
        lambda rows, budget: figures.grid_search(rows, frames.GRID_PAPER_ENTRY),
    ),
)


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


@dataclass
class Parts:
    """What one part of the report adds: figures, tables, and lines saying what is missing and how to make it."""

    figures: list[SectionFigure] = field(default_factory=list)
    tables: list[tables.Table] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def add(self, other: Parts) -> None:
        self.figures += other.figures
        self.tables += other.tables
        self.missing += other.missing


def build_report(results: pd.DataFrame, out: Path, environment: dict, suites: Sequence[str] = ()) -> Report:
    """Write every figure (PNG + SVG), every table (CSV + MD) and index.html into ``out``. Each of
    ``suites`` (names) that no paper section shows gets a section of its own (bench.report.suite_section)."""
    out.mkdir(parents=True, exist_ok=True)
    results, left_out = frames.usable_rows(frames.latest(results))
    current = machine_fingerprint(environment) if environment.get("cpu") else None
    parts = Parts(missing=list(left_out))
    parts.add(_paper_figures(results, current))
    parts.add(_proxy_figures(results))
    parts.add(_paper_tables(results, current))
    parts.add(_own_suites(results, suites, current))
    parts.add(_beyond_the_paper(results, current))
    parts.missing += [f"{t.title}: {t.caption}" for t in parts.tables if t.frame.empty]
    figure_entries = []
    for drawn in parts.figures:
        figures.save(drawn.figure, out / drawn.stem)
        figure_entries.append(FigureEntry(drawn.stem, drawn.title, drawn.caption))
    conditions_table = tables.conditions_table(results, environment)
    for table in parts.tables + [conditions_table]:
        _write_table(table, out)
    (out / "index.html").write_text(page(TITLE, INTRO, parts.missing, figure_entries, parts.tables, conditions_table))
    return Report(out, figure_entries, parts.tables, parts.missing)


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
        parts.missing.append("Table 2 counts (Figures 1 and 5): python -m bench run suites/paper_table2.yaml")
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


def _proxy_figures(results: pd.DataFrame) -> Parts:
    """The proxy suites' figures (measured top-1 against MACs) and the learning curve."""
    parts = Parts()
    for figure in PROXY_FIGURES:
        rows = frames.measured_accuracy(results, figure.suite)
        if rows.empty:
            parts.missing.append(f"{figure.title}: python -m bench run suites/{figure.suite}.yaml")
            continue
        budget = frames.budget_summary(rows["budget"].iloc[0])
        parts.figures.append(
            SectionFigure(
                figure.stem,
                figure.title,
                f"Top-1 trained from scratch here (source: measured; {figures.ERROR_BARS}; a ring marks an "
                f"upsampled input) {figure.caption} Budget: {budget}.",
                figure.draw(rows, budget),
            )
        )
    curve = frames.learning_curve(results)
    if not curve.empty:
        parts.figures.append(
            SectionFigure(
                "proxy_learning_curve",
                "Proxy budget: the learning curve",
                "Top-1 trained from scratch here (source: measured, one seed per point) against the epochs of "
                "the run; the proxy suites train for the smallest E at which 2E gains at most "
                f"{frames.CONVERGED_GAIN:g} points. Budget: {frames.curve_budget(curve)}.",
                figures.learning_curve(curve),
            )
        )
    return parts


def _paper_tables(results: pd.DataFrame, current: str | None) -> Parts:
    """The claims table, the paper's tables beside ours, and the proxy and pretrained tables."""
    return Parts(
        tables=[
            tables.Table(
                "claims",
                "Claims of the paper: verdicts",
                "Each testable claim, the scope its verdict speaks for, the evidence from our rows, and a verdict: "
                "reproduced, not reproduced or inconclusive. Count ratios reproduce within 15%. Proxy v2 verdicts "
                f"follow the protocol fixed before their runs ({proxy_v2.PROTOCOL}: pooled-variance t-tests, Holm); "
                "v1 proxy verdicts (the 1x1-map regime) count differences only where Welch's t-test over seeds, "
                "Holm-corrected across the claim's alternatives, finds them at the 5% level. Every interval is at "
                "the level Holm judged its comparison by, so it excludes 0 exactly when Holm rejects.",
                claims.claims_table(results, current),
            ),
            tables.comparison_table(results, "table2", "paper_table2", "Table 2: params and MACs, paper vs ours"),
            tables.comparison_table(
                results, "table3", "paper_table3", "Table 3: scaling MobileNets and ResNet-50, paper vs ours"
            ),
            tables.comparison_table(results, "table7", "paper_table7", "Table 7: scaling B0 four ways, paper vs ours"),
            tables.latency_ratio_table(results, current=current),
            tables.v2_decisions_table(results),
            tables.deviations_table(),
            tables.proxy_table(results, proxy_v2.FIG8, "Proxy v2: B0 compound vs single dimension at 2x MACs"),
            tables.proxy_table(results, proxy_v2.GRID, "Proxy v2: grid search at phi = 1 (screen and finals)"),
            tables.proxy_table(results, proxy_v2.PROBE, "Proxy v2: probe (B0 at its input sizes and strides)"),
            tables.proxy_table(results, proxy_v2.AUGMENT, "Proxy v2: B0 with crop + flip augmentation"),
            tables.proxy_table(results, proxy_v2.CURVE, "Proxy v2: learning curve", curve=True),
            regime_table(results),
            tables.proxy_table(
                results, "proxy_fig8_table7", f"Proxy: B0 compound vs single dimension (Fig. 8 / Table 7; {V1})"
            ),
            tables.proxy_table(
                results, "proxy_table3", f"Proxy: MobileNetV1/V2, ResNet-18 compound vs single (Table 3; {V1})"
            ),
            tables.proxy_table(results, "proxy_fig3_single_dim", f"Proxy: B0 single-dimension scaling (Fig. 3; {V1})"),
            tables.proxy_table(
                results,
                "proxy_grid_search",
                f"Proxy: grid search at phi = 1, 2x B0's MACs split between depth, width and resolution ({V1})",
            ),
            tables.learning_curve_table(results),
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
