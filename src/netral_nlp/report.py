"""Readable summaries for people: a scored file (counts and the top flagged items with
their evidence) and the metrics of an evaluation. Printed with rich, which falls back to
plain text without colour codes when the output is not a terminal (CI logs, pipes)."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .io import InputError
from .labels import CATEGORY_BY_NAME, CATEGORY_NAMES, display_name
from .output import read_scored
from .shards import scored_files

TEXT_PREVIEW_CHARS = 240


@dataclass
class _Tally:
    """What one pass over a scored file keeps: counts and the ``top`` highest flagged."""

    top: int
    rows: int = 0
    unreadable: int = 0
    flagged: int = 0
    per_category: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CATEGORY_NAMES, 0))
    models: set[str] = field(default_factory=set)
    best: list[tuple[float, int, dict[str, Any]]] = field(default_factory=list)  # min-heap

    def add(self, row: dict[str, Any]) -> None:
        self.rows += 1
        if row.get("model"):
            self.models.add(str(row["model"]))
        if not row["flag"]:
            return
        self.flagged += 1
        for name in row.get("categories") or []:
            self.per_category[name] = self.per_category.get(name, 0) + 1
        item = (float(row["score"]), -self.rows, row)  # ties: the earlier row ranks first
        if len(self.best) < self.top:
            heapq.heappush(self.best, item)
        elif self.top:
            heapq.heappushpop(self.best, item)


def print_report(path: str | Path, top: int = 20, lang: str = "id") -> None:
    """Print counts of a file (or sharded run directory) written by ``netral score`` and
    its ``top`` flagged items by score, with categories, evidence and (when the file has
    a ``text`` column) the text.

    Reads the file once, keeping only the top items: memory does not grow with the file.
    """
    if lang not in ("id", "en"):
        raise ValueError(f"lang must be 'id' or 'en', not {lang!r}")
    tally = _Tally(top=max(top, 0))
    for row in _scored_rows(path, tally):
        tally.add(row)
    if not tally.rows:
        raise InputError(f"{path}: no scored rows (is it a file written by `netral score`?)")
    console = Console(highlight=False)
    _print_counts(console, path, tally, lang)
    _print_top(console, tally, lang)


def _scored_rows(path: str | Path, tally: _Tally) -> Iterator[dict[str, Any]]:
    """Rows of a scored file, or of a sharded run's directory; records that are not
    scored rows are counted, not returned."""
    for file in scored_files(path):
        for row in read_scored(file):
            if row is None:
                tally.unreadable += 1
            else:
                yield row


def _name(category: str, lang: str) -> str:
    return display_name(category, lang) if category in CATEGORY_BY_NAME else category


def _print_counts(console: Console, path: str | Path, tally: _Tally, lang: str) -> None:
    share = tally.flagged / tally.rows
    console.print(Text(f"{path}", style="bold"))
    line = f"{tally.rows:,} rows, {tally.flagged:,} flagged ({share:.1%})"
    if tally.models:
        line += f"; model {', '.join(sorted(tally.models))}"
    if tally.unreadable:
        line += f"; {tally.unreadable:,} unreadable rows skipped"
    console.print(Text(line))
    table = Table(box=box.SIMPLE, show_edge=False, pad_edge=False)
    table.add_column("Flagged", justify="right")
    table.add_column("Share", justify="right")
    table.add_column("Category", no_wrap=True)
    for name, n in tally.per_category.items():
        share = f"{n / tally.flagged:.0%}" if tally.flagged else "-"
        table.add_row(f"{n:,}", share, Text(f"{_name(name, lang)} ({name})"))
    console.print(table)


def _print_top(console: Console, tally: _Tally, lang: str) -> None:
    if not tally.best:
        if tally.top:
            console.print("No flagged items.")
        return
    ranked = sorted(tally.best, reverse=True)
    console.print(Text(f"Top {len(ranked)} flagged items by score", style="bold"))
    # A grid keeps wrapped lines indented under their item.
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", min_width=4)
    grid.add_column()
    for rank, (score, _, row) in enumerate(ranked, start=1):
        names = ", ".join(_name(c, lang) for c in row.get("categories") or []) or "-"
        grid.add_row(
            f"{rank}.", Text.assemble((str(row.get("id")), "bold"), f"  score {score:.3f}")
        )
        grid.add_row("", Text(names))
        for evidence in row.get("evidence") or []:
            grid.add_row("»", Text(evidence))
        text = row.get("text")
        if isinstance(text, str) and text.strip():
            grid.add_row("", Text(f"text: {_preview(text)}", style="dim"))
    console.print(grid)


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= TEXT_PREVIEW_CHARS else flat[: TEXT_PREVIEW_CHARS - 1] + "…"


# --------------------------------------------------------------------------- metrics


def print_metrics(metrics: dict[str, Any], title: str) -> None:
    """Print the dict of :func:`netral_nlp.evaluate.evaluate` as tables: the flag
    (P/R/F1 with the F1 95% interval, PR-AUC, confusion, Brier, ECE), then each category
    and the category macro-F1 with its interval."""
    console = Console(highlight=False)
    console.print(Text(title, style="bold"))
    console.print(_flag_table(metrics))
    console.print(_category_table(metrics["categories"]))
    macro = f"category macro-F1 {_num(metrics['category_macro_f1'])}"
    console.print(Text(macro + _ci(metrics.get("category_macro_f1_ci95"))))


def _flag_table(metrics: dict[str, Any]) -> Table:
    flag, confusion, calibration = metrics["flag"], metrics["confusion"], metrics["calibration"]
    table = Table(title=Text(f"flag (n={metrics['n']:,})"), box=box.SIMPLE, show_header=False)
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("precision", _num(flag["precision"]))
    table.add_row("recall", _num(flag["recall"]))
    table.add_row("F1 [95% CI]", _num(flag["f1"]) + _ci(flag.get("f1_ci95")))
    table.add_row("PR-AUC", _num(flag.get("pr_auc")))
    table.add_row("support", f"{flag['support']:,}")
    table.add_row("confusion", "  ".join(f"{k} {confusion[k]:,}" for k in ("tp", "fp", "fn", "tn")))
    table.add_row("Brier", _num(calibration.get("brier")))
    table.add_row("ECE", _num(calibration.get("ece")))
    return table


def _category_table(categories: dict[str, dict[str, Any]]) -> Table:
    table = Table(title=Text("categories"), box=box.SIMPLE)
    table.add_column("category")
    for header in ("P", "R", "F1", "PR-AUC", "support"):
        table.add_column(header, justify="right")
    for name, m in categories.items():
        table.add_row(
            Text(name),
            _num(m["precision"]),
            _num(m["recall"]),
            _num(m["f1"]),
            _num(m.get("pr_auc")),
            f"{m['support']:,}",
        )
    return table


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _ci(interval: list[float] | None) -> str:
    return f" [{interval[0]:.3f}, {interval[1]:.3f}]" if interval else ""


def print_evaluation(metrics: dict[str, Any], title: str) -> None:
    """Print the dict of :func:`netral_nlp.evaluate.evaluate_items`: the metrics of all
    items, of the unambiguous ones, figures by source type, the operating point and the
    evidence overlap."""
    console = Console(highlight=False)
    print_metrics(metrics, title=title)
    console.print(_operating_table(metrics["operating_point"], "operating point (all items)"))
    clear = metrics.get("unambiguous")
    if clear:
        print_metrics(clear, title=f"{title}: unambiguous items")
        console.print(_operating_table(clear["operating_point"], "operating point (unambiguous)"))
    table = Table(title=Text("by source type"), box=box.SIMPLE)
    for header in ("source type", "n", "P", "R", "F1", "F1 95% CI", "macro-F1"):
        table.add_column(header, justify="left" if header == "source type" else "right")
    for name, m in metrics.get("by_source_type", {}).items():
        ci = m["flag"].get("f1_ci95")
        table.add_row(
            Text(name),
            f"{m['n']:,}",
            _num(m["flag"]["precision"]),
            _num(m["flag"]["recall"]),
            _num(m["flag"]["f1"]),
            _ci(ci).strip() or "-",
            _num(m["category_macro_f1"]),
        )
    console.print(table)
    overlap = metrics.get("evidence_overlap")
    if overlap:
        console.print(
            Text(
                f"evidence overlap: {_num(overlap['rate'])} of {overlap['true_positives']:,} "
                "true positives have a top evidence span on a gold actor or act span"
            )
        )


def _operating_table(op: dict[str, Any], title: str) -> Table:
    table = Table(title=Text(title), box=box.SIMPLE, show_header=False)
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("threshold", _num(op.get("threshold")))
    table.add_row("precision / recall", f"{_num(op['precision'])} / {_num(op['recall'])}")
    table.add_row("TPR / FPR", f"{_num(op['tpr'])} / {_num(op['fpr'])}")
    for p, value in op["expected_precision"].items():
        table.add_row(f"expected precision at {float(p):.0%} prevalence", _num(value))
    return table
