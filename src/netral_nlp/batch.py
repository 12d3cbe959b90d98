"""Score a whole input with one model: chunks stream through scoring processes and come
back in input order; rows are written, rejected records go to an error file, and a
summary is returned. Invariant: ids written + ids rejected = ids read, each once.

Two kinds of OUTPUT:

* a file (``.jsonl``, ``.csv``, ``.parquet``) or stdout: written under a hidden
  ``.NAME.partial`` name and renamed into place when the run ends;
* a directory, resumable (RELIABILITY.md, "Batch scoring"): complete shards
  ``part-NNNNN.jsonl`` (or ``.parquet``) renamed into place, each with its own
  ``part-NNNNN.errors.jsonl`` when it has rejections, and a ``manifest.json`` listing
  the completed shards. Files a crash left behind that the manifest does not list are
  removed on ``--resume``; a lock refuses a second scorer on the same directory.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import itertools
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .io import (
    STDIO,
    Chunk,
    Encoded,
    FieldMap,
    InputError,
    Rejection,
    RowWriter,
    encode_rows,
    output_format,
    read_chunks,
)
from .labels import CATEGORY_NAMES, display_name
from .manifest import Manifest
from .model import Classifier, default_model_dir, load_model

MANIFEST = "manifest.json"
LOCK_FILE = ".netral.lock"
STDOUT_ERRORS = Path("netral-errors.jsonl")
SHARD_FORMATS = ("jsonl", "parquet")
_MIB = 1 << 20
_IN_FLIGHT_PER_WORKER = 2  # chunks queued per process: enough to hide I/O, memory stays flat
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_FULL_DISK = (errno.ENOSPC, errno.EDQUOT)


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
    batch_size: int = 2048
    workers: int = 0  # 0: one process per CPU core; 1: score in this process
    runtime: str = "auto"
    resume: bool = False
    force: bool = False
    quiet: bool = False
    shard_rows: int = 100_000  # directory output: input records per shard (whole chunks)
    shard_format: str = "jsonl"  # directory output: "jsonl" or "parquet"
    flag_threshold: float | None = None  # replaces the model's flag threshold (--min-precision)

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.workers < 0 or self.shard_rows < 1:
            raise ValueError("batch_size and shard_rows must be >= 1, workers >= 0")
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
    per_category: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CATEGORY_NAMES, 0))
    seconds: float = 0.0
    rows_per_s: float = 0.0
    errors_path: Path | None = None
    output: Path | None = None

    def add(self, chunk: Chunk, scored: _Scored) -> None:
        self.merge(
            {
                "rows_read": chunk.size,
                "scored": len(chunk.rows),
                "rejected": len(chunk.rejections),
                "flagged": scored.flagged,
                "per_category": scored.per_category,
            }
        )

    def counts(self) -> dict[str, Any]:
        """The counters as a JSON-ready dict (what a manifest shard entry records)."""
        keys = ("rows_read", "scored", "rejected", "flagged")
        return {k: getattr(self, k) for k in keys} | {"per_category": dict(self.per_category)}

    def merge(self, counts: dict[str, Any]) -> None:
        self.rows_read += counts["rows_read"]
        self.scored += counts["scored"]
        self.rejected += counts["rejected"]
        self.flagged += counts["flagged"]
        for name, n in counts["per_category"].items():
            self.per_category[name] = self.per_category.get(name, 0) + n


@dataclass
class _Scored:
    """What scoring one chunk gives back: the encoded rows and their counts."""

    payload: Encoded
    flagged: int
    per_category: dict[str, int]


def score_file(options: ScoreOptions) -> Summary:
    """Score every record of ``options.input``; see the module docstring for outputs.

    Returns when at least one row was scored; raises InputError when none could be
    (every record rejected), after the summary is printed.
    """
    started = time.perf_counter()
    directory = _output_directory(options.output)
    if directory is None:
        summary, processed = _score_to_file(options)
    else:
        summary, processed = _score_to_directory(options, directory)
    summary.seconds = time.perf_counter() - started
    summary.rows_per_s = processed / summary.seconds if summary.seconds else 0.0
    if not options.quiet:
        print_summary(summary)
    if not summary.scored:
        raise InputError(
            f"no row could be scored: {summary.rejected} rejected, see {summary.errors_path}"
        )
    return summary


def print_summary(summary: Summary) -> None:
    """The end-of-run summary, on stderr (plain text when stderr is not a terminal)."""
    from rich.console import Console

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    s = summary
    share = s.flagged / s.scored if s.scored else 0.0
    console.print(
        f"{s.rows_read:,} rows read: {s.scored:,} scored, {s.rejected:,} rejected, "
        f"{s.flagged:,} flagged ({share:.1%}); {s.seconds:.1f} s, {s.rows_per_s:,.0f} rows/s",
        markup=False,
    )
    for name, n in s.per_category.items():
        console.print(f"  {n:>9,}  {name:<24} {display_name(name)}", markup=False)


# --------------------------------------------------------------------------- scoring


def _score_rows(
    clf: Classifier, fmt: str, ids: list[Any], texts: list[str], authors: list[str | None]
) -> _Scored:
    preds = clf.predict(texts, authors) if texts else []
    model_id = clf.manifest.model_id
    rows = [p.row(i, model_id) for i, p in zip(ids, preds, strict=True)]
    per_category = dict.fromkeys(CATEGORY_NAMES, 0)
    for p in preds:
        for name in p.categories:
            per_category[name] = per_category.get(name, 0) + 1
    return _Scored(encode_rows(rows, fmt), sum(p.flag for p in preds), per_category)


def _batch(chunk: Chunk) -> tuple[list[Any], list[str], list[str | None]]:
    """The part of a chunk a scoring process needs (rejections stay here)."""
    rows = chunk.rows
    return [r.id for r in rows], [r.text for r in rows], [r.author_context for r in rows]


def _scored(
    chunks: Iterator[Chunk], options: ScoreOptions, fmt: str
) -> Iterator[tuple[Chunk, _Scored]]:
    """Each chunk with its scores, in input order. The model is loaded here only when
    scoring here: with one worker, or an input of one chunk (where starting processes
    would cost more than they save); otherwise each process loads it."""
    workers = options.workers or os.cpu_count() or 1
    head = list(itertools.islice(chunks, 2))
    stream = itertools.chain(head, chunks)
    if workers == 1 or len(head) < 2:
        clf = _load(options.model, options.runtime, options.flag_threshold)
        for chunk in stream:
            yield chunk, _score_rows(clf, fmt, *_batch(chunk))
    else:
        yield from _scored_in_processes(stream, options, fmt, workers)


def _scored_in_processes(
    chunks: Iterator[Chunk], options: ScoreOptions, fmt: str, workers: int
) -> Iterator[tuple[Chunk, _Scored]]:
    # spawn, not fork: no inherited lock or output file descriptors, no forked threads
    # (torch, onnxruntime, rich's refresh thread); each process loads the model once.
    threads = max(1, (os.cpu_count() or 1) // workers)
    init = (options.model, options.runtime, fmt, threads, options.flag_threshold)
    pool = ProcessPoolExecutor(
        workers, multiprocessing.get_context("spawn"), initializer=_init_worker, initargs=init
    )
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


def _result(chunk: Chunk, future: Future[_Scored]) -> tuple[Chunk, _Scored]:
    try:
        return chunk, future.result()
    except BrokenProcessPool:
        raise InputError(
            "a scoring process died (killed, or out of memory?); see any messages above, "
            "and try fewer --workers or a smaller --batch-size"
        ) from None


_worker: dict[str, Any] = {}


def _load(model: Path | None, runtime: str, flag_threshold: float | None) -> Classifier:
    clf = load_model(model, runtime=runtime)
    if flag_threshold is not None:
        clf.manifest.thresholds["flag"] = flag_threshold
    return clf


def _init_worker(
    model: Path | None, runtime: str, fmt: str, threads: int, flag_threshold: float | None
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    for var in _THREAD_VARS:  # before numpy or torch are imported: no oversubscription
        os.environ.setdefault(var, str(threads))
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    _worker["fmt"] = fmt
    try:
        _worker["clf"] = _load(model, runtime, flag_threshold)
    except Exception as exc:  # handed to the parent with the first chunk, as it is
        _worker["error"] = exc


def _exit_with_parent() -> None:
    """A worker whose scorer was killed (kill -9) would otherwise wait for work forever."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        parent.join()
        os._exit(1)


