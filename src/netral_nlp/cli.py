"""The ``netral`` command. Each command validates its arguments, calls one library
function and prints a summary; known failures end with one ``error:`` line and a non-zero
exit code, never a traceback. Heavy libraries are imported inside the commands."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from . import __version__
from .active_learning import Strategy
from .annotations_cli import annotations_app
from .data_cli import data_app
from .train import (
    BaselineTrainConfig,
    model_option_specs,
    parse_model_options,
    train_baseline,
)
from .transformer_train import TransformerTrainConfig

if TYPE_CHECKING:
    from .batch import Summary

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
app.add_typer(annotations_app, name="annotations")

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


class Engine(str, Enum):
    local = "local"
    ray = "ray"


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


def _feed_formats_help() -> str:
    """One paragraph per feed format for --format's help (feeds.FORMATS)."""
    from .feeds import FORMATS

    return "\n\n".join(FORMATS.splitlines())


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
        int,
        typer.Option(
            min=0,
            help="Scoring processes (0 = one per CPU core; a transformer on GPUs: see --gpus).",
        ),
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
    min_precision: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Flag at the lowest threshold whose precision on the model's dev curve "
            "reaches this (instead of the tuned threshold).",
        ),
    ] = None,
    engine: Annotated[
        Engine,
        typer.Option(
            help="local: processes on this machine; ray: a Ray cluster (the ray extra, docs/ray.md)."
        ),
    ] = Engine.local,
    address: Annotated[
        str | None,
        typer.Option(
            help="--engine ray: the cluster to join (auto, ray://HEAD:10001); default $RAY_ADDRESS or a local one."
        ),
    ] = None,
    gpus: Annotated[
        int,
        typer.Option(
            min=0, help="Transformer models: GPUs to use, one worker each (0 = every visible GPU)."
        ),
    ] = 0,
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="Read INPUT as this scraper's format (default: a plain id+text feed, or "
            "detected from the content). Formats:\n\n" + _feed_formats_help(),
        ),
    ] = None,
    collapse: Annotated[
        bool | None,
        typer.Option(
            "--collapse/--no-collapse",
            help="Score each cluster of reposts and near-duplicates once and copy its "
            "result (adds cluster_id, cluster_size). Default: on for a scraped feed, off "
            "for a plain one.",
        ),
    ] = None,
    keep_text: Annotated[
        bool, typer.Option("--keep-text", help="Add each row's text to the output.")
    ] = False,
) -> None:
    """Score every row of INPUT; bad rows go to the error file and never stop the run.

    INPUT may be a plain feed (rows with id and text) or a scraper's output (X, TikTok,
    Instagram, Facebook, YouTube, Telegram, WhatsApp, news articles): its metadata
    (platform, author, time, url, relation) is added to each output row."""
    from .batch import NothingScored, ScoreOptions, score_file

    flag_threshold = None
    if min_precision is not None:
        flag_threshold = _threshold_for_precision(model, min_precision)
        if not quiet:
            typer.echo(
                f"flag threshold {flag_threshold:.4f} (dev precision >= {min_precision:g})",
                err=True,
            )

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
        shard_rows=shard_rows,
        shard_format=shard_format,
        flag_threshold=flag_threshold,
        gpus=gpus,
        format=format,
        collapse=collapse,
        keep_text=keep_text,
    )
    if address is not None and engine is not Engine.ray:
        _fail("--address applies to --engine ray")
    failed: NothingScored | None = None
    with _progress_bar(enabled=not quiet and sys.stderr.isatty()) as advance:
        try:
            if engine is Engine.ray:
                from .ray_engine import score_file_ray

                summary = score_file_ray(options, address, progress=advance)
            else:
                summary = score_file(options, progress=advance)
        except NothingScored as exc:
            summary, failed = exc.summary, exc
    if not quiet:
        _print_summary(summary)
    if failed is not None:
        _fail(str(failed))
    if summary.rejected and not quiet:
        typer.echo(f"{summary.rejected} rows rejected; see {summary.errors_path}", err=True)


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[Callable[[int], None] | None]:
    """A rows/s progress line on stderr, advanced by the scorer's callback; None (no
    callback) when disabled. Transient: gone before the summary is printed."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    started, done = time.perf_counter(), 0
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("scoring", total=None)

        def advance(n: int) -> None:
            nonlocal done
            done += n
            rate = done / max(time.perf_counter() - started, 1e-9)
            bar.update(task, description=f"scoring: {done:,} rows, {rate:,.0f} rows/s")

        yield advance


def _print_summary(summary: Summary) -> None:
    """The end-of-run summary of ``score``, on stderr (plain text when not a terminal)."""
    from rich.console import Console

    from .labels import display_name

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    s = summary
    share = s.flagged / s.scored if s.scored else 0.0
    console.print(
        f"{s.rows_read:,} rows read: {s.scored:,} scored, {s.rejected:,} rejected, "
        f"{s.flagged:,} flagged ({share:.1%}); {s.seconds:.1f} s, {s.rows_per_s:,.0f} rows/s",
        markup=False,
    )
    if s.clusters is not None:
        console.print(
            f"collapse: {s.clusters:,} clusters, {s.model_calls:,} rows sent to the model; "
            f"{s.saving:.1%} of model calls saved",
            markup=False,
        )
    for name, n in s.per_category.items():
        console.print(f"  {n:>9,}  {name:<24} {display_name(name)}", markup=False)


def _threshold_for_precision(model: Path | None, min_precision: float) -> float:
    """The flag threshold for ``--min-precision``, from the dev curve in the manifest."""
    from .evaluate import threshold_for_precision
    from .manifest import Manifest
    from .model import default_model_dir

    directory = Path(model) if model else default_model_dir()
    curve = Manifest.read(directory).metrics.get("dev_curve")
    if not curve:
        _fail(f"{directory}: the manifest has no dev curve (metrics.dev_curve); retrain it")
    try:
        return threshold_for_precision(curve, min_precision)
    except ValueError as exc:
        _fail(f"{directory}: {exc}")


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


def _train_help(config: type, name: str, only: str = "") -> str:
    """An option's help from its config field, so the default lives in the config only."""
    from .train import field_help

    default = config.__dataclass_fields__[name].default
    text = field_help(config, name)
    if default is not None:
        text += f" (default: {list(default) if isinstance(default, tuple) else default})"
    return f"{only}{text}." if only else f"{text[0].upper()}{text[1:]}."


