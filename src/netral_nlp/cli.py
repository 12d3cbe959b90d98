"""The ``netral`` command. Each command validates its arguments, calls one library
function and prints a summary; known failures end with one ``error:`` line and a non-zero
exit code, never a traceback. Heavy libraries are imported inside the commands."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from enum import Enum
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from . import __version__
from .data_cli import data_app

app = typer.Typer(
    name="netral",
    help=(
        "Flag likely partisan political activity by Indonesian civil servants (ASN) in posts "
        "and news: score feeds, train and evaluate models, serve a triage page."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(data_app, name="data")
queue_app = typer.Typer(help="The review queue of the triage service.", no_args_is_help=True)
app.add_typer(queue_app, name="queue")

F = TypeVar("F", bound=Callable[..., Any])
ModelOpt = Annotated[
    Path | None,
    typer.Option(
        "--model", "-m", help="Model directory (default: the shipped baseline, or $NETRAL_MODEL)."
    ),
]


class Kind(str, Enum):
    baseline = "baseline"
    transformer = "transformer"


class Runtime(str, Enum):
    auto = "auto"
    torch = "torch"
    onnx = "onnx"


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _known_errors() -> tuple[type[BaseException], ...]:
    from .data import AnnotationError
    from .labels import SchemaMismatchError
    from .manifest import ModelLoadError

    errors: list[type[BaseException]] = [
        AnnotationError,
        SchemaMismatchError,
        ModelLoadError,
        FileNotFoundError,
        IsADirectoryError,
        PermissionError,
    ]
    try:
        from .io import InputError

        errors.append(InputError)
    except ImportError:
        pass
    return tuple(errors)


def friendly(func: F) -> F:
    """Turn the package's known errors into one ``error:`` line and exit code 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except _known_errors() as exc:
            _fail(str(exc))
        except ValueError as exc:  # bad option values reported by library functions
            _fail(str(exc))

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"netral-nlp {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False,
) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")


@app.command()
@friendly
def score(
    input: Annotated[
        str,
        typer.Argument(
            help="Input .jsonl/.csv/.parquet (optionally .gz), or - for JSON Lines on stdin."
        ),
    ],
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help=(
                "Output .jsonl/.csv/.parquet; a directory (existing, or a name without a suffix) "
                "for a resumable sharded run; stdout JSON Lines if omitted."
            ),
        ),
    ] = None,
    model: ModelOpt = None,
    text_field: Annotated[str, typer.Option(help="Input field holding the text.")] = "text",
    id_field: Annotated[str, typer.Option(help="Input field holding the id.")] = "id",
    author_field: Annotated[
        str, typer.Option(help="Input field holding the author context (bio, byline).")
    ] = "author_context",
    errors: Annotated[
        Path | None,
        typer.Option(
            help="Where rejected rows go (JSON Lines; default: OUTPUT.errors.jsonl, or ./netral-errors.jsonl with stdout)."
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Rows per chunk.")] = 2048,
    workers: Annotated[
        int, typer.Option(min=0, help="Scoring processes (0 = one per CPU core).")
    ] = 0,
    runtime: Annotated[
        Runtime, typer.Option(help="Transformer runtime: auto uses ONNX when the model has one.")
    ] = Runtime.auto,
    resume: Annotated[
        bool, typer.Option(help="Continue an interrupted sharded run in OUTPUT.")
    ] = False,
    force: Annotated[
        bool, typer.Option(help="Resume even if the input changed since the run began.")
    ] = False,
    shard_rows: Annotated[
        int, typer.Option(min=1, help="Rows per shard of a sharded run.")
    ] = 100_000,
    shard_format: Annotated[
        str, typer.Option(help="Shard format of a sharded run: jsonl or parquet.")
    ] = "jsonl",
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar or summary.")
    ] = False,
) -> None:
    """Score every row of INPUT; bad rows go to the error file and never stop the run."""
    from .batch import ScoreOptions, score_file

    options = ScoreOptions(
        input=input,
        output=output,
        model=model,
        text_field=text_field,
        id_field=id_field,
        author_field=author_field,
        errors=errors,
        batch_size=batch_size,
        workers=workers,
        runtime=runtime.value,
        resume=resume,
        force=force,
        quiet=quiet,
        shard_rows=shard_rows,
        shard_format=shard_format,
    )
    summary = score_file(options)
    if summary.rejected and not quiet:
        typer.echo(f"{summary.rejected} rows rejected; see {summary.errors_path}", err=True)


