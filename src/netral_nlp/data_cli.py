"""``netral data ...``: validate, split and describe the corpus; annotator agreement.

Each command parses its arguments, calls one library function and prints a summary;
bad input ends with a one-line error and exit code 2, never a traceback.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from . import data as data_lib
from . import splits as splits_lib

DEFAULT_PATH = Path("data/annotations")
DEFAULT_README = DEFAULT_PATH / "README.md"

data_app = typer.Typer(
    help="Validate, split and describe the annotated corpus (JSON Lines).",
    no_args_is_help=True,
)

PathArg = Annotated[
    Path, typer.Argument(help="A .jsonl file or a directory of them (not recursive).")
]


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _read_items(path: Path) -> list[data_lib.Item]:
    try:
        return data_lib.read_annotations(path)
    except (data_lib.AnnotationError, OSError) as exc:
        _fail(f"{exc} (run `netral data validate` for every problem)")


@data_app.command()
def validate(
    path: PathArg = DEFAULT_PATH,
    near_dup_threshold: Annotated[
        float,
        typer.Option(help="Jaccard of 5-char shingles at which two texts are near-duplicates."),
    ] = 0.8,
    require_rationales: Annotated[
        bool,
        typer.Option("--require-rationales", help="Every item must have rationales (corpus v2)."),
    ] = False,
) -> None:
    """Check every item against the label scheme; exit 1 if any error."""
    try:
        report = data_lib.validate(
            path, near_dup_threshold=near_dup_threshold, require_rationales=require_rationales
        )
    except (data_lib.AnnotationError, OSError) as exc:
        _fail(str(exc))
    for problem in report.problems:
        typer.echo(str(problem))
    typer.echo(report.summary())
    if not report.ok:
        raise typer.Exit(1)


@data_app.command()
def split(
    path: PathArg = DEFAULT_PATH,
    seed: Annotated[int, typer.Option(help="Seed of the split; same seed, same split.")] = 13,
    reassign: Annotated[
        bool, typer.Option(help="Reassign items that already have a split.")
    ] = False,
) -> None:
    """Write train/dev/test into each item's `split` field (stratified, near-duplicates together)."""
    items = _read_items(path)
    from . import datacard

    mapping = splits_lib.assign_splits(items, seed=seed, reassign=reassign)
    changed = splits_lib.write_splits(path, mapping)
    typer.echo(f"{changed} of {len(items)} items got a new split")
    typer.echo(datacard.split_flag_table(_read_items(path)))


@data_app.command()
def card(
    path: PathArg = DEFAULT_PATH,
    readme: Annotated[
        Path, typer.Option(help="Data card whose marked tables are regenerated.")
    ] = DEFAULT_README,
    check: Annotated[
        bool, typer.Option("--check", help="Do not write; exit 1 if the tables are stale.")
    ] = False,
    reviews: Annotated[
        Path | None,
        typer.Option(
            help="Label-review logs (a .jsonl file or a directory of them; default: PATH/reviews)."
        ),
    ] = None,
) -> None:
    """Regenerate the data card's tables between the README's markers, with the counts of
    the label-review logs."""
    from . import datacard
    from . import reviews as reviews_lib

    items = _read_items(path)
    if reviews is None:
        reviews = (path if path.is_dir() else path.parent) / reviews_lib.REVIEWS_DIR
    try:
        decisions = reviews_lib.read_reviews(reviews)
    except (data_lib.AnnotationError, OSError) as exc:
        _fail(str(exc))
    stale = reviews_lib.check_applied(decisions, items)
    if stale:
        _fail(f"{reviews}: the corpus does not follow the review log: {stale[0]}")
    try:
        if check:
            if not datacard.check_card(readme, items, decisions):
                state = "tables are stale" if readme.is_file() else "no such file"
                typer.echo(f"{readme}: {state}; run `netral data card`")
                raise typer.Exit(1)
            typer.echo(f"{readme}: tables are current")
            return
        changed = datacard.update_card(readme, items, decisions)
    except (ValueError, OSError) as exc:
        _fail(str(exc))
    typer.echo(f"{readme}: {'updated' if changed else 'already current'}")


