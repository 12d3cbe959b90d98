"""``netral annotations ...``: move items to and from Label Studio and doccano, and
turn the review queue's decisions into corpus rows.

Each command parses its arguments, calls the converters in ``annotation_tools`` and
prints a summary; bad input ends with a one-line error and exit code 2, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from .annotation_tools import Source, Tool

annotations_app = typer.Typer(
    help="Export scored items as annotation tasks (Label Studio, doccano); import the "
    "tools' exports, or the review queue's decisions, as corpus rows with rationales.",
    no_args_is_help=True,
)


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@annotations_app.command("export")
def export_cmd(
    scored: Annotated[
        Path,
        typer.Argument(
            help="A file (or sharded run directory) written by `netral score`, or a `netral select` batch."
        ),
    ],
    to: Annotated[Tool, typer.Option("--to", help="Annotation tool.", case_sensitive=False)],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="Tasks: JSON (Label Studio) or JSON Lines (doccano)."),
    ],
    input: Annotated[
        Path | None,
        typer.Option(help="The scored input file, for texts when SCORED has none (joined by id)."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            help="Label Studio only: where the labelling config goes (default OUTPUT.xml)."
        ),
    ] = None,
) -> None:
    """Write one task per scored row, ids kept, with the model's predictions as
    pre-annotations (choices for flag/partisan/asn and categories, evidence as rationale
    spans); for Label Studio also its labelling config."""
    from . import annotation_tools
    from . import scored as scored_lib
    from .io import InputError

    try:
        rows = scored_lib.read_scored(scored, input=input)
        written = annotation_tools.export_tasks(rows, to, output, config)
    except (InputError, OSError) as exc:
        _fail(str(exc))
    typer.echo(f"wrote {len(rows)} {to.value} tasks to {written[0]}")
    for path in written[1:]:
        typer.echo(f"wrote the labelling config to {path} (Settings > Labeling Interface > Code)")


@annotations_app.command("import")
def import_cmd(
    export: Annotated[
        Path,
        typer.Argument(
            help="The tool's export (Label Studio JSON, doccano JSONL) or `netral queue export`'s."
        ),
    ],
    from_: Annotated[
        Source,
        typer.Option("--from", help="Annotation tool, or the review queue.", case_sensitive=False),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Corpus rows with rationales (JSON Lines).")
    ],
    corpus: Annotated[
        Path | None,
        typer.Option(help="Corpus to check for conflicting items (same id or text, other labels)."),
    ] = Path("data/annotations"),
) -> None:
    """Read the tool's export (or the review queue's decisions) back into corpus rows with
    rationale spans, validate them with the corpus validator and report conflicts with
    existing items. Every row is written; a row the validator refuses is named by its id
    and the command exits 1."""
    from . import annotation_tools
    from . import data as data_lib

    try:
        rows, skipped = annotation_tools.read_export(export, from_)
        annotation_tools.write_rows(rows, output)
        report = data_lib.validate(output) if rows else None
        clashes = (
            annotation_tools.conflicts(rows, corpus)
            if corpus is not None and corpus.exists()
            else []
        )
    except (data_lib.AnnotationError, OSError) as exc:
        _fail(str(exc))
    typer.echo(f"wrote {len(rows)} corpus rows to {output}")
    if skipped:
        typer.echo(f"{skipped} tasks without a submitted annotation skipped")
    for line in clashes:
        typer.echo(f"conflict: {line}")
    if clashes:
        typer.echo(f"{len(clashes)} conflicts with {corpus}: resolve them before merging")
    if report is not None:
        for problem in report.problems:
            # Output lines are rows in order: name each problem's row by its id too.
            where = f"{problem.file}:{problem.line}"
            item_id = rows[problem.line - 1]["id"]
            typer.echo(f"{where} (id {item_id!r}){str(problem)[len(where) :]}")
        typer.echo(report.summary())
        if not report.ok:
            bad = sorted({rows[p.line - 1]["id"] for p in report.errors})
            more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
            typer.echo(
                f"{len(bad)} rows are not valid corpus rows ({', '.join(bad[:5])}{more}): "
                "fix them (e.g. mark their spans in Label Studio) before merging"
            )
            raise typer.Exit(1)
