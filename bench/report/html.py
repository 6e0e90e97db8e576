"""``index.html``: one static page (no scripts, no network) that opens with its answers.

The first screen: each claim's verdict with its scope, this machine's pick at a few budgets, and a short list
of the sections below. Then the sections, each with its figures, its tables and what it still lacks. Nothing
scrolls the page sideways: wide tables scroll inside their own box, images and figures shrink to the page.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import pandas as pd

from bench.report.tables import Table, cell

#: Page width is capped, every wide table scrolls inside a box of its own (``.wide``), figures shrink to fit,
#: and long words (paths, commands) may break: at 1,280 px nothing scrolls the page sideways.
STYLE = """
body{font-family:system-ui,sans-serif;max-width:1180px;margin:1em auto;padding:0 1em;color:#222;line-height:1.35}
h1{font-size:1.35em;margin:.2em 0}h2{font-size:1.15em;margin:.8em 0 .2em}h3{font-size:1.02em;margin:1em 0 .3em}
.wide{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:12px;margin:.3em 0 1em;line-height:1.25}
table.fit{table-layout:fixed;width:100%}
td,th{border:1px solid #ccc;padding:1px 5px;text-align:right;vertical-align:top}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}table.fit td,table.fit th{text-align:left}
p,li,figcaption,table.fit td{overflow-wrap:anywhere}figure{margin:1em 0 2em}img,svg.figure{max-width:100%;height:auto}
figcaption,.caption{font-size:13px;color:#444;font-weight:normal}.lede{margin:.2em 0;font-size:14px}
.missing{background:#fff4e0;padding:.3em 1em;border-left:4px solid #e90;font-size:13px}
.contents,.sections{font-size:13px}.sections{margin:.2em 0;padding:0}.sections li{display:inline}
.sections li+li:before{content:" \\00b7  "}
.verdict-reproduced{color:#070;font-weight:bold}.verdict-not-reproduced{color:#b00;font-weight:bold}
.verdict-inconclusive{color:#777}
#first-screen table{margin-bottom:.4em}#first-screen .caption{margin:.2em 0}
"""

ABOUT = "How to read this report"
LEDE = (
    "Each claim's verdict and what it speaks for; this machine's pick at a few budgets; then where everything else is."
)


@dataclass(frozen=True)
class FigureEntry:
    """A written figure: file stem, title and caption (what it shows, where its numbers come from); ``svg`` is
    its markup to inline where the page shows the SVG itself (its points named on hover), else ''."""

    stem: str
    title: str
    caption: str
    svg: str = ""


@dataclass(frozen=True)
class Section:
    """A part of the page below the first screen: its figures, its tables and what it still lacks; ``short``
    names it in the first screen's list of sections."""

    id: str
    title: str
    short: str
    figures: list[FigureEntry] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FirstScreen:
    """What the page opens with: the claims (claim, statement, scope, verdict), how they add up, the picks
    table, its caption in short and its note on latency budgets."""

    claims: pd.DataFrame
    tally: str
    picks: Table
    picks_summary: str
    picks_note: str


def _verdict_cell(value: object) -> str:
    return f'<td class="verdict-{str(value).replace(" ", "-")}">{html.escape(cell(value))}</td>'


def _rows(frame: pd.DataFrame) -> str:
    rows = []
    for record in frame.itertuples(index=False):
        cells = [
            _verdict_cell(value) if column == "verdict" else f"<td>{html.escape(cell(value))}</td>"
            for column, value in zip(frame.columns, record)
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "".join(rows)


def _files(name: str) -> str:
    return f' (<a href="{name}.csv">csv</a>, <a href="{name}.md">md</a>)'


def table_html(table: Table) -> str:
    return (
        f'<section id="{table.name}"><h3>{html.escape(table.title)}</h3>'
        f'<p class="caption">{html.escape(table.caption)}{_files(table.name)}</p>{table_html_body(table)}</section>'
    )


def figure_id(stem: str) -> str:
    """A figure's anchor: its stem, marked as a figure (a table may share the stem: proxy_v2_probe)."""
    return f"figure-{stem}"


def figure_html(entry: FigureEntry) -> str:
    alt = html.escape(entry.title)
    shown = entry.svg if entry.svg else f'<img src="{entry.stem}.png" alt="{alt}">'
    files = f'<a href="{entry.stem}.svg">svg</a>' + (f', <a href="{entry.stem}.png">png</a>' if entry.svg else "")
    return (
        f'<figure id="{figure_id(entry.stem)}"><h3>{alt}</h3>{shown}'
        f"<figcaption>{html.escape(entry.caption)} ({files})</figcaption></figure>"
    )


#: The first screen's columns, in order, with their share of the page's width (so that neither table is wider).
VERDICT_COLUMNS = {"claim": "4%", "verdict": "10%", "statement": "42%", "scope": "44%"}
PICK_WIDTHS = ("9%", "9%", "29%", "7%", "7%", "7%", "14%", "9%", "9%")


def _claim_order(claim: object) -> tuple[int, str]:
    """Claims in the paper's order: 1, 3, 4b, 5, ..., 11, then the ones beyond the paper (D1, D1b)."""
    match = re.match(r"(\d+)(.*)", str(claim))
    return (int(match.group(1)), match.group(2)) if match else (10**6, str(claim))


def fit_table(frame: pd.DataFrame, widths: tuple[str, ...], table_id: str) -> str:
    """A table exactly as wide as the page, each column its share of it, text wrapped inside the cells."""
    cols = "".join(f'<col style="width:{w}">' for w in widths)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    return (
        f'<div class="wide"><table class="fit" id="{table_id}"><colgroup>{cols}</colgroup>'
        f"<thead><tr>{head}</tr></thead><tbody>{_rows(frame)}</tbody></table></div>"
    )


def verdicts_html(claims: pd.DataFrame) -> str:
    """Every claim's verdict with its scope, one compact row each, in the paper's order."""
    if claims.empty:
        return "<p><em>(no claims)</em></p>"
    frame = claims.assign(order=claims["claim"].map(_claim_order)).sort_values("order", kind="stable")
    return fit_table(frame[list(VERDICT_COLUMNS)], tuple(VERDICT_COLUMNS.values()), "verdict-table")


def _section_link(section: Section) -> str:
    counts = [f"{len(section.figures)} figure{'s' * (len(section.figures) != 1)}"] if section.figures else []
    counts += [f"{len(section.tables)} table{'s' * (len(section.tables) != 1)}"] if section.tables else []
    counts += [f"{len(section.missing)} not yet made"] if section.missing else []
    return f'<li><a href="#{section.id}">{html.escape(section.short)}</a> ({", ".join(counts)})</li>'


def first_screen_html(title: str, first: FirstScreen, sections: list[Section]) -> str:
    """The page's opening: verdicts with scope, this machine's picks, where everything else is."""
    picks = first.picks
    note = f'<p class="missing">{html.escape(first.picks_note)}</p>' if first.picks_note else ""
    shown = fit_table(picks.frame, PICK_WIDTHS, "pick-table") if not picks.frame.empty else ""
    links = '<li><a href="#about">How to read it</a> (sources, machines)</li>'
    links += "".join(_section_link(s) for s in sections)
    return (
        f'<header id="first-screen"><h1>{html.escape(title)}</h1><p class="lede">{html.escape(LEDE)}</p>'
        f'<h2 id="verdicts">Verdicts <span class="caption">{html.escape(first.tally)}; each holds only within its '
        f'scope. Evidence and tests: <a href="#claims">the claims table</a>.</span></h2>{verdicts_html(first.claims)}'
        f'<h2 id="picks">{html.escape(picks.title)}</h2>{shown}{note}'
        f'<p class="caption">{html.escape(first.picks_summary)}{_files(picks.name)}</p>'
        f'<nav id="where"><h2>Where everything else is</h2><ul class="sections">{links}</ul></nav></header>'
    )


def table_html_body(table: Table) -> str:
    """A table's rows alone, in a box that scrolls sideways if it must (no title, no caption)."""
    if table.frame.empty:
        return "<p><em>(no rows)</em></p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.frame.columns)
    return f'<div class="wide"><table><thead><tr>{head}</tr></thead><tbody>{_rows(table.frame)}</tbody></table></div>'


def section_html(section: Section) -> str:
    items = [(figure_id(f.stem), f.title) for f in section.figures] + [(t.name, t.title) for t in section.tables]
    contents = " &middot; ".join(f'<a href="#{anchor}">{html.escape(name)}</a>' for anchor, name in items)
    missing = ""
    if section.missing:
        lines = "".join(f"<li>{html.escape(m)}</li>" for m in section.missing)
        missing = f'<div class="missing"><strong>Not in this report yet</strong><ul>{lines}</ul></div>'
    return (
        f'<section id="{section.id}"><h2>{html.escape(section.title)}</h2>'
        + (f'<p class="contents">{contents}</p>' if contents else "")
        + missing
        + "".join(figure_html(f) for f in section.figures)
        + "".join(table_html(t) for t in section.tables)
        + "</section>"
    )


def page(title: str, first: FirstScreen, intro: str, notes: list[str], sections: list[Section]) -> str:
    """The whole page as a string: the first screen, how to read the report (and rows left out), then each
    section that has something to show or to say it lacks."""
    kept = [s for s in sections if s.figures or s.tables or s.missing]
    left_out = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    about = (
        f'<section id="about"><h2>{ABOUT}</h2><p>{html.escape(intro)}</p>'
        + (f'<div class="missing"><strong>Rows left out</strong><ul>{left_out}</ul></div>' if notes else "")
        + "</section>"
    )
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>{first_screen_html(title, first, kept)}{about}"
        f"{''.join(section_html(s) for s in kept)}</body></html>"
    )
