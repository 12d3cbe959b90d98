"""The monitors' report of a scored file, in the shapes they pass on: one self-contained
HTML page (tables and plots embedded as base64 PNG), an XLSX workbook with one sheet per
table, and one CSV per table. The tables are those of :mod:`netral_nlp.rollups`.

Every text from the data is escaped in HTML, and a cell that a spreadsheet would run as
a formula (starting with =, +, - or @) is written as text. matplotlib and openpyxl are
the ``[report]`` extra, imported only here, inside the functions that need them.
"""

from __future__ import annotations

import base64
import csv
import html
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .labels import CATEGORY_BY_NAME, CATEGORY_NAMES, display_name
from .rollups import STATUSES, Item, Rollup, Table, ranked_items, rollup, tables

PLOT_ROWS = 15  # bars in a plot: the largest groups
HTML_MAX_ROWS = 1000  # rows of one table on the page; the XLSX and CSVs have them all
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Written:
    """Paths of what :func:`write_reports` wrote, and the counts it read."""

    rows: int
    flagged: int
    paths: list[Path]


def write_reports(
    scored: str | Path,
    html_path: str | Path | None = None,
    xlsx_path: str | Path | None = None,
    csv_dir: str | Path | None = None,
) -> Written:
    """Read ``scored`` (a file or run directory written by ``netral score``) once and write
    the report in each format asked for."""
    result = rollup(scored)
    made = tables(result)
    paths: list[Path] = []
    if html_path is not None:
        paths.append(write_html(result, made, Path(html_path)))
    if xlsx_path is not None:
        paths.append(write_xlsx(result, made, Path(xlsx_path)))
    if csv_dir is not None:
        paths.extend(write_csv(made, Path(csv_dir)))
    return Written(result.rows, result.flagged, paths)


