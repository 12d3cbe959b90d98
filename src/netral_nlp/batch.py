"""Score many rows with one model: ``score_rows`` for rows in memory (notebooks, the
service), ``score_file`` for a whole feed. Invariant of a file run: ids written + ids
rejected = ids read, each once (RELIABILITY.md, "Batch scoring").

``score_file`` streams chunks of the input (io.py) through scoring processes, which
encode the output rows, and writes them back in input order to one of:

* a file (``.jsonl``, ``.csv``, ``.parquet``, output.py) or stdout: written under a hidden
  ``.NAME.partial`` name and renamed into place when the run ends, with rejected records
  in an error file;
* a directory: a resumable run of complete shards (shards.py).

A scraped feed (feeds/, chosen by inputs.py) adds its canonical metadata to each output
row. With collapse (on by default for scraped feeds), reposts and near-duplicates are
grouped as they stream in (collapse.py), each cluster's representative alone is sent to
the model, and its result is fanned out, from a bounded cache, to every member, with
``cluster_id`` and ``cluster_size`` (the size known when the row is written; a run
directory also gets ``clusters.jsonl``, the final size of every cluster of two or more).

It prints nothing: it returns a :class:`Summary` and reports progress through a
callback, so the CLI owns the progress bar and the summary lines.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .collapse import CLUSTERS_FILE, Clusterer, ResultCache
from .inputs import feed_format, read_input
from .io import (
    STDIO,
    Chunk,
    FieldMap,
    InputError,
    Rejection,
    Row,
    chunk_items,
    read_chunks,
    to_row,
)
from .labels import CATEGORY_NAMES
from .manifest import MANIFEST_FILE, Manifest
from .model import Classifier, default_model_dir, load_model
from .output import Encoded, ErrorFile, RowWriter, encode_rows, output_errors, output_format
from .prediction import FEED_FIELDS, OUTPUT_FIELDS, Prediction, output_fields
from .shards import SHARD_FORMATS, input_fingerprint, open_run

BATCH_SIZE = 2048  # rows per predict call: large enough to amortise, small enough to stream
STDOUT_ERRORS = Path("netral-errors.jsonl")

_IN_FLIGHT_PER_WORKER = 2  # chunks queued per process: enough to hide I/O, memory stays flat
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

Progress = Callable[[int], None]  # called with the input records of each chunk written


@dataclass
class ScoreOptions:
    """What ``netral score`` was asked to do (see its --help for each option)."""

    input: str | Path
    output: str | Path | None = None
    model: Path | None = None
    text_field: str = "text"
    id_field: str = "id"
    author_field: str = "author_context"
    errors: Path | None = None
    batch_size: int = BATCH_SIZE
    workers: int = 0  # 0: one process per CPU core; 1: score in this process
    gpus: int = 0  # transformer models: processes, one per GPU (0: every visible GPU)
    runtime: str = "auto"
    resume: bool = False
    force: bool = False
    shard_rows: int = 100_000  # directory output: input records per shard (whole chunks)
    shard_format: str = "jsonl"  # directory output: "jsonl" or "parquet"
    flag_threshold: float | None = None  # replaces the model's flag threshold (--min-precision)
    format: str | None = None  # a feed adapter's name (feeds.FORMATS); None: detect
    collapse: bool | None = None  # None: on for a scraped feed, off for a plain one
    keep_text: bool = False  # add the input text to each output row
    cache_rows: int = 20_000  # cluster results kept for later duplicates (~1.5 KB each)

    def __post_init__(self) -> None:
        if (
            self.batch_size < 1
            or self.workers < 0
            or self.gpus < 0
            or self.shard_rows < 1
            or self.cache_rows < 1
        ):
            raise ValueError(
                "batch_size, shard_rows and cache_rows must be >= 1, workers and gpus >= 0"
            )
        if self.shard_format not in SHARD_FORMATS:
            raise ValueError(
                f"shard_format must be one of {SHARD_FORMATS}, not {self.shard_format!r}"
            )

    @property
    def fields(self) -> FieldMap:
        return FieldMap(text=self.text_field, id=self.id_field, author=self.author_field)


@dataclass
class Summary:
    """Counts of a run. For a directory OUTPUT they cover every shard of the run, while
    ``seconds`` and ``rows_per_s`` measure this invocation."""

    rows_read: int = 0
    scored: int = 0
    rejected: int = 0
    flagged: int = 0
    model_calls: int = 0  # rows the model scored: fewer than ``scored`` with collapse
    clusters: int | None = None  # with collapse: distinct clusters among the rows read
    per_category: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CATEGORY_NAMES, 0))
    seconds: float = 0.0
    rows_per_s: float = 0.0
    errors_path: Path | None = None
    output: Path | None = None

    def merge(self, counts: Mapping[str, Any]) -> None:
        """Add the counts of a chunk or of a shard's manifest entry."""
        self.rows_read += counts["rows_read"]
        self.scored += counts["scored"]
        self.rejected += counts["rejected"]
        self.flagged += counts["flagged"]
        self.model_calls += counts.get("model_calls", counts["scored"])
        for name, n in counts["per_category"].items():
            self.per_category[name] = self.per_category.get(name, 0) + n

    @property
    def saving(self) -> float:
        """Share of the scored rows the model did not have to score (collapse)."""
        return 1.0 - self.model_calls / self.scored if self.scored else 0.0