@app.command()
@friendly
def report(
    scored: Annotated[
        Path, typer.Argument(help="A file or run directory written by `netral score`.")
    ],
    top: Annotated[int, typer.Option(help="How many flagged items to show.")] = 20,
    lang: Annotated[str, typer.Option(help="Category names in id (Indonesian) or en.")] = "id",
    html: Annotated[
        Path | None,
        typer.Option(
            "--html", help="Also write the monitors' report as one self-contained HTML page."
        ),
    ] = None,
    xlsx: Annotated[
        Path | None,
        typer.Option("--xlsx", help="Also write the report's tables as an XLSX workbook."),
    ] = None,
    csv_dir: Annotated[
        Path | None,
        typer.Option("--csv-dir", help="Also write the report's tables as CSV files here."),
    ] = None,
) -> None:
    """Print a readable summary of a scored file (or run directory): counts and the flagged
    items with evidence; with --html/--xlsx/--csv-dir, also the monitors' tables by province,
    kabupaten/kota, instansi, jabatan, category, week, status and account, and the evidence
    sheet with an empty status column (these need the report extra: matplotlib, openpyxl)."""
    from .report import print_report

    print_report(scored, top=top, lang=lang)
    if html or xlsx or csv_dir:
        from .monitor_report import write_reports

        written = write_reports(scored, html_path=html, xlsx_path=xlsx, csv_dir=csv_dir)
        for path in written.paths:
            typer.echo(f"wrote {path}", err=True)


@app.command()
@friendly
def predict(
    text: Annotated[str, typer.Argument(help="The text to score (use - to read stdin).")],
    author_context: Annotated[
        str | None, typer.Option("--author-context", "-a", help="Bio or byline of the author.")
    ] = None,
    model: ModelOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the output row as JSON.")] = False,
) -> None:
    """Score one text and explain the answer."""
    from .labels import display_name
    from .model import load_model

    if text == "-":
        text = sys.stdin.read()
    if not text.strip():
        _fail("the text is empty")
    clf = load_model(model)
    pred = clf.predict([text], [author_context])[0]
    row = pred.row(None, clf.manifest.model_id)
    if as_json:
        row.pop("id")
        typer.echo(json.dumps(row, ensure_ascii=False))
        return
    verdict = "FLAG" if pred.flag else "no flag"
    typer.echo(
        f"{verdict}  score={pred.score:.3f}  (threshold {clf.manifest.thresholds.get('flag', 0.5):.3f}, {clf.manifest.model_id})"
    )
    for name in pred.categories:
        typer.echo(f"  - {display_name(name)} [{name}] {pred.category_scores[name]:.2f}")
    for ev in pred.evidence:
        typer.echo(f"  » {ev}")


@app.command()
@friendly
def train(
    kind: Annotated[Kind, typer.Option(help="Model kind.")] = Kind.baseline,
    data: Annotated[
        Path,
        typer.Option(help="Annotated corpus: a .jsonl file or a directory of them, with splits."),
    ] = Path("data/annotations"),
    out: Annotated[Path, typer.Option(help="Output model directory.")] = Path(
        "models/netral-baseline"
    ),
    name: Annotated[
        str | None, typer.Option(help="Model name (default: the output directory's name).")
    ] = None,
    version: Annotated[str, typer.Option(help="Model version.")] = "1.0.0",
    seed: Annotated[int, typer.Option(help="Seed for every random step.")] = 13,
    base: Annotated[
        str,
        typer.Option(
            help="Transformer only: hub id or local directory of a BERT-family checkpoint."
        ),
    ] = "indobenchmark/indobert-base-p1",
    epochs: Annotated[float, typer.Option(help="Transformer only: training epochs.")] = 5.0,
    learning_rate: Annotated[
        float, typer.Option(help="Transformer only: peak learning rate.")
    ] = 3e-5,
    batch_size: Annotated[int, typer.Option(help="Transformer only: per-device batch size.")] = 16,
    max_length: Annotated[int, typer.Option(help="Transformer only: tokens per window.")] = 256,
) -> None:
    """Train a model on the corpus, tune thresholds on dev, report test metrics, save it."""
    from .train import TrainConfig, train_baseline

    config = TrainConfig(data=data, out=out, name=name or out.name, version=version, seed=seed)
    if kind is Kind.baseline:
        _, metrics = train_baseline(config, progress=lambda m: typer.echo(m, err=True))
    else:
        from .transformer_train import TransformerTrainConfig, train_transformer

        tconfig = TransformerTrainConfig(
            **vars(config),
            base=base,
            epochs=epochs,
            learning_rate=learning_rate,
            batch_size=batch_size,
            max_length=max_length,
        )
        _, metrics = train_transformer(tconfig, progress=lambda m: typer.echo(m, err=True))
    if "test" in metrics:
        from .report import print_metrics

        print_metrics(metrics["test"], title=f"test split: {out}")


