"""Score a feed on a Ray cluster (``netral score INPUT --engine ray``): the same rows, the
same error file and the same summary as the local engine (batch.py), with the scoring
spread over an actor pool of Ray Data.

The pipeline::

    read tasks (one per input file)      -> chunks of checked records, as Arrow rows
    map_batches(_Scorer, actor pool)     -> one encoded output chunk per batch
    this process, in input order         -> OUTPUT and its error file

Reading goes through Ray Data's file machinery (local paths, ``s3://``, ``gs://``, NFS;
``.gz`` decompressed on the fly) but parses records with io.py's own readers, not
``read_json``/``read_csv``: those infer one Arrow type per field and fail the whole
file on one broken line or a field that is an integer in one row and a string in the
next, and none of them carries the line numbers the error file and ``line-N`` ids need.
Each actor loads the model once (``load_model``) and holds one GPU when the cluster has
GPUs; the encoded rows come back in input order (``preserve_order``) and are written
here with the local engine's writers, so an output is byte for byte what the local
engine writes (Parquet: row for row).

Ray is the optional extra ``netral-nlp[ray]`` and is imported inside functions only.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .batch import (
    Progress,
    ScoreOptions,
    Summary,
    _errors_file,
    _output_file,
    _partial,
    _refuse_overlapping_paths,
    _score_batch,
    output_directory,
)
from .io import (
    _SNIFF_BYTES,
    STDIO,
    Chunk,
    FieldMap,
    InputError,
    Rejection,
    _csv_records,
    _jsonl_records,
    _parquet_rows,
    checked_items,
    chunk_items,
    file_format,
    looks_binary,
)
from .output import Encoded, ErrorFile, RowWriter, output_errors, output_format
from .prediction import OUTPUT_FIELDS

_INSTALL_HINT = "the Ray engine needs the ray extra: pip install 'netral-nlp[ray]'"


def score_file_ray(
    options: ScoreOptions, address: str | None = None, progress: Progress | None = None
) -> Summary:
    """Score ``options.input`` on Ray and write ``options.output`` (a file or stdout).

    ``address``: a cluster to join (``auto``, ``ray://head:10001``); None joins the one
    ``ray.init`` already made in this process, or ``$RAY_ADDRESS``, or starts a local
    one. Raises batch.NothingScored when every record was rejected and InputError for
    what the local engine refuses, plus a directory OUTPUT (a resumable run is local
    only).
    """
    import time

    from .batch import NothingScored

    started = time.perf_counter()
    if output_directory(options.output) is not None:
        raise InputError(
            f"{options.output}: --engine ray writes one file (.jsonl, .csv or .parquet); "
            "resumable run directories are for the local engine"
        )
    source = str(options.input)
    if source == STDIO:
        raise InputError("--engine ray reads files (local, NFS, s3://, gs://), not stdin")
    fmt_in, gz, suffixes = _input_format(source)
    if fmt_in == "parquet" and gz:
        raise InputError(f"{source}: --engine ray reads Parquet uncompressed; gunzip it first")
    _refuse_overlapping_paths(options, None)
    ray = _ray()
    own_cluster = _connect(ray, address)
    try:
        summary = _run(options, fmt_in, suffixes, progress)
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


def _input_format(source: str) -> tuple[str, bool, list[str] | None]:
    """(format, gzipped, the suffixes to read) of an input file, or of the files of an
    input directory (local or a URI), which must all be of one format; files named
    ``_*`` or ``.*`` (``_SUCCESS``, ``.crc``) are skipped. Suffixes are None for a file."""
    import pyarrow as pa
    import pyarrow.fs as pafs

    try:
        fs, path = pafs.FileSystem.from_uri(source) if "://" in source else (None, source)
        fs = fs or pafs.LocalFileSystem()
        info = fs.get_file_info(path)
        if info.type == pafs.FileType.NotFound:
            raise InputError(f"{source}: no such file or directory")
        if info.type != pafs.FileType.Directory:
            return (*file_format(source), None)
        files = fs.get_file_info(pafs.FileSelector(path, recursive=True))
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{source}: cannot read ({exc})") from None
    suffixes: dict[tuple[str, bool], set[str]] = {}
    for item in files:
        name = Path(item.path).name
        if item.type != pafs.FileType.File or name.startswith(("_", ".")):
            continue
        try:
            found = file_format(name)
        except InputError:
            found = (Path(name).suffix or name, False)
        suffixes.setdefault(found, set()).add(
            ".".join(name.lower().split(".")[-2 if found[1] else -1 :])
        )
    if len(suffixes) != 1 or next(iter(suffixes))[0] not in ("jsonl", "csv", "parquet"):
        kinds = sorted({s for group in suffixes.values() for s in group}) or ["no files"]
        raise InputError(
            f"{source}: a directory input needs files of one format (.jsonl, .csv or .parquet, "
            f"optionally .gz); found {', '.join(kinds)}"
        )
    (fmt, gz), names = next(iter(suffixes.items()))
    return fmt, gz, sorted(names)


def _run(
    options: ScoreOptions, fmt_in: str, suffixes: list[str] | None, progress: Progress | None
) -> Summary:
    import ray

    out = _output_file(options)
    fmt = output_format(out) if out else "jsonl"
    errors = _errors_file(options, out)
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # rows come back in input order
    context.print_on_execution_start = False  # the CLI has its own progress and summary
    # Ray Data logs a failed task's traceback before raising it here; _parts reports it
    # in one line, so its log stays quiet (the full logs stay under /tmp/ray/session_*).
    logging.getLogger("ray.data").setLevel(logging.CRITICAL)
    dataset = ray.data.read_datasource(
        _feed_datasource(
            _absolute(options.input), fmt_in, options.fields, options.batch_size, suffixes
        )
    )
    # the actors' environment may lack $NETRAL_MODEL; the shipped model they find themselves
    model = options.model if options.model is not None else os.environ.get("NETRAL_MODEL")
    model = _absolute(model) if model else None
    scored = dataset.map_batches(
        _Scorer,
        fn_constructor_kwargs={
            "model": model,
            "runtime": options.runtime,
            "fmt": fmt,
            "flag_threshold": options.flag_threshold,
        },
        batch_size=options.batch_size,
        batch_format="pyarrow",
        **_actor_pool(ray, options),
    )
    summary = Summary(output=out)
    partial = _partial(out) if out else None
    hint = "nothing was left at OUTPUT; free space and run again"
    try:
        with output_errors(out or "stdout", hint):
            if out:
                out.parent.mkdir(parents=True, exist_ok=True)
            with ErrorFile(errors) as rejects, RowWriter(partial, fmt) as writer:
                for part in _parts(scored):
                    if part["rows"]:
                        writer.write(_encoded(part, fmt))
                    rejects.write([_FileRejection(**r) for r in json.loads(part["rejections"])])
                    summary.merge(json.loads(part["counts"]))
                    if progress:
                        progress(json.loads(part["counts"])["rows_read"])
            if partial and out and summary.scored:
                os.replace(partial, out)
    finally:
        if partial:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
    summary.errors_path = errors if rejects.count else None
    return summary


def _absolute(source: str | Path) -> str:
    """Local paths absolute (read tasks run elsewhere); URIs (``s3://``...) as given."""
    text = str(source)
    return text if "://" in text else str(Path(text).resolve())


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


def _parts(scored: Any) -> Iterator[dict[str, Any]]:
    """The scorer's output rows, one per scored batch, in input order. An input or model
    error raised in a read task or an actor is raised here as itself, not as Ray's
    wrapper with the remote traceback."""
    from .manifest import ModelLoadError

    try:
        for batch in scored.iter_batches(batch_size=None, batch_format="pyarrow"):
            yield from batch.to_pylist()
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


# --------------------------------------------------------------------------- read tasks

_RECORD_COLUMNS = ("line", "id", "text", "author_context", "reason")


@dataclass
class _FileRejection(Rejection):
    """A rejection of a directory input: its record names the file, the line is within it."""

    path: str | None = None

    def record(self) -> dict[str, Any]:
        record = super().record()
        return record if self.path is None else {"path": self.path, **record}


def _feed_datasource(
    source: str, fmt: str, fields: FieldMap, batch_size: int, suffixes: list[str] | None
) -> Any:
    """A Ray Data datasource of the checked records of ``source`` (a file, or a directory
    of files with ``suffixes``), one Arrow row per record: line, id (JSON, keeping
    integers integers), text, author_context, the reason for a rejected one (else
    null), and the file's path for a directory."""
    from ray.data.datasource import FileBasedDatasource

    class FeedDatasource(FileBasedDatasource):
        def _open_input_source(self, filesystem: Any, path: str, **open_args: Any) -> Any:
            if fmt == "parquet":  # needs seeks
                return filesystem.open_input_file(path)
            return super()._open_input_source(filesystem, path, **open_args)

        def _read_stream(self, f: Any, path: str) -> Iterator[Any]:
            for chunk in _read_chunks(f, path, fmt, fields, batch_size):
                yield _chunk_table(chunk)

    return FeedDatasource(source, file_extensions=suffixes, include_paths=suffixes is not None)


def _read_chunks(f: Any, path: str, fmt: str, fields: FieldMap, batch_size: int) -> Iterator[Chunk]:
    """io.py's readers over a file Ray opened: the same records, rules and line numbers."""
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(f)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"{path}: not a readable Parquet file ({exc})") from None
        columns = pf.schema_arrow.names
        wanted = [fields.text, fields.id, fields.author]
        records = _parquet_rows(path, f, pf, [c for c in columns if c in wanted], 0)
    else:
        fh = io.BufferedReader(f, 1 << 20)
        if looks_binary(fh.peek(_SNIFF_BYTES)[:_SNIFF_BYTES]):
            raise InputError(f"{path} looks binary, not JSON Lines/CSV/Parquet")
        if fmt == "jsonl":
            columns, records = None, _jsonl_records(path, fh, 0)
        else:
            columns, records = _csv_records(path, fh, 0)
    if columns is not None and fields.text not in columns:
        raise InputError(
            f"{path} has no {fields.text!r} column (columns: {', '.join(columns) or 'none'}); "
            "name the text column with --text-field"
        )
    yield from chunk_items(path, checked_items(records, fields), batch_size)


def _chunk_table(chunk: Chunk) -> Any:
    """Rows then rejections would lose the input order: interleave them by line."""
    import pyarrow as pa

    items: list[tuple[int, Any, str | None, str | None, str | None]] = [
        (r.line, json.dumps(r.id), r.text, r.author_context, None) for r in chunk.rows
    ]
    items += [
        (r.line, None if r.id is None else json.dumps(r.id), None, None, r.reason)
        for r in chunk.rejections
    ]
    items.sort(key=lambda item: item[0])
    return pa.table(
        {name: [item[k] for item in items] for k, name in enumerate(_RECORD_COLUMNS)},
        schema=pa.schema(
            [("line", pa.int64())] + [(name, pa.string()) for name in _RECORD_COLUMNS[1:]]
        ),
    )


# --------------------------------------------------------------------------- actors


class _Scorer:
    """A Ray actor's scorer: loads the model once, then turns each batch of records into
    one row holding the encoded output rows, the rejections and the counts."""

    def __init__(
        self, model: str | None, runtime: str, fmt: str, flag_threshold: float | None = None
    ) -> None:
        from .batch import load_scoring_model

        self.clf = load_scoring_model(model, runtime, flag_threshold)
        self.fmt = fmt

    def __call__(self, batch: Any) -> dict[str, list[Any]]:
        records = batch.to_pylist()
        rows = [r for r in records if r["reason"] is None]
        rejections = [
            {
                "line": r["line"],
                "reason": r["reason"],
                "id": None if r["id"] is None else json.loads(r["id"]),
                "path": r.get("path"),
            }
            for r in records
            if r["reason"] is not None
        ]
        scored = _score_batch(
            self.clf,
            self.fmt,
            [json.loads(r["id"]) for r in rows],
            [r["text"] for r in rows],
            [r["author_context"] for r in rows],
        )
        payload = scored.payload.data
        if self.fmt == "parquet":
            payload = _ipc_bytes(payload)
        counts = {
            "rows_read": len(records),
            "scored": len(rows),
            "rejected": len(rejections),
            "flagged": scored.flagged,
            "per_category": scored.per_category,
        }
        return {
            "payload": [payload],
            "columns": [json.dumps(scored.payload.columns or OUTPUT_FIELDS)],
            "rows": [len(rows)],
            "rejections": [json.dumps(rejections)],
            "counts": [json.dumps(counts)],
        }


def _ipc_bytes(batch: Any) -> bytes:
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return sink.getvalue().to_pybytes()