class NothingScored(InputError):
    """Every record was rejected; ``summary`` holds the counts of the run."""

    def __init__(self, summary: Summary) -> None:
        super().__init__(
            f"no row could be scored: {summary.rejected} rejected, see {summary.errors_path}"
        )
        self.summary = summary


def score_rows(
    rows: Iterable[Mapping[str, Any]], classifier: Classifier, batch_size: int = BATCH_SIZE
) -> Iterator[dict[str, Any]]:
    """The output row (``Prediction.row()``) of each input row, in order, scoring
    ``batch_size`` rows at a time, so any stream scores in flat memory.

    An input row is a dict with ``text`` and optionally ``id`` (``line-N`` when absent, N
    its 1-based position, as in files) and ``author_context``, checked by the rules of the
    feed readers; the first that breaks one raises ValueError naming its position, id and
    reason.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    positions = itertools.count(1)
    stream = iter(rows)
    while batch := [_checked(next(positions), r) for r in itertools.islice(stream, batch_size)]:
        ids = [r.id for r in batch]
        texts = [r.text for r in batch]
        authors = [r.author_context for r in batch]
        yield from _output_rows(classifier, ids, texts, authors)[0]


def _checked(position: int, row: Mapping[str, Any]) -> Row:
    item = to_row(position, row)
    if isinstance(item, Rejection):
        where = f"row {position}" + (f" (id {item.id!r})" if item.id is not None else "")
        raise ValueError(f"{where}: {item.reason}")
    return item


def score_file(options: ScoreOptions, progress: Progress | None = None) -> Summary:
    """Score every record of ``options.input``; see the module docstring for outputs.

    Refuses, before anything is written, an output that is the input or the error file.
    Raises NothingScored (an InputError carrying the summary) when every record was
    rejected, and InputError, naming the path, when the output cannot be written.
    """
    started = time.perf_counter()
    directory = output_directory(options.output)
    _refuse_overlapping_paths(options, directory)
    if directory is None:
        summary, processed = _score_to_file(options, progress)
    else:
        summary, processed = _score_to_directory(options, directory, progress)
    summary.seconds = time.perf_counter() - started
    summary.rows_per_s = processed / summary.seconds if summary.seconds else 0.0
    if not summary.scored:
        raise NothingScored(summary)
    return summary


# --------------------------------------------------------------------------- scoring


@dataclass
class _Scored:
    """What scoring one chunk gives back: the encoded rows and their counts."""

    payload: Encoded
    flagged: int
    per_category: dict[str, int]
    model_calls: int | None = None  # None: one per row


def _output_rows(
    clf: Classifier, ids: list[Any], texts: list[str], authors: list[str | None]
) -> tuple[list[dict[str, Any]], list[Prediction]]:
    preds = clf.predict(texts, authors) if texts else []
    model_id = clf.manifest.model_id
    return [p.row(i, model_id) for i, p in zip(ids, preds, strict=True)], preds


def _score_batch(
    clf: Classifier, fmt: str, ids: list[Any], texts: list[str], authors: list[str | None]
) -> _Scored:
    rows, preds = _output_rows(clf, ids, texts, authors)
    per_category = dict.fromkeys(CATEGORY_NAMES, 0)
    for p in preds:
        for name in p.categories:
            per_category[name] = per_category.get(name, 0) + 1
    return _Scored(encode_rows(rows, fmt), sum(p.flag for p in preds), per_category)


def _counts(chunk: Chunk, scored: _Scored) -> dict[str, Any]:
    return {
        "rows_read": chunk.size,
        "scored": len(chunk.rows),
        "rejected": len(chunk.rejections),
        "flagged": scored.flagged,
        "per_category": scored.per_category,
        "model_calls": len(chunk.rows) if scored.model_calls is None else scored.model_calls,
    }


def output_row(
    base: dict[str, Any],
    row_id: Any,
    meta: Mapping[str, Any] | None = None,
    text: str | None = None,
    cluster: tuple[Any, int] | None = None,
) -> dict[str, Any]:
    """An output row from a scored row ``base`` (``Prediction.row()``, perhaps of the
    cluster's representative): ``row_id`` as its id, then a scraped feed's ``meta``
    (FEED_FIELDS), the input ``text``, and ``cluster`` as (cluster_id, cluster_size),
    each only when given, in output_fields' order. Every engine builds rows here."""
    out = base | {"id": row_id}
    if meta is not None:
        out.update((name, meta.get(name)) for name in FEED_FIELDS)
    if text is not None:
        out["text"] = text
    if cluster is not None:
        out["cluster_id"], out["cluster_size"] = cluster
    return out


def scored_rows(rows: list[dict[str, Any]], fmt: str, model_calls: int | None = None) -> _Scored:
    """Output rows encoded for ``fmt``, with their flagged and per-category counts."""
    per_category = dict.fromkeys(CATEGORY_NAMES, 0)
    for row in rows:
        for name in row["categories"]:
            per_category[name] = per_category.get(name, 0) + 1
    flagged = sum(row["flag"] for row in rows)
    return _Scored(encode_rows(rows, fmt), flagged, per_category, model_calls)


def _batch(chunk: Chunk) -> tuple[list[Any], list[str], list[str | None]]:
    """The part of a chunk a scoring process needs (rejections stay here)."""
    rows = chunk.rows
    return [r.id for r in rows], [r.text for r in rows], [r.author_context for r in rows]


def _work(
    clf: Classifier, fmt: str | None, batch: tuple[list[Any], list[str], list[str | None]]
) -> Any:
    """A chunk's encoded rows and counts (_Scored), or with ``fmt`` None its bare output
    rows, for the parent to fan out (collapse) and encode."""
    if fmt is None:
        return _output_rows(clf, *batch)[0]
    return _score_batch(clf, fmt, *batch)


def _scored(
    chunks: Iterator[Chunk], options: ScoreOptions, fmt: str | None
) -> Iterator[tuple[Chunk, Any]]:
    """Each chunk with its scores, in input order. The model is loaded here only when
    scoring here: with one worker, or an input of one chunk (where starting processes
    would cost more than they save); otherwise each process loads it. A transformer on
    GPUs gets one process per GPU (gpus.py)."""
    devices = _gpu_devices(options)
    workers = len(devices) or options.workers or os.cpu_count() or 1
    head = list(itertools.islice(chunks, 2))
    stream = itertools.chain(head, chunks)
    if workers == 1 or len(head) < 2:
        clf = load_scoring_model(options.model, options.runtime, options.flag_threshold)
        for chunk in stream:
            yield chunk, _work(clf, fmt, _batch(chunk))
    else:
        yield from _scored_in_processes(stream, options, fmt, workers, devices)


def _gpu_devices(options: ScoreOptions) -> list[str]:
    """One CUDA device per scoring process for a transformer run on torch; [] otherwise
    (the baseline, ONNX on CPU, or no GPU visible)."""
    from .gpus import assign_devices, visible_devices

    if options.runtime == "onnx" or options.workers == 1:
        return []
    model_dir = Path(options.model) if options.model is not None else default_model_dir()
    if not (model_dir / MANIFEST_FILE).is_file():
        return []  # not a model: load_model says so in its words
    if Manifest.read(model_dir).kind != "transformer":
        return []
    try:
        return assign_devices(visible_devices(), options.gpus)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _scored_in_processes(
    chunks: Iterator[Chunk],
    options: ScoreOptions,
    fmt: str | None,
    workers: int,
    devices: list[str] | None = None,
) -> Iterator[tuple[Chunk, Any]]:
    # spawn, not fork: no inherited lock or output file descriptors, no forked threads
    # (torch, onnxruntime, rich's refresh thread); each process loads the model once.
    # With ``devices`` (one per worker), each process takes one from a queue and sees only it.
    threads = max(1, (os.cpu_count() or 1) // workers)
    context = multiprocessing.get_context("spawn")
    device_queue = None
    if devices:
        device_queue = context.Queue()
        for device in devices:
            device_queue.put(device)
    init = (options.model, options.runtime, fmt, threads, options.flag_threshold, device_queue)
    pool = ProcessPoolExecutor(workers, context, initializer=_init_worker, initargs=init)
    pending: deque[tuple[Chunk, Future[_Scored]]] = deque()
    try:
        for chunk in chunks:
            pending.append((chunk, pool.submit(_score_in_worker, _batch(chunk))))
            if len(pending) > _IN_FLIGHT_PER_WORKER * workers:
                yield _result(*pending.popleft())
        while pending:
            yield _result(*pending.popleft())
    finally:
        pool.shutdown(wait=not pending, cancel_futures=True)


def _result(chunk: Chunk, future: Future[Any]) -> tuple[Chunk, Any]:
    try:
        return chunk, future.result()
    except BrokenProcessPool:
        raise InputError(
            "a scoring process died (killed, or out of memory?); see any messages above, "
            "and try fewer --workers or a smaller --batch-size"
        ) from None


_worker: dict[str, Any] = {}


def load_scoring_model(
    model: Path | str | None, runtime: str, flag_threshold: float | None = None
) -> Classifier:
    """``load_model``, flagging at ``flag_threshold`` instead of the tuned threshold when
    given (``--min-precision``): what every engine's workers load."""
    clf = load_model(model, runtime=runtime)
    if flag_threshold is not None:
        clf.manifest.thresholds["flag"] = flag_threshold
    return clf


def _init_worker(
    model: Path | None,
    runtime: str,
    fmt: str | None,
    threads: int,
    flag_threshold: float | None,
    device_queue: Any = None,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    for var in _THREAD_VARS:  # before numpy or torch are imported: no oversubscription
        os.environ.setdefault(var, str(threads))
    if device_queue is not None:  # before torch is imported (by load_model): one GPU each
        from .gpus import worker_env

        os.environ.update(worker_env(device_queue.get(timeout=60)))
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    _worker["fmt"] = fmt
    try:
        _worker["clf"] = load_scoring_model(model, runtime, flag_threshold)
    except Exception as exc:  # handed to the parent with the first chunk, as it is
        _worker["error"] = exc


def _exit_with_parent() -> None:
    """A worker whose scorer was killed (kill -9) would otherwise wait for work forever."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        parent.join()
        os._exit(1)


def _score_in_worker(batch: tuple[list[Any], list[str], list[str | None]]) -> Any:
    if "error" in _worker:
        raise _worker["error"]
    return _work(_worker["clf"], _worker["fmt"], batch)


# --------------------------------------------------------------------------- feeds, collapse


@dataclass
class _Plan:
    """One chunk's way through collapse: the rows the model scores, and for each row of
    the chunk its cluster (None without collapse) and its index among the scored rows
    (None: the cluster's result comes from the cache)."""

    chunk: Chunk
    to_score: list[Row]
    entries: list[tuple[int | None, int | None]]


class _Pipeline:
    """What a run adds to plain scoring: the feed's metadata columns, the input text, and
    collapse. ``plain`` runs take the original path, where processes encode the rows."""

    def __init__(self, options: ScoreOptions) -> None:
        self.feed = feed_format(options.input, options.fields, options.format)
        collapse = options.collapse if options.collapse is not None else self.feed is not None
        self.keep_text = options.keep_text
        self.columns = output_fields(self.feed is not None, self.keep_text, collapse)
        self.clusterer = Clusterer() if collapse else None
        workers = options.workers or os.cpu_count() or 1
        in_flight = (_IN_FLIGHT_PER_WORKER * workers + 3) * options.batch_size
        self.cache = ResultCache(max(options.cache_rows, 2 * in_flight))
        self.options = options

    @property
    def plain(self) -> bool:
        return self.columns == OUTPUT_FIELDS

    def chunks(self, skip: int = 0) -> Iterator[Chunk]:
        """The input's chunks after the first ``skip`` records. With collapse, the first
        ``skip`` rows are read and clustered first (a resumed run), so clusters are those
        of an uninterrupted run."""
        o = self.options
        if self.plain:
            return read_chunks(o.input, o.fields, o.batch_size, skip=skip)
        if self.clusterer is None or not skip:
            return chunk_items(
                o.input, read_input(o.input, o.fields, self.feed, skip), o.batch_size, skip
            )
        items = read_input(o.input, o.fields, self.feed)
        left = skip
        while left and (head := list(itertools.islice(items, min(left, o.batch_size)))):
            left -= len(head)
            self.clusterer.assign([r for r in head if isinstance(r, Row)])
        return chunk_items(o.input, items, o.batch_size, skip)

    def scored(self, chunks: Iterator[Chunk], fmt: str) -> Iterator[tuple[Chunk, _Scored]]:
        """Each chunk with its encoded output rows and counts, in input order."""
        if self.plain:
            yield from _scored(chunks, self.options, fmt)
            return
        plans: deque[_Plan] = deque()

        def to_score() -> Iterator[Chunk]:
            for chunk in chunks:
                plans.append(self._plan(chunk))
                yield Chunk(chunk.start, rows=plans[-1].to_score)

        for _, results in _scored(to_score(), self.options, None):
            plan = plans.popleft()
            yield plan.chunk, self._assemble(plan, results, fmt)

    def _plan(self, chunk: Chunk) -> _Plan:
        if self.clusterer is None:
            return _Plan(chunk, chunk.rows, [(None, i) for i in range(len(chunk.rows))])
        to_score: list[Row] = []
        entries: list[tuple[int | None, int | None]] = []
        for row, (cluster, new) in zip(chunk.rows, self.clusterer.assign(chunk.rows), strict=True):
            if not new and cluster in self.cache:
                self.cache.touch(cluster)
                entries.append((cluster, None))
            else:  # a representative, or a member whose cluster's result was evicted
                self.cache.reserve(cluster)
                entries.append((cluster, len(to_score)))
                to_score.append(row)
        return _Plan(chunk, to_score, entries)

    def _assemble(self, plan: _Plan, results: list[dict[str, Any]], fmt: str) -> _Scored:
        """The output rows of a chunk: each row's own or its cluster's result, its id,
        and the extra columns."""
        rows: list[dict[str, Any]] = []
        feed, clusterer = self.feed is not None, self.clusterer
        for row, (cluster, index) in zip(plan.chunk.rows, plan.entries, strict=True):
            if index is not None:
                base = results[index]
                if cluster is not None:
                    self.cache.put(cluster, base)
            else:
                assert cluster is not None
                base = self.cache.get(cluster)
            id_size = None
            if clusterer is not None and cluster is not None:
                id_size = (clusterer.rep_ids[cluster], clusterer.size(cluster))
            meta = (row.meta or {}) if feed else None
            rows.append(
                output_row(base, row.id, meta, row.text if self.keep_text else None, id_size)
            )
        return scored_rows(rows, fmt, len(plan.to_score))

    def cluster_table(self) -> Iterator[dict[str, Any]]:
        """``{"cluster_id", "cluster_size"}`` of every cluster of two or more rows."""
        assert self.clusterer is not None
        sizes = self.clusterer.sizes()
        for cluster in np.flatnonzero(sizes > 1):
            yield {
                "cluster_id": self.clusterer.rep_ids[cluster],
                "cluster_size": int(sizes[cluster]),
            }


# --------------------------------------------------------------------------- where rows go


def output_directory(output: Path | str | None) -> Path | None:
    """The run directory when OUTPUT names one: an existing directory, a name ending in
    a slash, or a name without a suffix; None for a file or stdout."""
    if output is None or str(output) == STDIO:
        return None
    path = Path(output)
    if path.is_dir() or str(output).endswith(("/", os.sep)) or not path.suffix:
        if path.exists() and not path.is_dir():
            raise InputError(
                f"{output}: exists and is not a directory; name an output file "
                "ending in .jsonl, .csv or .parquet"
            )
        return path
    return None


def _output_file(options: ScoreOptions) -> Path | None:
    """The output file, or None for stdout."""
    out = options.output
    return None if out is None or str(out) == STDIO else Path(out)


def _partial(out: Path) -> Path:
    return out.with_name(f".{out.name}.partial")


def _errors_file(options: ScoreOptions, out: Path | None) -> Path:
    if options.errors:
        return Path(options.errors)
    return STDOUT_ERRORS if out is None else out.with_name(out.name + ".errors.jsonl")


def _refuse_overlapping_paths(options: ScoreOptions, directory: Path | None) -> None:
    """Refuse, before anything is opened for writing, a written path that is the input or
    another written path (also through symlinks or hard links): writing it would destroy
    the input (``-o`` = INPUT), or lose rows (``--errors`` = ``-o``)."""
    source = None if str(options.input) == STDIO else Path(options.input)
    if directory is not None:
        if source is not None and directory.is_dir():
            for path in directory.iterdir():
                if _same_file(source, path):
                    raise InputError(
                        f"refusing to write to {directory}: it holds the input {source} (as "
                        f"{path.name}); choose another -o"
                    )
        return
    out = _output_file(options)
    paths: list[tuple[str, str, Path]] = []  # (what, the option naming it, path)
    if source is not None:
        paths.append(("the input", "INPUT", source))
    if out is not None:
        paths += [("the output", "-o", out), ("the output's temporary file", "-o", _partial(out))]
    paths.append(("the error file", "--errors", _errors_file(options, out)))
    for (what_a, _, a), (what_b, option, b) in itertools.combinations(paths, 2):
        if _same_file(a, b):
            raise InputError(
                f"refusing to write {b} ({what_b}): it is the same file as {a} ({what_a}); "
                f"choose another {option}"
            )


def _same_file(a: Path, b: Path) -> bool:
    """One file under two names: the same inode when both exist (symlinks and hard links
    included), else the same path once symlinks are resolved."""
    try:
        return os.path.samestat(a.stat(), b.stat())
    except OSError:
        return a.resolve() == b.resolve()


@dataclass
class FileRun:
    """A run writing one output file (or stdout): its format, writer, error file and
    summary, as ``file_output`` opens them."""

    format: str
    writer: RowWriter
    rejects: ErrorFile
    summary: Summary


@contextlib.contextmanager
def file_output(options: ScoreOptions, columns: Sequence[str] = OUTPUT_FIELDS) -> Iterator[FileRun]:
    """Open the output of a one-file run, for any engine: rows go to a hidden
    ``.OUT.partial`` renamed to OUT when the block ends with something scored, and removed
    in every other case; rejections go to the error file. A write failure (a full disk,
    a read-only directory) becomes one InputError naming OUTPUT. On a normal exit the
    summary's ``errors_path`` names the error file when anything was rejected."""
    out = _output_file(options)
    fmt = output_format(out) if out else "jsonl"
    errors = _errors_file(options, out)
    summary = Summary(output=out)
    partial = _partial(out) if out else None
    hint = "nothing was left at OUTPUT; free space and run again"
    try:
        with output_errors(out or "stdout", hint):
            if out:
                out.parent.mkdir(parents=True, exist_ok=True)
            with ErrorFile(errors) as rejects, RowWriter(partial, fmt, columns) as writer:
                yield FileRun(fmt, writer, rejects, summary)
            if partial and out and summary.scored:
                os.replace(partial, out)
    finally:
        if partial:
            with contextlib.suppress(OSError):  # never hide the error that brought us here
                partial.unlink(missing_ok=True)
    summary.errors_path = errors if rejects.count else None


def _score_to_file(options: ScoreOptions, progress: Progress | None) -> tuple[Summary, int]:
    out = _output_file(options)
    if out:
        output_format(out)  # an OUTPUT of unknown format is refused before INPUT is read
    pipeline = _Pipeline(options)
    chunks = pipeline.chunks()
    with file_output(options, pipeline.columns) as run:
        for chunk, scored in pipeline.scored(chunks, run.format):
            run.writer.write(scored.payload)
            run.rejects.write(chunk.rejections)
            run.summary.merge(_counts(chunk, scored))
            if progress:
                progress(chunk.size)
    summary = run.summary
    if pipeline.clusterer is not None:
        summary.clusters = pipeline.clusterer.clusters
    return summary, summary.rows_read


def _score_to_directory(
    options: ScoreOptions, directory: Path, progress: Progress | None
) -> tuple[Summary, int]:
    if options.errors:
        raise InputError(
            "--errors applies to file output; a sharded run writes part-NNNNN.errors.jsonl "
            "beside each shard"
        )
    fingerprint = input_fingerprint(options.input)
    model_id = _model_id(options.model)
    pipeline = _Pipeline(options)
    processed = 0
    hint = "completed shards are kept: free space and run again with --resume"
    with (
        output_errors(directory, hint),
        open_run(
            directory,
            source=options.input,
            fingerprint=fingerprint,
            model_id=model_id,
            shard_format=options.shard_format,
            shard_rows=options.shard_rows,
            resume=options.resume,
            force=options.force,
            columns=pipeline.columns,
        ) as run,
    ):
        chunks = pipeline.chunks(skip=run.skip)
        for chunk, scored in pipeline.scored(chunks, run.format):
            run.write(chunk, scored.payload, _counts(chunk, scored))
            processed += chunk.size
            if progress:
                progress(chunk.size)
        clustered = pipeline.clusterer is not None
        run.finish({CLUSTERS_FILE: pipeline.cluster_table()} if clustered else None)
    summary = Summary(output=directory)
    if pipeline.clusterer is not None:
        summary.clusters = pipeline.clusterer.clusters
    for shard in run.shards:
        summary.merge(shard)
    if summary.rejected:
        summary.errors_path = directory / "part-*.errors.jsonl"
    return summary, processed


def _model_id(model: Path | None) -> str:
    """The model's ``name@version`` from its manifest, without loading its weights."""
    return Manifest.read(Path(model) if model is not None else default_model_dir()).model_id