def _print_model_options() -> None:
    """One line per key `netral train --set` takes: key, default, help."""
    specs = model_option_specs()
    width = max(map(len, specs))
    for key, spec in specs.items():
        default = spec.default
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else json.dumps(default)
        typer.echo(f"{key:<{width}}  {shown:<5}  {spec.help}".rstrip())
    typer.echo(
        "\nThe fields of BaselineConfig (netral_nlp.baseline) and of FeatureConfig and "
        "SentenceConfig (netral_nlp.features); C, seed and long_shift have their own options."
    )


_BASELINE_ONLY = "Baseline only: "
_TRANSFORMER_ONLY = "Transformer only: "


@app.command()
@friendly
def train(
    kind: Annotated[Kind, typer.Option(help="Model kind.")] = Kind.baseline,
    data: Annotated[
        Path | None, typer.Option(help=_train_help(BaselineTrainConfig, "data"))
    ] = None,
    threshold_data: Annotated[
        Path | None,
        typer.Option(
            help=_train_help(BaselineTrainConfig, "threshold_data", _BASELINE_ONLY)
            + " E.g. the real development set."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Output model directory (default: models/netral-baseline or models/netral-indobert)."
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help=_train_help(BaselineTrainConfig, "name"))] = None,
    version: Annotated[
        str | None, typer.Option(help=_train_help(BaselineTrainConfig, "version"))
    ] = None,
    seed: Annotated[int | None, typer.Option(help=_train_help(BaselineTrainConfig, "seed"))] = None,
    force: Annotated[
        bool, typer.Option("--force", help=_train_help(BaselineTrainConfig, "force"))
    ] = False,
    c_grid: Annotated[
        list[float] | None,
        typer.Option(
            "--c", help=_train_help(BaselineTrainConfig, "c_grid", _BASELINE_ONLY) + " Repeat it."
        ),
    ] = None,
    refit_on_dev: Annotated[
        bool | None,
        typer.Option(
            "--refit-on-dev/--no-refit-on-dev",
            help=_train_help(BaselineTrainConfig, "refit_on_dev", _BASELINE_ONLY),
            show_default=False,
        ),
    ] = None,
    long_shift: Annotated[
        float | None,
        typer.Option(help=_train_help(BaselineTrainConfig, "long_shift", _BASELINE_ONLY)),
    ] = None,
    dev_long_shift: Annotated[
        float | None,
        typer.Option(help=_train_help(BaselineTrainConfig, "dev_long_shift", _BASELINE_ONLY)),
    ] = None,
    model_options: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="Baseline only: set a model hyper-parameter (a BaselineConfig field, dotted "
            "for the nested FeatureConfig and SentenceConfig), e.g. --set sentence_C=1.0 --set "
            "features.signal_weight=0.5. VALUE is read as JSON (numbers, true/false, lists), "
            "else as text; an n-gram range as 1,3. Repeat it; --list-options lists the keys.",
        ),
    ] = None,
    list_options: Annotated[
        bool,
        typer.Option("--list-options", help="List the keys --set takes, with defaults, and exit."),
    ] = False,
    base: Annotated[
        str | None,
        typer.Option(help=_train_help(TransformerTrainConfig, "base", _TRANSFORMER_ONLY)),
    ] = None,
    epochs: Annotated[
        float | None,
        typer.Option(help=_train_help(TransformerTrainConfig, "epochs", _TRANSFORMER_ONLY)),
    ] = None,
    learning_rate: Annotated[
        float | None,
        typer.Option(help=_train_help(TransformerTrainConfig, "learning_rate", _TRANSFORMER_ONLY)),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(help=_train_help(TransformerTrainConfig, "batch_size", _TRANSFORMER_ONLY)),
    ] = None,
    max_length: Annotated[
        int | None,
        typer.Option(help=_train_help(TransformerTrainConfig, "max_length", _TRANSFORMER_ONLY)),
    ] = None,
    span_loss_weight: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            help=_train_help(TransformerTrainConfig, "span_loss_weight", _TRANSFORMER_ONLY),
        ),
    ] = None,
) -> None:
    """Train a model on the corpus, tune thresholds on dev, report test metrics, save it.

    Options left out take their defaults from the kind's config (netral_nlp.train.
    BaselineTrainConfig, netral_nlp.transformer_train.TransformerTrainConfig). The
    baseline's hyper-parameters take --set KEY=VALUE, e.g. --set sentence_C=1.0 --set
    features.signal_weight=0.5; --list-options lists the keys with their defaults.
    """
    from .manifest import check_model_destination

    if list_options:
        _print_model_options()
        return
    shared = {"data": data, "out": out, "name": name, "version": version, "seed": seed}
    only = {
        Kind.baseline: {
            "c_grid": c_grid,
            "refit_on_dev": refit_on_dev,
            "threshold_data": threshold_data,
            "long_shift": long_shift,
            "dev_long_shift": dev_long_shift,
        },
        Kind.transformer: {
            "base": base,
            "epochs": epochs,
            "learning_rate": learning_rate,
            "batch_size": batch_size,
            "max_length": max_length,
            "span_loss_weight": span_loss_weight,
        },
    }
    if kind is Kind.transformer and model_options:
        own = ", ".join("--" + k.replace("_", "-") for k in only[Kind.transformer])
        _fail(f"--set sets baseline model options; a transformer's are {own}")
    if model_options:
        only[Kind.baseline]["model_options"] = parse_model_options(model_options)
    for other, options in only.items():
        given = [k for k, v in options.items() if v is not None and v != []]
        if other is not kind and given:
            flag = "--c" if given[0] == "c_grid" else "--" + given[0].replace("_", "-")
            _fail(f"{flag} applies to --kind {other.value} only")
    config_class = BaselineTrainConfig if kind is Kind.baseline else TransformerTrainConfig
    given = {k: v for k, v in {**shared, **only[kind]}.items() if v is not None and v != []}
    config = config_class(**given, force=force)
    if out is None:  # a default destination must never be the shipped model
        check_model_destination(config.out, kind.value, force=force, explicit=False)
    progress = lambda m: typer.echo(m, err=True)  # noqa: E731
    if kind is Kind.baseline:
        _, metrics = train_baseline(config, progress=progress)
    else:
        from .transformer_train import train_transformer

        _, metrics = train_transformer(config, progress=progress)
    if "test" in metrics:
        from .report import print_metrics

        print_metrics(metrics["test"], title=f"test split: {config.out}")


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
    report: Annotated[
        Path | None,
        typer.Option(
            help="Also write a self-contained HTML report (tables, plots, worst errors) here; "
            "needs the report extra."
        ),
    ] = None,
    report_md: Annotated[
        Path | None,
        typer.Option(
            "--report-md",
            help="Also write the report as report.md plus PNG plots into this folder (for papers).",
        ),
    ] = None,
) -> None:
    """Precision, recall, F1, operating points, figures by source type and for unambiguous
    items, category macro-F1 and evidence overlap of a model on labelled items; with
    --report, the same with intervals, PR curves, calibration, slices and the worst errors."""
    from .report import print_evaluation
    from .research import evaluate as evaluate_model

    if report is not None or report_md is not None:
        _need_report_extra()
    try:
        result = evaluate_model(model, data, split)
    except ValueError as exc:
        _fail(str(exc))
    metrics = dict(result.metrics)
    metrics["model"] = result.model_id
    metrics["split"] = result.split
    if report is not None:
        result.to_html(report)
    if report_md is not None:
        result.to_markdown(report_md)
    if as_json:
        typer.echo(json.dumps(metrics, indent=2))
    else:
        print_evaluation(metrics, title=f"{result.model_id} on {data} [{result.split}]")
    for path in (report, report_md and report_md / "report.md"):
        if path is not None:
            typer.echo(f"report: {path}", err=True)