def _score_in_worker(batch: tuple[list[Any], list[str], list[str | None]]) -> _Scored:
    if "error" in _worker:
        raise _worker["error"]
    return _score_rows(_worker["clf"], _worker["fmt"], *batch)


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int], None]]:
    """``advance(n_rows)``: a rows/s progress line on stderr, or nothing when disabled."""
    if not enabled:
        yield lambda n: None
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


def _show_progress(options: ScoreOptions) -> bool:
    return not options.quiet and sys.stderr.isatty()


@contextmanager
def _disk_full_is_an_error(where: Path | str, hint: str) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        if exc.errno not in _FULL_DISK:
            raise
        raise InputError(f"disk full while writing {where}; {hint}") from None


class _ErrorFile:
    """Rejections as JSON Lines, written to ``path`` from the first one on; a file left
    there by an earlier run is removed, so the file always describes this run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._writer: RowWriter | None = None
        path.unlink(missing_ok=True)

    def write(self, rejections: list[Rejection]) -> None:
        if not rejections:
            return
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = RowWriter(self.path, "jsonl")
        self._writer.write_rows([r.record() for r in rejections])
        self.count += len(rejections)

    def close(self, fsync: bool = False) -> None:
        if self._writer is not None:
            self._writer.close(fsync=fsync)

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.abort()

    def __enter__(self) -> _ErrorFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()  # after a failure too: the rejections so far are worth keeping


# --------------------------------------------------------------------------- file output


def _output_directory(output: Path | str | None) -> Path | None:
    """The run directory when OUTPUT names one: an existing directory, a name ending in
    a slash, or a name without a suffix."""
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


def _score_to_file(options: ScoreOptions) -> tuple[Summary, int]:
    out = None if options.output is None or str(options.output) == STDIO else Path(options.output)
    fmt = output_format(out) if out else "jsonl"
    errors = Path(options.errors) if options.errors else _default_errors(out)
    chunks = read_chunks(options.input, options.fields, options.batch_size)
    summary = Summary(output=out)
    partial = out.with_name(f".{out.name}.partial") if out else None
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
    hint = "nothing was left at OUTPUT; free space and run again"
    try:
        with (
            _disk_full_is_an_error(out or "stdout", hint),
            _ErrorFile(errors) as rejects,
            RowWriter(partial, fmt) as writer,
            _progress(_show_progress(options)) as advance,
        ):
            for chunk, scored in _scored(chunks, options, fmt):
                writer.write(scored.payload)
                rejects.write(chunk.rejections)
                summary.add(chunk, scored)
                advance(chunk.size)
        if partial and out and summary.scored:
            os.replace(partial, out)
    finally:
        if partial:
            partial.unlink(missing_ok=True)
    summary.errors_path = errors if rejects.count else None
    return summary, summary.rows_read


def _default_errors(out: Path | None) -> Path:
    return STDOUT_ERRORS if out is None else out.with_name(out.name + ".errors.jsonl")


# --------------------------------------------------------------------------- directory output


def _score_to_directory(options: ScoreOptions, directory: Path) -> tuple[Summary, int]:
    if options.errors:
        raise InputError(
            "--errors applies to file output; a sharded run writes part-NNNNN.errors.jsonl "
            "beside each shard"
        )
    fingerprint = input_fingerprint(options.input)
    directory.mkdir(parents=True, exist_ok=True)
    with _run_lock(directory):
        run = _open_run(directory, options, _model_id(options.model), fingerprint)
        skip = run["shards"][-1]["end"] if run["shards"] else 0
        chunks = read_chunks(options.input, options.fields, options.batch_size, skip=skip)
        processed = _write_shards(directory, run, _scored(chunks, options, run["format"]), options)
        run["complete"] = True
        _write_manifest(directory, run)
    summary = Summary(output=directory)
    for shard in run["shards"]:
        summary.merge(shard)
    if summary.rejected:
        summary.errors_path = directory / "part-*.errors.jsonl"
    return summary, processed


def shard_files(directory: str | Path) -> list[Path]:
    """The completed shards of a run directory, in input order."""
    directory = Path(directory)
    return [directory / s["file"] for s in _read_manifest(directory / MANIFEST)["shards"]]


def _model_id(model: Path | None) -> str:
    """The model's ``name@version`` from its manifest, without loading its weights."""
    return Manifest.read(Path(model) if model is not None else default_model_dir()).model_id