@data_app.command()
def agreement(
    first: Annotated[Path, typer.Argument(help="First annotator's .jsonl (id, flag, categories).")],
    second: Annotated[Path, typer.Argument(help="Second annotator's .jsonl, same ids.")],
    corpus: Annotated[
        Path, typer.Option(help="Corpus holding the items' texts (for rationale spans).")
    ] = DEFAULT_PATH,
) -> None:
    """Cohen's kappa for flag and each category between two annotators, their
    disagreements, and token-overlap F1 of their rationale spans when both give them."""
    from . import agreement as agreement_lib

    try:
        rows = [[obj for _, _, obj in data_lib.read_records(p)] for p in (first, second)]
        report = agreement_lib.compare(rows[0], rows[1])
    except (data_lib.AnnotationError, ValueError, OSError) as exc:
        _fail(str(exc))
    if not report.n_common:
        _fail(f"{first} and {second} share no ids")

    def fmt(x: float) -> str:
        return "n/a" if math.isnan(x) else f"{x:.3f}"

    typer.echo(f"{report.n_common} items in both")
    for name, ids in ((first, report.only_first), (second, report.only_second)):
        if ids:
            typer.echo(f"{len(ids)} ids only in {name}: ignored")
    header = f"{'label':<24} {'kappa':>7} {'agree':>7} {'pos 1st':>8} {'pos 2nd':>8}"
    typer.echo(header)
    for row in report.labels:
        typer.echo(
            f"{row.label:<24} {fmt(row.kappa):>7} {fmt(row.agreement):>7} "
            f"{row.positives_first:>8} {row.positives_second:>8}"
        )
    typer.echo(f"{len(report.disagreements)} disagreements (flag or categories)")
    for d in report.disagreements:
        typer.echo(
            f"  {d.id}: {d.first['flag']} {d.first['categories']} | "
            f"{d.second['flag']} {d.second['categories']}"
        )
    texts = {item.id: item.text for item in data_lib.read_annotations(corpus)}
    spans = agreement_lib.compare_spans(rows[0], rows[1], texts)
    if any(s.items for s in spans):
        typer.echo("rationale spans: token-overlap F1 (items with the role, tokens 1st/2nd)")
        for s in spans:
            typer.echo(
                f"{s.role:<24} {fmt(s.f1):>7} {s.items:>7} {s.tokens_first:>8} {s.tokens_second:>8}"
            )


@data_app.command()
def adjudicate(
    path: PathArg = DEFAULT_PATH,
    record: Annotated[
        Path,
        typer.Option("--file", help="Adjudication record: JSON Lines with id and final labels."),
    ] = DEFAULT_PATH / "agreement" / "adjudication.jsonl",
) -> None:
    """Write the adjudicated (final) labels into the corpus files; safe to re-run."""
    try:
        changed = splits_lib.apply_adjudication(path, record)
    except (data_lib.AnnotationError, OSError) as exc:
        _fail(str(exc))
    typer.echo(f"{changed} items relabelled from {record}")


@data_app.command()
def issues(
    path: PathArg = DEFAULT_PATH,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Ranked issues (JSON Lines), likeliest first.")
    ] = Path("issues.jsonl"),
    folds: Annotated[int, typer.Option(min=2, help="Folds of the out-of-fold predictions.")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the folds.")] = 13,
    top: Annotated[int, typer.Option(min=0, help="How many issues to print.")] = 10,
) -> None:
    """Rank items whose label disagrees with out-of-fold baseline predictions (cleanlab),
    so annotators review the likeliest mistakes first."""
    from rich.console import Console
    from rich.progress import Progress

    from . import label_issues

    items = _read_items(path)
    try:
        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task(f"fitting {folds} folds", total=folds)
            probs = label_issues.out_of_fold_probabilities(
                items,
                folds=folds,
                seed=seed,
                progress=lambda done, _: bar.update(task, completed=done),
            )
        found = label_issues.find_issues(items, probs)
        label_issues.write_issues(found, output)
    except (ValueError, OSError) as exc:
        _fail(str(exc))
    flags = sum(1 for i in found if i.label == "flag")
    typer.echo(
        f"{len(items)} items checked: {len(found)} issues ({flags} flag, "
        f"{len(found) - flags} category) written to {output}"
    )
    for issue in found[:top]:
        typer.echo(f"{issue.rank:>4}. {issue.id} [{issue.label}] {issue.reason}")
