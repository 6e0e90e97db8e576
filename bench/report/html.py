"""``index.html``: one static page (no scripts, no network) with every figure and table."""

from __future__ import annotations

import html
from dataclasses import dataclass

from bench.report.tables import Table, cell

STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:12px;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}figure{margin:1em 0 2em}img{max-width:100%}
figcaption,.caption{font-size:13px;color:#444}.missing{background:#fff4e0;padding:.5em 1em;border-left:4px solid #e90}
.verdict-reproduced{color:#070;font-weight:bold}.verdict-not-reproduced{color:#b00;font-weight:bold}.verdict-inconclusive{color:#777}"""


@dataclass(frozen=True)
class FigureEntry:
    """A written figure: file stem, title and caption (what it shows, where its numbers come from)."""

    stem: str
    title: str
    caption: str


def table_html(table: Table) -> str:
    if table.frame.empty:
        body = "<p><em>(no rows)</em></p>"
    else:
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.frame.columns)
        rows = []
        for record in table.frame.itertuples(index=False):
            cells = []
            for column, value in zip(table.frame.columns, record):
                css = f' class="verdict-{str(value).replace(" ", "-")}"' if column == "verdict" else ""
                cells.append(f"<td{css}>{html.escape(cell(value))}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        body = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    files = f' (<a href="{table.name}.csv">csv</a>, <a href="{table.name}.md">md</a>)'
    return (
        f'<section id="{table.name}"><h2>{html.escape(table.title)}</h2>'
        f'<p class="caption">{html.escape(table.caption)}{files}</p>{body}</section>'
    )


def figure_html(entry: FigureEntry) -> str:
    return (
        f'<figure id="{entry.stem}"><h2>{html.escape(entry.title)}</h2>'
        f'<img src="{entry.stem}.png" alt="{html.escape(entry.title)}">'
        f'<figcaption>{html.escape(entry.caption)} (<a href="{entry.stem}.svg">svg</a>)</figcaption></figure>'
    )


def page(
    title: str, intro: str, missing: list[str], figures: list[FigureEntry], tables: list[Table], conditions: Table
) -> str:
    """The whole page as a string."""
    notes = ""
    if missing:
        items = "".join(f"<li>{html.escape(m)}</li>" for m in missing)
        notes = f'<div class="missing"><strong>Not in this report yet</strong><ul>{items}</ul></div>'
    contents = "".join(f'<li><a href="#{f.stem}">{html.escape(f.title)}</a></li>' for f in figures)
    contents += "".join(f'<li><a href="#{t.name}">{html.escape(t.title)}</a></li>' for t in tables)
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1><p>{html.escape(intro)}</p>{notes}"
        f"<ul>{contents}</ul>{''.join(figure_html(f) for f in figures)}"
        f"{''.join(table_html(t) for t in tables)}{table_html(conditions)}</body></html>"
    )