def input_fingerprint(source: str | Path) -> dict[str, Any] | None:
    """Size, mtime and sha256 of the first and last MiB of a file; None for stdin."""
    if str(source) == STDIO:
        return None
    path = Path(source)
    if not path.is_file():
        raise InputError(f"{source}: no such file")
    st = path.stat()
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        digest.update(fh.read(_MIB))
        if st.st_size > _MIB:
            fh.seek(max(_MIB, st.st_size - _MIB))
            digest.update(fh.read(_MIB))
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256_ends": digest.hexdigest()}


@contextmanager
def _run_lock(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on the directory; released by the kernel if we are killed."""
    fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise InputError(
            f"{directory}: another `netral score` is writing to this directory"
        ) from None
    try:
        yield
    finally:
        os.close(fd)


def _open_run(
    directory: Path, options: ScoreOptions, model_id: str, fingerprint: dict[str, Any] | None
) -> dict[str, Any]:
    """The run's manifest: the existing one when resuming (checked), else a new one.

    A run without a completed shard has nothing to keep and simply starts again.
    """
    path = directory / MANIFEST
    run = _read_manifest(path) if path.exists() else None
    if run and (run["shards"] or run["complete"]):
        if not options.resume:
            state = "complete" if run["complete"] else "interrupted"
            raise InputError(
                f"{directory} already holds a scoring run ({state}, {len(run['shards'])} "
                "shards); add --resume to continue it, or choose an empty directory"
            )
        _check_resumable(run, options, model_id, fingerprint)
    else:
        if run is None and any(p.name != LOCK_FILE for p in directory.iterdir()):
            raise InputError(
                f"{directory}: not empty and holds no {MANIFEST}; choose an empty directory"
            )
        run = {
            "input": str(Path(options.input).resolve()) if fingerprint else STDIO,
            "fingerprint": fingerprint,
            "model": model_id,
            "format": options.shard_format,
            "complete": False,
            "shards": [],
        }
        _write_manifest(directory, run)
    _remove_unlisted(directory, run)
    return run


def _read_manifest(path: Path) -> dict[str, Any]:
    keys = {"input", "fingerprint", "model", "format", "complete", "shards"}
    try:
        run = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"{path.parent}: no {MANIFEST}; not a directory written by `netral score`"
        ) from None
    except ValueError as exc:
        raise InputError(f"{path}: unreadable run manifest ({exc})") from None
    if not isinstance(run, dict) or not keys <= run.keys():
        raise InputError(f"{path}: not a netral run manifest (needs {', '.join(sorted(keys))})")
    return run


def _check_resumable(
    run: dict[str, Any], options: ScoreOptions, model_id: str, fingerprint: dict[str, Any] | None
) -> None:
    if fingerprint is None or run["fingerprint"] is None:
        raise InputError("a run that reads stdin cannot be resumed: its input cannot be checked")
    if run["fingerprint"] != fingerprint and not options.force:
        changed = ", ".join(k for k in fingerprint if run["fingerprint"].get(k) != fingerprint[k])
        raise InputError(
            f"{options.input} changed since the run began ({changed} differ from "
            f"{run['input']}); add --force to resume anyway"
        )
    if run["model"] != model_id and not options.force:
        raise InputError(
            f"the run began with model {run['model']}, not {model_id}; add --force to resume anyway"
        )
    run["fingerprint"] = fingerprint
    run["model"] = model_id
    run["complete"] = False


def _remove_unlisted(directory: Path, run: dict[str, Any]) -> None:
    """Remove shards, error files and temporaries a crash left outside the manifest."""
    listed = {s["file"] for s in run["shards"]} | {
        s["errors"] for s in run["shards"] if s["errors"]
    }
    for path in directory.iterdir():
        if path.name.startswith(("part-", ".part-", ".manifest")) and path.name not in listed:
            path.unlink()


def _write_manifest(directory: Path, run: dict[str, Any]) -> None:
    """Replace manifest.json atomically: a crash leaves the old or the new one, whole."""
    tmp = directory / f".{MANIFEST}.tmp"
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(run, fh, indent=1, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, directory / MANIFEST)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _Shard:
    """One shard in the making: rows and rejections go to hidden temporary files that
    ``commit`` renames into place; ``abort`` leaves nothing behind."""

    def __init__(self, directory: Path, index: int, fmt: str, start: int) -> None:
        self.directory = directory
        self.name = f"part-{index:05d}.{fmt}"
        self.errors_name = f"part-{index:05d}.errors.jsonl"
        self.tmp = directory / f".{self.name}.tmp"
        self.writer = RowWriter(self.tmp, fmt)
        self.errors = _ErrorFile(directory / f".{self.errors_name}.tmp")
        self.counts = Summary()
        self.start = self.end = start
        self.first_line = self.last_line = 0

    def add(self, chunk: Chunk, scored: _Scored) -> None:
        self.writer.write(scored.payload)
        self.errors.write(chunk.rejections)
        self.counts.add(chunk, scored)
        self.end = chunk.end
        self.first_line = self.first_line or chunk.first_line
        self.last_line = chunk.last_line

    def commit(self) -> dict[str, Any]:
        """Rename the shard into place; return its manifest entry."""
        self.writer.close(fsync=True)
        self.errors.close(fsync=True)
        if self.errors.count:
            os.replace(self.errors.path, self.directory / self.errors_name)
        os.replace(self.tmp, self.directory / self.name)
        return {
            "file": self.name,
            "errors": self.errors_name if self.errors.count else None,
            "start": self.start,
            "end": self.end,
            "first_line": self.first_line,
            "last_line": self.last_line,
        } | self.counts.counts()

    def abort(self) -> None:
        """Remove every file of this shard: called only while no manifest lists it."""
        self.writer.abort()
        self.errors.abort()
        for path in (
            self.tmp,
            self.errors.path,
            self.directory / self.name,
            self.directory / self.errors_name,
        ):
            path.unlink(missing_ok=True)


def _write_shards(
    directory: Path,
    run: dict[str, Any],
    scored: Iterator[tuple[Chunk, _Scored]],
    options: ScoreOptions,
) -> int:
    """Write shards of about ``shard_rows`` records; returns the records processed."""
    shard: _Shard | None = None
    processed = 0
    hint = "completed shards are kept: free space and run again with --resume"
    try:
        with _disk_full_is_an_error(directory, hint), _progress(_show_progress(options)) as advance:
            for chunk, result in scored:
                if shard is None:
                    shard = _Shard(directory, len(run["shards"]), run["format"], chunk.start)
                shard.add(chunk, result)
                processed += chunk.size
                advance(chunk.size)
                if shard.end - shard.start >= options.shard_rows:
                    _commit(directory, run, shard)
                    shard = None
            if shard is not None:
                _commit(directory, run, shard)
                shard = None
    finally:
        if shard is not None:
            shard.abort()
    return processed


def _commit(directory: Path, run: dict[str, Any], shard: _Shard) -> None:
    run["shards"].append(shard.commit())
    _write_manifest(directory, run)
