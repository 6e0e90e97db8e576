"""The report's zoo section: the accuracy-latency frontier of timm's zoo on this machine, and which cost
metric predicts the runtime measured here (bench.zoo.select, bench.zoo.predictors)."""

from __future__ import annotations

import pandas as pd

from bench.reference import TIMM_RESULTS_ORIGIN
from bench.report import frames
from bench.report.hover import frontier_scatter
from bench.report.suite_section import SectionFigure
from bench.report.tables import Table
from bench.zoo import predictors
from bench.zoo import select as zoo
from bench.zoo.pareto import pareto_mask


def zoo_section(results: pd.DataFrame, current: str | None = None) -> tuple[list[Table], list[SectionFigure]]:
    """Tables and figures of the ``zoo_frontier`` rows of this machine (``current``) where it has them, else of
    the machine with the most, named as such; none without."""
    timed = results[(results["suite"] == zoo.ZOO_SUITE) & (results["measurement"] == "latency")]
    chosen = frames.timing_machine(timed, current)
    if chosen is None:
        return [], []
    points = zoo.zoo_points(results, machine=chosen.machine)
    points = points[points["top1"].notna()].reset_index(drop=True)
    if points.empty:
        return [], []
    r = timed[frames.machine_ids(timed) == chosen.machine].iloc[0]
    where = f"{r['device']}, batch {int(r['batch_size'])}, {int(r['threads'])} thread(s), {chosen.label}"
    mask = pareto_mask(points["latency_ms"].tolist(), points["top1"].tolist())
    frontier = points[mask].sort_values("latency_ms")
    drawn = frontier_scatter(
        points.assign(name=points["base"], hover=_hover(points), highlight=points["base"].isin(zoo.PAPER_MODELS)),
        ("latency_ms", "median latency (ms), log scale"),
        ("top1", "ImageNet top-1 (%), reported-timm"),
        f"timm zoo, {chosen.label}",
        mask,
        highlight_label="the paper's B0-B6 (tf_efficientnet_b*)",
    )
    figure = SectionFigure(
        "zoo_accuracy_vs_latency",
        f"New: the timm zoo's accuracy-latency frontier, {chosen.label} ({len(points)} models)",
        f"x: median latency ({where}); y: timm's published ImageNet top-1 for the model's "
        "ImageNet-1k-only weights (timm's default tag where it is ImageNet-1k only, else its best such tag; "
        f"source reported-timm: {TIMM_RESULTS_ORIGIN}); the line joins the models no other is both "
        "faster and more accurate than, and only they are named; hover any point for its name, tag, top-1, "
        "latency and counts. Black: the paper's B0-B6 (timm's tf_efficientnet_b*; their default tag is Noisy "
        "Student's).",
        drawn.figure,
        hover=tuple(drawn.titles.items()),
    )
    ranks = predictors.rank_table(points)
    worst = pd.DataFrame({"MACs mis-rank runtime": predictors.misrankings(points, "macs_g")})
    return [
        Table(
            "zoo_frontier",
            f"The timm zoo's frontier, {chosen.label}",
            f"The models no other beats in both latency ({where}) and reported-timm top-1.",
            frontier[["base", "tag", "input_size", "top1", "latency_ms", "macs_g", "params_m"]],
        ),
        Table(
            "cost_predictors",
            f"Which cost metric predicts runtime ({chosen.label})?",
            "Spearman's rho of params, MACs and activations (counted exactly) against median latency "
            f"({where}), and the R² of a log-log fit, over all zoo models and per family. Dollár et al. "
            "(2021) report activations predict GPU runtime better than FLOPs; the rho columns test that on "
            "the machine named.",
            ranks,
        ),
        Table("cost_misrankings", "Where MACs mis-rank runtime most", "Pairs ordered by cost ratio x slowdown.", worst),
    ], [figure]


def _hover(points: pd.DataFrame) -> pd.Series:
    """Each zoo point's hover text: its tag and size, top-1, latency and counts."""
    return pd.Series(
        [
            f"{r['tag']} at {int(r['input_size'])} px, top-1 {r['top1']:.2f}% (reported-timm), "
            f"{r['latency_ms']:.1f} ms, {r['macs_g']:.2f} G MACs, {r['params_m']:.1f} M params"
            for r in points.to_dict("records")
        ],
        index=points.index,
        dtype=object,
    )
