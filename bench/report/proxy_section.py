"""The report's proxy section: scaling trained here on Fashion-MNIST (proxy v1 and v2). Its figures (measured
top-1 against MACs or input size, the learning curve) and tables (each proxy suite, v2's decisions and
deviations, the regime). Pure functions over the results table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure

from bench.report import figures, frames, proxy_v2, tables
from bench.report.regime_section import regime_table
from bench.report.suite_section import Parts, SectionFigure


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


def proxy_figures(results: pd.DataFrame) -> Parts:
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


def proxy_tables(results: pd.DataFrame) -> Parts:
    """The proxy experiments' tables: v2's decisions and deviations, each proxy suite, the learning curve."""
    return Parts(
        tables=[
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
        ]
    )
