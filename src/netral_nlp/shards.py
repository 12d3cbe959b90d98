"""The resumable run directory of ``netral score -o DIR`` (RELIABILITY.md, "Batch scoring").

A run directory holds complete shards ``part-NNNNN.jsonl`` (or ``.parquet``), each with
its own ``part-NNNNN.errors.jsonl`` when it has rejections, and a ``manifest.json``
listing the completed shards with the input records each covers and their counts. A
shard is written under a hidden temporary name and renamed into place before the
manifest lists it, so a crash leaves at worst unlisted files, which the next
``--resume`` removes. A lock (``flock``, released by the kernel when the scorer dies)
refuses a second scorer on the same directory; an input fingerprint refuses resuming
against a changed input unless forced.

This module knows shards, not scoring: the caller hands it each chunk with its encoded
rows and its counts (a dict of integers, or of dicts of integers), which it sums per
shard into the manifest.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .io import STDIO, Chunk, InputError
from .output import Encoded, ErrorFile, RowWriter
from .prediction import OUTPUT_FIELDS

MANIFEST = "manifest.json"
LOCK_FILE = ".netral.lock"
SHARD_FORMATS = ("jsonl", "parquet")
_MANIFEST_KEYS = frozenset({"input", "fingerprint", "model", "format", "complete", "shards"})
_MIB = 1 << 20


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


def read_run_manifest(directory: str | Path) -> dict[str, Any]:
    """The manifest of a run directory; InputError when it is missing or not a run's."""
    path = Path(directory) / MANIFEST
    try:
        run = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"{path.parent}: no {MANIFEST}; not a directory written by `netral score`"
        ) from None
    except ValueError as exc:
        raise InputError(f"{path}: unreadable run manifest ({exc})") from None
    if not isinstance(run, dict) or not _MANIFEST_KEYS <= run.keys():
        keys = ", ".join(sorted(_MANIFEST_KEYS))
        raise InputError(f"{path}: not a netral run manifest (needs {keys})")
    return run


def shard_files(directory: str | Path) -> list[Path]:
    """The completed shards of a run directory, in input order."""
    directory = Path(directory)
    return [directory / s["file"] for s in read_run_manifest(directory)["shards"]]


def scored_files(path: str | Path) -> list[Path]:
    """The files of a scored output: the file itself, or a run directory's completed
    shards in input order; InputError when ``path`` does not exist."""
    if Path(path).is_dir():
        return shard_files(path)
    if Path(path).is_file():
        return [Path(path)]
    raise InputError(f"{path}: no such file or directory")


@contextmanager
def open_run(
    directory: Path,
    *,
    source: str | Path,
    fingerprint: dict[str, Any] | None,
    model_id: str,
    shard_format: str = "jsonl",
    shard_rows: int = 100_000,
    resume: bool = False,
    force: bool = False,
    columns: Sequence[str] = OUTPUT_FIELDS,
) -> Iterator[RunDirectory]:
    """Create or resume the run in ``directory`` and hold its lock while the caller writes.

    ``fingerprint`` is ``input_fingerprint(source)``; a new run takes ``shard_format``, a
    resumed one keeps its own. On leaving, a shard not yet committed is removed (a
    failure); call :meth:`RunDirectory.finish` first to keep it. ``columns`` are the
    output rows' columns (the Parquet schema of the shards).
    """
    if shard_format not in SHARD_FORMATS:
        raise ValueError(f"shard_format must be one of {SHARD_FORMATS}, not {shard_format!r}")
    directory.mkdir(parents=True, exist_ok=True)
    with _run_lock(directory):
        run = _open_manifest(directory, source, fingerprint, model_id, shard_format, resume, force)
        writer = RunDirectory(directory, run, shard_rows, columns)
        try:
            yield writer
        finally:
            writer.abort()