@app.command()
@friendly
def evaluate(
    model: ModelOpt = None,
    data: Annotated[Path, typer.Option(help="Annotated .jsonl file or directory.")] = Path(
        "data/annotations"
    ),
    split: Annotated[
        str | None,
        typer.Option(
            help="Split to evaluate (train, dev, test or all) when the items have splits; "
            "default test. Items without a split are all evaluated."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
) -> None:
    """Precision, recall, F1, operating points, figures by source type and for unambiguous
    items, category macro-F1 and evidence overlap of a model on labelled items."""
    from .evaluate import evaluate_items, read_extras
    from .model import load_model
    from .report import print_evaluation

    items, extras = read_extras(data)
    if any(i.split for i in items):
        split = split or "test"
        if split != "all":
            items = [i for i in items if i.split == split]
    elif split not in (None, "all"):
        _fail(f"{data}: the items have no split field; leave out --split")
    if not items:
        _fail(f"no items with split {split!r} in {data}")
    clf = load_model(model)
    preds = clf.predict([i.text for i in items], [i.author_context for i in items])
    metrics = evaluate_items(
        items,
        preds,
        threshold=clf.manifest.thresholds.get("flag"),
        ambiguous=[bool(extras[i.id].get("ambiguous")) for i in items]
        if any("ambiguous" in extras[i.id] for i in items)
        else None,
        rationales=[extras[i.id].get("rationales") for i in items],
    )
    metrics["model"] = clf.manifest.model_id
    metrics["split"] = split or "all"
    if as_json:
        typer.echo(json.dumps(metrics, indent=2))
    else:
        print_evaluation(metrics, title=f"{clf.manifest.model_id} on {data} [{split or 'all'}]")


@app.command()
@friendly
def export(
    model: Annotated[Path, typer.Argument(help="Transformer model directory.")],
    onnx: Annotated[
        bool, typer.Option("--onnx", help="Write model.onnx for the ONNX Runtime.")
    ] = True,
    int8: Annotated[
        bool, typer.Option("--int8", help="Also quantise to int8 (dynamic) for fast CPU scoring.")
    ] = False,
) -> None:
    """Export a transformer model to ONNX (optionally int8) for CPU scoring."""
    from .onnx_export import export_onnx

    for path in export_onnx(model, int8=int8):
        typer.echo(f"wrote {path}")


@app.command()
@friendly
def serve(
    model: ModelOpt = None,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
) -> None:
    """Serve the triage page and the HTTP API (see /docs)."""
    from .api import run

    run(model=model, host=host, port=port)


@queue_app.command("export")
@friendly
def queue_export(
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="Annotation rows (JSON Lines) of the decided items."),
    ],
    db: Annotated[
        Path | None, typer.Option(help="Queue database (default: $NETRAL_DB or netral-queue.db).")
    ] = None,
) -> None:
    """Write reviewed items as corpus rows, ready for `netral data validate` and retraining."""
    from .api.queue import export_decisions

    n = export_decisions(db, output)
    typer.echo(f"wrote {n} annotation rows to {output}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
