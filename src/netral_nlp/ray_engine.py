"""Score a feed on a Ray cluster (``netral score INPUT --engine ray``): the same rows, the
same error file and the same summary as the local engine (batch.py), with the scoring
spread over an actor pool of Ray Data.

The pipeline without collapse::

    read tasks (one per input file, ray_read.py)  -> blocks of checked records, as Arrow rows
    map_batches(_Scorer, actor pool)              -> one encoded output chunk per batch
    this process, in input order                  -> OUTPUT and its error file

INPUT is any feed the local engine reads: a plain one (JSON Lines, CSV, Parquet) or a
scraper's export, read through the same feed adapters (detected for a local file, or
named with ``--format``), so the same records are rejected with the same error-file lines.

With collapse (``--collapse``; on by default for a scraped feed) reposts and
near-duplicates are clustered across the whole input and only each cluster's
representative is scored (ray_collapse.py): cluster keys are computed on the cluster, the
clusters are assigned in this process over those small key columns with the local
engine's Clusterer, the rows are sorted by cluster so each actor sees whole clusters and
fans its representatives' results out, and a sort by input position brings the rows back
in order. Cluster ids and scores are the local engine's; sizes are the final ones.

Each actor loads the model once (``load_model``) and holds one GPU when the cluster has
GPUs; the encoded rows come back in input order (``preserve_order``) and are written here
with the local engine's writers (batch.file_output), so an output is byte for byte what
the local engine writes (Parquet: row for row).

Ray is the optional extra ``netral-nlp[ray]`` and is imported inside functions only.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .batch import (
    FileRun,
    Progress,
    ScoreOptions,
    Summary,
    _output_rows,
    _refuse_overlapping_paths,
    _score_batch,
    _Scored,
    file_output,
    output_directory,
    output_row,
    scored_rows,
)
from .collapse import CollapseConfig
from .io import InputError
from .output import Encoded
from .prediction import OUTPUT_FIELDS, output_fields
from .ray_read import InputPlan, plan_input, record_dataset, rejection

_INSTALL_HINT = "the Ray engine needs the ray extra: pip install 'netral-nlp[ray]'"


def score_file_ray(
    options: ScoreOptions, address: str | None = None, progress: Progress | None = None
) -> Summary:
    """Score ``options.input`` on Ray and write ``options.output`` (a file or stdout).

    ``address``: a cluster to join (``auto``, ``ray://head:10001``); None joins the one
    ``ray.init`` already made in this process, or ``$RAY_ADDRESS``, or starts a local
    one. Raises batch.NothingScored when every record was rejected and InputError for
    what the local engine refuses, plus a directory OUTPUT (a resumable run is local
    only) and stdin.
    """
    import time

    from .batch import NothingScored

    started = time.perf_counter()
    if output_directory(options.output) is not None:
        raise InputError(
            f"{options.output}: --engine ray writes one file (.jsonl, .csv or .parquet); "
            "resumable run directories are for the local engine"
        )
    plan = plan_input(options.input, options.fields, options.format)
    _refuse_overlapping_paths(options, None)
    ray = _ray()
    own_cluster = _connect(ray, address)
    try:
        summary = _run(options, plan, progress)
    finally:
        if own_cluster:
            ray.shutdown()
    summary.seconds = time.perf_counter() - started
    summary.rows_per_s = summary.rows_read / summary.seconds if summary.seconds else 0.0
    if not summary.scored:
        raise NothingScored(summary)
    return summary


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise InputError(_INSTALL_HINT) from None
    return ray


def _connect(ray: Any, address: str | None) -> bool:
    """Join or start a cluster; True when this call started it (and must shut it down)."""
    if ray.is_initialized():
        return False
    try:
        ray.init(address=address, log_to_driver=False, configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = address or os.environ.get("RAY_ADDRESS") or "a local Ray"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot start or reach {where}: {first}") from None
    return True


# --------------------------------------------------------------------------- the pipeline


def _run(options: ScoreOptions, plan: InputPlan, progress: Progress | None) -> Summary:
    import ray
    from ray.data.context import ShuffleStrategy

    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # rows come back in input order
    context.print_on_execution_start = False  # the CLI has its own progress and summary
    # sort-based shuffles: a sort by cluster then puts each cluster in one block (what
    # Ray's own map_groups relies on with them), and they start quicker than the hash
    # shuffle's aggregator actors (5,000 rows on a local 2-CPU Ray: 1.3 s against 8.6 s)
    context.shuffle_strategy = ShuffleStrategy.SORT_SHUFFLE_PULL_BASED
    # Ray Data logs a failed task's traceback before raising it here; _remote_errors
    # reports it in one line, so its log stays quiet (full logs under /tmp/ray/session_*).
    logging.getLogger("ray.data").setLevel(logging.CRITICAL)
    feed = plan.feed is not None
    collapse = options.collapse if options.collapse is not None else feed
    columns = output_fields(feed, options.keep_text, collapse)
    records = record_dataset(plan, options.fields, options.batch_size)
    with file_output(options, columns) as run, _remote_errors():
        if collapse:
            _score_collapsed(ray, records, options, feed, run, progress)
        else:
            scored = records.map_batches(
                _Scorer,
                fn_constructor_kwargs={
                    **_model_args(options),
                    "fmt": run.format,
                    "feed": feed,
                    "keep_text": options.keep_text,
                },
                batch_size=options.batch_size,
                batch_format="pyarrow",
                **_actor_pool(ray, options),
            )
            for part in _in_order(scored):
                _write(run, part, progress)
    return run.summary


def _score_collapsed(
    ray: Any,
    records: Any,
    options: ScoreOptions,
    feed: bool,
    run: FileRun,
    progress: Progress | None,
) -> None:
    """Collapse, then score (ray_collapse.py): the records are read once and kept in the
    object store, their keys assigned here in input order (rejections written to the error
    file as they pass), then the rows go through the cluster sort, the actors and the
    sort back to input order."""
    from .ray_collapse import Assignment, ClusterScorer, attach, key_columns

    records = records.materialize()
    config = CollapseConfig()
    assignment = Assignment(config)
    keys = records.map_batches(key_columns, fn_kwargs={"config": config}, batch_format="pyarrow")
    for batch in keys.iter_batches(batch_size=None, batch_format="pyarrow"):
        rejections = assignment.add(batch)
        run.rejects.write(rejections)
        run.summary.merge(_read_counts(batch.num_rows, len(rejections)))
        if progress and rejections:
            progress(len(rejections))
    clusters = assignment.clusterer.clusters
    run.summary.clusters = clusters
    run.summary.model_calls = clusters
    if not assignment.scored:
        return
    shared = ray.put(assignment.arrays())
    rows = records.map_batches(
        attach,
        fn_kwargs={
            "assignment": shared,
            "offsets": assignment.offsets,
            "keep_text": options.keep_text,
        },
        batch_format="pyarrow",
    )
    scored = rows.sort("_cluster").map_batches(
        ClusterScorer,
        fn_constructor_kwargs={
            **_model_args(options),
            "feed": feed,
            "keep_text": options.keep_text,
            "batch_size": options.batch_size,
        },
        batch_size=None,  # a whole block: whole clusters
        batch_format="pyarrow",
        **_actor_pool(ray, options),
    )
    encoded = scored.sort("_index").map_batches(
        _encode_rows,
        fn_kwargs={"fmt": run.format},
        batch_size=options.batch_size,
        batch_format="pyarrow",
    )
    written = 0
    for part in _in_order(encoded):
        _write(run, part, progress)
        written += part["rows"]
    if written != assignment.scored:  # the invariant of RELIABILITY.md, checked
        raise RuntimeError(f"collapse wrote {written} rows of {assignment.scored} scorable")


def _read_counts(records: int, rejected: int) -> dict[str, Any]:
    return {
        "rows_read": records,
        "scored": records - rejected,
        "rejected": rejected,
        "flagged": 0,
        "per_category": {},
        "model_calls": 0,
    }


def _model_args(options: ScoreOptions) -> dict[str, Any]:
    """The scoring actors' model arguments. The actors' environment may lack
    $NETRAL_MODEL (the shipped model they find themselves), and run elsewhere: paths
    are made absolute."""
    model = options.model if options.model is not None else os.environ.get("NETRAL_MODEL")
    return {
        "model": str(Path(model).resolve()) if model and "://" not in str(model) else model,
        "runtime": options.runtime,
        "flag_threshold": options.flag_threshold,
    }


def _write(run: FileRun, part: dict[str, Any], progress: Progress | None) -> None:
    """One part (a scored batch, encoded) into OUTPUT, its rejections into the error file."""
    if part["rows"]:
        run.writer.write(_encoded(part, run.format))
    rejected = json.loads(part["rejections"])
    run.rejects.write([rejection(r) for r in rejected])
    counts = json.loads(part["counts"])
    run.summary.merge(counts)
    if progress:
        progress(part["rows"] + len(rejected))


def _actor_pool(ray: Any, options: ScoreOptions) -> dict[str, Any]:
    """map_batches' resources: one actor per GPU when the cluster has GPUs (``gpus``
    caps it), else up to ``workers`` CPU actors (0: one per cluster CPU)."""
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    if gpus:
        size = min(gpus, options.gpus) if options.gpus else gpus
        return {"compute": ray.data.ActorPoolStrategy(size=size), "num_gpus": 1}
    cpus = max(1, int(resources.get("CPU", 1)))
    size = options.workers or cpus
    return {"compute": ray.data.ActorPoolStrategy(min_size=1, max_size=size), "num_cpus": 1}


def _in_order(dataset: Any) -> Iterator[dict[str, Any]]:
    """The rows of ``dataset`` (one per encoded part), in input order."""
    for batch in dataset.iter_batches(batch_size=None, batch_format="pyarrow"):
        yield from batch.to_pylist()


@contextlib.contextmanager
def _remote_errors() -> Iterator[None]:
    """An input or model error raised in a read task or an actor is raised here as
    itself, not as Ray's wrapper with the remote traceback."""
    from .manifest import ModelLoadError

    try:
        yield
    except Exception as exc:
        seen: BaseException | None = exc
        while seen is not None:  # RayTaskError holds the remote exception in .cause
            if type(seen) in (InputError, ModelLoadError) or (
                isinstance(seen, (InputError, ModelLoadError))
                and type(seen).__module__.startswith("netral_nlp")
            ):
                raise type(seen)(*seen.args) from None
            seen = getattr(seen, "cause", None) or seen.__cause__
        raise