def _need_report_extra() -> None:
    """Fail in one line when matplotlib or pandas is missing."""
    import importlib.util

    missing = [m for m in ("matplotlib", "pandas") if importlib.util.find_spec(m) is None]
    if missing:
        _fail(f"the report needs {', '.join(missing)}: pip install 'netral-nlp[report]'")


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
        typer.Option("--output", "-o", help="The decided items (JSON Lines), decision order."),
    ],
    db: Annotated[
        Path | None, typer.Option(help="Queue database (default: $NETRAL_DB or netral-queue.db).")
    ] = None,
) -> None:
    """Write the reviewers' decisions; `netral annotations import FILE --from queue` turns
    them into validated corpus rows for retraining."""
    from .api.queue import export_decisions

    n = export_decisions(db, output)
    typer.echo(f"wrote {n} decisions to {output}")
    typer.echo(f"corpus rows: netral annotations import {output} --from queue -o items.jsonl")


@app.command()
@friendly
def select(
    scored: Annotated[
        Path, typer.Argument(help="A file (or sharded run directory) written by `netral score`.")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The batch to annotate (JSON Lines).")
    ],
    k: Annotated[int, typer.Option("--k", min=1, help="Batch size.")] = 200,
    strategy: Annotated[
        Strategy,
        typer.Option(
            help="uncertainty: closest to the flag threshold; diversity: spread over "
            "clusters, no near-duplicates; mixed: the most uncertain of each cluster."
        ),
    ] = Strategy.mixed,
    input: Annotated[
        Path | None,
        typer.Option(help="The scored input file, for texts when SCORED has none (joined by id)."),
    ] = None,
    model: ModelOpt = None,
    threshold: Annotated[
        float | None,
        typer.Option(help="Flag threshold (default: the rows' own, else the model manifest's)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the clustering.")] = 13,
) -> None:
    """Pick the unlabelled items worth annotating next; each row says why it was picked."""
    from .active_learning import select as run_select
    from .active_learning import write_batch
    from .scored import flag_threshold, read_scored

    rows = read_scored(scored, input=input)
    t = flag_threshold(rows, model, threshold)
    picks = run_select(
        [r["text"] for r in rows], [r["score"] for r in rows], t, k, strategy.value, seed
    )
    write_batch(rows, picks, t, strategy.value, output)
    typer.echo(
        f"picked {len(picks)} of {len(rows)} rows ({strategy.value}, flag threshold {t:.3f}) "
        f"into {output}"
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