def _require(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ValueError(f"the report needs {module}: pip install 'netral-nlp[report]'") from exc


# --------------------------------------------------------------------------- cells


def cell_text(value: Any) -> str:
    """A cell as plain text: lists joined with " | ", None empty."""
    if value is None:
        return ""
    if isinstance(value, list):
        return " | ".join(cell_text(v) for v in value)
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value else "0"
    return str(value)


def _safe(value: Any) -> Any:
    """A spreadsheet cell: numbers as they are, text that would start a formula with a
    leading apostrophe (the usual CSV-injection guard)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = cell_text(value)
    if len(text) > 1 and text.startswith(_FORMULA_START):
        return "'" + text
    return text


# --------------------------------------------------------------------------- CSV


def write_csv(made: list[Table], directory: Path) -> list[Path]:
    """One ``<table>.csv`` per table in ``directory`` (UTF-8 with BOM, so spreadsheets
    read Indonesian text right); a table's note, if any, goes to ``notes.txt``."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for table in made:
        path = directory / f"{table.name}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(table.columns)
            writer.writerows([_safe(v) for v in row] for row in table.rows)
        paths.append(path)
    notes = [f"{t.name}: {t.note}" for t in made if t.note]
    if notes:
        path = directory / "notes.txt"
        path.write_text("\n".join(notes) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


# --------------------------------------------------------------------------- XLSX


def write_xlsx(result: Rollup, made: list[Table], path: Path) -> Path:
    """A workbook: a summary sheet ("ringkasan"), then one sheet per table named as the
    table; the evidence sheet's ``status`` column offers the monitors' statuses."""
    openpyxl = _require("openpyxl")
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    book = openpyxl.Workbook()
    summary = book.active
    summary.title = "ringkasan"
    for key, value in _summary(result):
        summary.append([key, _safe(value)])
    for table in made:
        if table.note:
            summary.append([f"catatan {table.name}", _safe(table.note)])
    bold = Font(bold=True)
    for table in made:
        sheet = book.create_sheet(table.name[:31])
        sheet.append(table.columns)
        for cell in sheet[1]:
            cell.font = bold
        for row in table.rows:
            values = [_safe(v) for v in row]
            values = [ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values]
            sheet.append(values)
        for cells in sheet.iter_rows(min_row=2):
            for cell in cells:
                if cell.data_type == "f":  # a guarded value is text, never a formula
                    cell.data_type = "s"
        sheet.freeze_panes = "A2"
        if table.name == "bukti" and table.rows:
            column = openpyxl.utils.get_column_letter(table.columns.index("status") + 1)
            check = DataValidation(type="list", formula1=f'"{",".join(STATUSES)}"')
            check.add(f"{column}2:{column}{len(table.rows) + 1}")
            sheet.add_data_validation(check)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def _summary(result: Rollup) -> list[tuple[str, Any]]:
    share = result.flagged / result.rows if result.rows else 0.0
    return [
        ("berkas", result.source),
        ("dibuat", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("baris", result.rows),
        ("temuan", result.flagged),
        ("bagian temuan", round(share, 4)),
        ("akun dengan temuan", sum(1 for a in result.accounts.values() if a.flagged)),
        ("model", ", ".join(sorted(result.models)) or "-"),
        ("baris tak terbaca", result.unreadable),
    ]


# --------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:80rem}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2.2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:.85rem;margin:.6rem 0}
th,td{border:1px solid #ddd;padding:.25rem .5rem;vertical-align:top;text-align:left}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#8a5a00;font-size:.85rem}img{max-width:100%;display:block;margin:.5rem 0}
mark.actor{background:#ffd6a5}mark.act{background:#bde0fe}
nav a{margin-right:.8rem}ul.ev{margin:0;padding-left:1rem}div.wide{overflow-x:auto}
"""


def write_html(result: Rollup, made: list[Table], path: Path) -> Path:
    """One self-contained page: summary, a section per table (with a plot for province,
    instansi, jabatan, category and week), the legend of categories and highlights."""
    plots = _plots(made)
    parts = [
        "<!doctype html><html lang='id'><head><meta charset='utf-8'>",
        "<title>Laporan netralitas ASN</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Laporan pemantauan netralitas ASN</h1>",
        _summary_html(result),
        "<nav>" + "".join(f"<a href='#{t.name}'>{_e(t.title)}</a>" for t in made) + "</nav>",
        _legend_html(),
    ]
    for table in made:
        parts.append(f"<section id='{table.name}'><h2>{_e(table.title)}</h2>")
        if table.note:
            parts.append(f"<p class='note'>{_e(table.note)}</p>")
        if len(table.rows) > HTML_MAX_ROWS:
            cut = f"the first {HTML_MAX_ROWS:,} of {len(table.rows):,} rows; the XLSX and CSV have all"
            parts.append(f"<p class='note'>{_e(cut)}</p>")
        if table.name in plots:
            parts.append(
                f"<img alt='{_e(table.title)}' src='data:image/png;base64,{plots[table.name]}'>"
            )
        items = ranked_items(result) if table.name == "bukti" else None
        parts.append(_table_html(table, items))
        parts.append("</section>")
    parts.append("</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _e(value: Any) -> str:
    return html.escape(cell_text(value), quote=True)


def _summary_html(result: Rollup) -> str:
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in _summary(result))
    return f"<section id='ringkasan'><table>{rows}</table></section>"


def _legend_html() -> str:
    cats = "".join(
        f"<li><code>{_e(c)}</code>: {_e(display_name(c, 'id'))}</li>" for c in CATEGORY_NAMES
    )
    return (
        f"<p>Kategori:</p><ul>{cats}</ul><p>Sorotan: <mark class='actor'>aktor</mark> "
        "<mark class='act'>tindakan</mark>. Status: "
        + ", ".join(STATUSES)
        + " (kolom kosong: belum ditinjau).</p>"
    )


def _table_html(table: Table, items: list[Item] | None) -> str:
    head = "".join(f"<th>{_e(_header(c))}</th>" for c in table.columns)
    body = []
    for n, row in enumerate(table.rows[:HTML_MAX_ROWS]):
        cells = []
        for column, value in zip(table.columns, row, strict=True):
            if column == "sorotan" and items:  # the rows of ranked_items, in order
                cells.append(f"<td>{_evidence_cell(items[n])}</td>")
            elif column == "url" and _is_web(value):
                cells.append(f"<td><a href='{_e(value)}'>{_e(value)}</a></td>")
            elif isinstance(value, list):
                cells.append(
                    "<td><ul class='ev'>"
                    + "".join(f"<li>{_e(v)}</li>" for v in value)
                    + "</ul></td>"
                )
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                cells.append(f"<td class='n'>{_e(value)}</td>")
            else:
                cells.append(f"<td>{_e(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    if not body:
        body.append(f"<tr><td colspan='{len(table.columns)}'>-</td></tr>")
    table_html = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    return f"<div class='wide'>{table_html}</div>"


def _header(column: str) -> str:
    return display_name(column, "id") if column in CATEGORY_BY_NAME else column


def _is_web(url: Any) -> bool:
    """Only web links become links: a javascript: or data: URL stays text."""
    return isinstance(url, str) and url.lower().startswith(("http://", "https://"))


def _evidence_cell(item: Item) -> str:
    out, pos = [], 0
    for start, end, kind in item.marks:
        out.append(_e(item.evidence[pos:start]))
        out.append(f"<mark class='{kind}'>{_e(item.evidence[start:end])}</mark>")
        pos = end
    out.append(_e(item.evidence[pos:]))
    return "".join(out)


# --------------------------------------------------------------------------- plots


def _plots(made: list[Table]) -> dict[str, str]:
    """Base64 PNG bar charts of the count tables, by table name; none for an empty table."""
    by_name = {t.name: t for t in made}
    # table -> (column of the count, label of a row)
    specs: dict[str, tuple[int, Callable[[list[Any]], str]]] = {
        "provinsi": (2, lambda r: str(r[1])),
        "instansi": (1, lambda r: str(r[0])),
        "jabatan": (1, lambda r: str(r[0])),
        "kategori": (1, lambda r: display_name(r[0], "id")),
        "minggu": (1, lambda r: str(r[0])),
    }
    out = {}
    for name, (count, label) in specs.items():
        table = by_name.get(name)
        if table is None or not table.rows:
            continue
        rows = table.rows if name == "minggu" else sorted(table.rows, key=lambda r: -r[count])
        rows = rows[:PLOT_ROWS] if name != "minggu" else rows
        out[name] = _bar_png(
            [label(r) for r in rows],
            [r[count] for r in rows],
            table.title,
            vertical=name == "minggu",
        )
    return out


def _bar_png(labels: list[str], values: list[int], title: str, vertical: bool) -> str:
    matplotlib = _require("matplotlib")
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    height = 1.2 + 0.32 * len(labels) if not vertical else 3.2
    fig, ax = plt.subplots(figsize=(7.5, height), dpi=96)
    try:
        if vertical:
            ax.bar(range(len(values)), values, color="#3a6ea5")
            ax.set_xticks(range(len(values)), labels, rotation=45, ha="right", fontsize=8)
        else:
            ax.barh(range(len(values)), values, color="#3a6ea5")
            ax.set_yticks(range(len(values)), labels, fontsize=8)
            ax.invert_yaxis()
        axis = ax.yaxis if vertical else ax.xaxis
        axis.set_major_locator(MaxNLocator(integer=True))  # counts: no 0.25 ticks
        ax.set_title(title, fontsize=10)
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    finally:
        plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")