class RunDirectory:
    """An open, locked run: ``skip`` input records are already in completed shards; each
    ``write`` adds one chunk, and a shard is committed once it covers ``shard_rows``
    records (whole chunks, so shards end on chunk boundaries)."""

    def __init__(
        self,
        directory: Path,
        run: dict[str, Any],
        shard_rows: int,
        columns: Sequence[str] = OUTPUT_FIELDS,
    ) -> None:
        self.directory = directory
        self.run = run
        self.shard_rows = shard_rows
        self.columns = tuple(columns)
        self._shard: _Shard | None = None

    @property
    def format(self) -> str:
        return str(self.run["format"])

    @property
    def skip(self) -> int:
        """Input records covered by the completed shards."""
        return self.run["shards"][-1]["end"] if self.run["shards"] else 0

    @property
    def shards(self) -> list[dict[str, Any]]:
        """Manifest entries of the completed shards: file names, record range, counts."""
        return list(self.run["shards"])

    def write(self, chunk: Chunk, encoded: Encoded, counts: Mapping[str, Any]) -> None:
        if self._shard is None:
            index = len(self.run["shards"])
            self._shard = _Shard(self.directory, index, self.format, chunk.start, self.columns)
        self._shard.add(chunk, encoded, counts)
        if self._shard.end - self._shard.start >= self.shard_rows:
            self._commit()

    def finish(self, sidecars: Mapping[str, Iterable[Mapping[str, Any]]] | None = None) -> None:
        """Commit the last shard, write each sidecar table (``name``: its rows, JSON
        Lines, replaced atomically) and mark the run complete, listing the sidecars."""
        if self._shard is not None:
            self._commit()
        for name, rows in (sidecars or {}).items():
            _write_sidecar(self.directory / name, rows)
        if sidecars:
            self.run["sidecars"] = sorted(sidecars)
        self.run["complete"] = True
        _write_manifest(self.directory, self.run)

    def abort(self) -> None:
        """Remove the shard in the making, if any: no manifest lists it yet."""
        if self._shard is not None:
            self._shard.abort()
            self._shard = None

    def _commit(self) -> None:
        assert self._shard is not None
        self.run["shards"].append(self._shard.commit())
        self._shard = None
        _write_manifest(self.directory, self.run)


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


def _open_manifest(
    directory: Path,
    source: str | Path,
    fingerprint: dict[str, Any] | None,
    model_id: str,
    shard_format: str,
    resume: bool,
    force: bool,
) -> dict[str, Any]:
    """The run's manifest: the existing one when resuming (checked), else a new one.

    A run without a completed shard has nothing to keep and simply starts again.
    """
    run = read_run_manifest(directory) if (directory / MANIFEST).exists() else None
    if run and (run["shards"] or run["complete"]):
        if not resume:
            state = "complete" if run["complete"] else "interrupted"
            raise InputError(
                f"{directory} already holds a scoring run ({state}, {len(run['shards'])} "
                "shards); add --resume to continue it, or choose an empty directory"
            )
        _check_resumable(run, source, model_id, fingerprint, force)
    else:
        if run is None and any(p.name != LOCK_FILE for p in directory.iterdir()):
            raise InputError(
                f"{directory}: not empty and holds no {MANIFEST}; choose an empty directory"
            )
        run = {
            "input": str(Path(source).resolve()) if fingerprint else STDIO,
            "fingerprint": fingerprint,
            "model": model_id,
            "format": shard_format,
            "complete": False,
            "shards": [],
        }
        _write_manifest(directory, run)
    _remove_unlisted(directory, run)
    return run


def _check_resumable(
    run: dict[str, Any],
    source: str | Path,
    model_id: str,
    fingerprint: dict[str, Any] | None,
    force: bool,
) -> None:
    if fingerprint is None or run["fingerprint"] is None:
        raise InputError("a run that reads stdin cannot be resumed: its input cannot be checked")
    if run["fingerprint"] != fingerprint and not force:
        changed = ", ".join(k for k in fingerprint if run["fingerprint"].get(k) != fingerprint[k])
        raise InputError(
            f"{source} changed since the run began ({changed} differ from "
            f"{run['input']}); add --force to resume anyway"
        )
    if run["model"] != model_id and not force:
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
        with contextlib.suppress(OSError):  # never hide the error that brought us here
            tmp.unlink(missing_ok=True)
    _fsync_directory(directory)


def _write_sidecar(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):  # never hide the error that brought us here
            tmp.unlink(missing_ok=True)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _add_counts(total: dict[str, Any], part: Mapping[str, Any]) -> None:
    """``total += part``, key by key, one level of nested dicts deep."""
    for key, value in part.items():
        if isinstance(value, Mapping):
            _add_counts(total.setdefault(key, {}), value)
        else:
            total[key] = total.get(key, 0) + value


class _Shard:
    """One shard in the making: rows and rejections go to hidden temporary files that
    ``commit`` renames into place; ``abort`` leaves nothing behind."""

    def __init__(
        self, directory: Path, index: int, fmt: str, start: int, columns: Sequence[str]
    ) -> None:
        self.directory = directory
        self.name = f"part-{index:05d}.{fmt}"
        self.errors_name = f"part-{index:05d}.errors.jsonl"
        self.tmp = directory / f".{self.name}.tmp"
        self.errors = ErrorFile(directory / f".{self.errors_name}.tmp")
        self.writer = RowWriter(self.tmp, fmt, columns)
        self.counts: dict[str, Any] = {}
        self.start = self.end = start
        self.first_line = self.last_line = 0

    def add(self, chunk: Chunk, encoded: Encoded, counts: Mapping[str, Any]) -> None:
        self.writer.write(encoded)
        self.errors.write(chunk.rejections)
        _add_counts(self.counts, counts)
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
        } | self.counts

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
            with contextlib.suppress(OSError):  # never hide the error that brought us here
                path.unlink(missing_ok=True)