def _encoded(part: dict[str, Any], fmt: str) -> Encoded:
    data: Any = part["payload"]
    if fmt == "parquet":
        import pyarrow as pa

        data = pa.ipc.open_stream(data).read_next_batch()
    return Encoded(data, tuple(json.loads(part["columns"])), part["rows"])


def _part(scored: _Scored, fmt: str, counts: dict[str, Any], rejected: list[Any]) -> dict[str, Any]:
    """One row holding a batch's encoded output rows, its rejections and its counts."""
    payload = scored.payload.data
    if fmt == "parquet":
        payload = _ipc_bytes(payload)
    counts = {**counts, "flagged": scored.flagged, "per_category": scored.per_category}
    return {
        "payload": [payload],
        "columns": [json.dumps(scored.payload.columns or OUTPUT_FIELDS)],
        "rows": [scored.payload.rows],
        "rejections": [json.dumps(rejected)],
        "counts": [json.dumps(counts)],
    }


def _ipc_bytes(batch: Any) -> bytes:
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


# --------------------------------------------------------------------------- actors, tasks


class _Scorer:
    """A Ray actor's scorer (no collapse): loads the model once, then turns each batch of
    records into one part: its encoded output rows, rejections and counts."""

    def __init__(
        self,
        model: str | None,
        runtime: str,
        fmt: str,
        flag_threshold: float | None = None,
        feed: bool = False,
        keep_text: bool = False,
    ) -> None:
        from .batch import load_scoring_model

        self.clf = load_scoring_model(model, runtime, flag_threshold)
        self.fmt = fmt
        self.feed = feed
        self.keep_text = keep_text

    def __call__(self, batch: Any) -> dict[str, list[Any]]:
        records = batch.to_pylist()
        rows = [r for r in records if r["reason"] is None]
        rejected = [
            {"line": r["line"], "reason": r["reason"], "id": r["id"], "path": r.get("path")}
            for r in records
            if r["reason"] is not None
        ]
        ids = [json.loads(r["id"]) for r in rows]
        texts = [r["text"] for r in rows]
        authors = [r["author_context"] for r in rows]
        if self.feed or self.keep_text:
            bases = _output_rows(self.clf, ids, texts, authors)[0]
            scored = scored_rows(
                [
                    output_row(
                        base,
                        base["id"],
                        (json.loads(r["meta"]) if r["meta"] else {}) if self.feed else None,
                        r["text"] if self.keep_text else None,
                    )
                    for base, r in zip(bases, rows, strict=True)
                ],
                self.fmt,
            )
        else:
            scored = _score_batch(self.clf, self.fmt, ids, texts, authors)
        counts = {"rows_read": len(records), "scored": len(rows), "rejected": len(rejected)}
        return _part(scored, self.fmt, counts, rejected)


def _encode_rows(batch: Any, fmt: str) -> dict[str, list[Any]]:
    """map_batches after collapse: output rows (JSON, in input order) into one part."""
    rows = [json.loads(row) for row in batch["row"].to_pylist()]
    counts = {"rows_read": 0, "scored": 0, "rejected": 0, "model_calls": 0}
    return _part(scored_rows(rows, fmt), fmt, counts, [])
