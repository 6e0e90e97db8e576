"""A crowded scatter that stays legible: only the frontier is named on the figure, every point is named on
hover (an SVG ``<title>`` per point, the page inlines that SVG), and names are placed so that none overlaps
another.

Each point is its own matplotlib artist with a ``gid``; the SVG backend writes it as ``<g id="gid">``, and
``svg_with_titles`` puts a ``<title>`` first inside that group, which a browser shows as a tooltip.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox

#: Where a name may go, tried in order (offset in points from its point, horizontal alignment): up and to
#: the left first, since nothing lies above-left of a frontier point (none is both faster and more accurate),
#: then the other sides, then the same directions twice and three times as far; a thin line joins each name
#: to its point.
DIRECTIONS = (
    (-6, 5, "right"),
    (-8, -4, "right"),
    (6, -9, "left"),
    (-4, 12, "right"),
    (-6, -14, "right"),
    (8, 4, "left"),
)
LABEL_OFFSETS = tuple((dx * scale, dy * scale, ha) for scale in (1, 2, 3) for dx, dy, ha in DIRECTIONS)
#: Gid prefix of the hoverable points.
POINT_GID = "point-"


@dataclass(frozen=True)
class HoverFigure:
    """A figure and the hover text of each point, by the point's gid."""

    figure: Figure
    titles: dict[str, str]


def _name(ax: Axes, name: str, xy: tuple[float, float], offset: tuple[float, float, str], fontsize: float):
    dx, dy, ha = offset
    leader = {"arrowstyle": "-", "color": "grey", "lw": 0.5, "shrinkA": 1, "shrinkB": 3}
    leader["relpos"] = (1.0, 0.5) if ha == "right" else (0.0, 0.5)
    return ax.annotate(
        name, xy, xytext=(dx, dy), textcoords="offset points", ha=ha, va="center", fontsize=fontsize, arrowprops=leader
    )


def name_box(text, renderer) -> Bbox:
    """Where a name is drawn (display units): the text alone, not its leader line."""
    text.update_positions(renderer)
    return Text.get_window_extent(text, renderer)


def place_labels(ax: Axes, points: Sequence[tuple[float, float, str]], fontsize: float = 7) -> list[Bbox]:
    """Name each (x, y, name) at the first of ``LABEL_OFFSETS`` where the name covers no other name and no
    named point and stays inside the axes (else at the first offset). The figure is drawn first, so the axes'
    limits and layout are final. Returns the names' boxes (display units)."""
    figure = ax.get_figure()
    assert isinstance(figure, Figure)
    figure.canvas.draw()
    figure.set_layout_engine("none")  # freeze the layout: the boxes measured here stay where they are
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    inside = ax.get_window_extent(renderer)
    marker = 4 * figure.dpi / 72  # half a marker's width, in pixels
    obstacles = (
        [
            Bbox.from_extents(px - marker, py - marker, px + marker, py + marker)
            for px, py in ax.transData.transform([(x, y) for x, y, _ in points])
        ]
        if points
        else []
    )
    placed: list[Bbox] = []
    for x, y, name in points:
        for offset in LABEL_OFFSETS:
            text = _name(ax, name, (x, y), offset, fontsize)
            box = name_box(text, renderer)
            fits = inside.contains(box.x0, box.y0) and inside.contains(box.x1, box.y1)
            if fits and not any(box.overlaps(other) for other in placed + obstacles):
                break
            text.remove()
        else:  # nowhere free: the first place
            box = name_box(_name(ax, name, (x, y), LABEL_OFFSETS[0], fontsize), renderer)
        placed.append(box)
    return placed


def frontier_scatter(
    points: pd.DataFrame,
    x: tuple[str, str],
    y: tuple[str, str],
    title: str,
    mask: Sequence[bool],
    highlight_label: str,
) -> HoverFigure:
    """``y`` against ``x`` (log x) for many points: the frontier (``mask``) joined by a line and named; the rest
    drawn, not named, each with its hover text (its ``name`` column, and its ``hover`` column where given);
    points with ``highlight`` set drawn in black."""
    fig, ax = plt.subplots(figsize=(8, 5.5), layout="constrained")
    points = points.reset_index(drop=True)
    on_edge = pd.Series(list(mask), index=points.index, dtype=bool)
    marked = points["highlight"].fillna(False).astype(bool) if "highlight" in points else on_edge & False
    titles = {}
    for index, row in points.iterrows():
        gid = f"{POINT_GID}{index}"
        colour = "black" if marked[index] else "tab:red"
        ax.plot(row[x[0]], row[y[0]], "o", color=colour, ms=5, alpha=1 if on_edge[index] else 0.55, gid=gid)
        titles[gid] = str(row["name"]) + (f": {row['hover']}" if "hover" in points else "")
    edge = points[on_edge].sort_values(x[0])
    ax.plot(
        edge[x[0]], edge[y[0]], color="tab:red", lw=1, alpha=0.6, label="frontier (named; hover a point for any name)"
    )
    if marked.any():
        ax.plot([], [], "o", color="black", ms=5, label=highlight_label)
    ax.set_xscale("log")
    ax.set_xlabel(x[1])
    ax.set_ylabel(y[1])
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="lower right")
    place_labels(ax, [(r[x[0]], r[y[0]], str(r["name"])) for _, r in edge.iterrows()])
    return HoverFigure(fig, titles)


def svg_with_titles(svg: str, titles: dict[str, str]) -> str:
    """``svg`` with a ``<title>`` first inside each group whose id is a key of ``titles``."""

    def titled(match: re.Match[str]) -> str:
        text = titles.get(match.group(2))
        return match.group(0) if text is None else f"{match.group(0)}<title>{html.escape(text)}</title>"

    return re.sub(r'(<g id="([^"]+)"[^>]*>)', titled, svg)


def inline_svg(svg: str, prefix: str) -> str:
    """An SVG file's markup to put inside an HTML page: no XML prologue or doctype, no metadata, no namespace
    declarations (HTML gives inline ``<svg>`` its namespace; the page names no address), every id and
    reference to one prefixed with ``prefix`` (ids are page-wide once inlined), scaled to its container."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
    return svg.replace("<svg ", '<svg class="figure" role="img" ', 1)
