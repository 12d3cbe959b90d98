"""The Ray engine's reading (ray_engine.py): which input it is, and read tasks that turn
each input file into Arrow tables of checked records, one row per record, in file order.

Reading goes through Ray Data's file machinery (local paths, ``s3://``, ``gs://``, NFS;
``.gz`` decompressed on the fly) but parses records with the local engine's readers: io.py
for a plain feed, the feed adapters (feeds/, through inputs.read_input) for a scraper's
export. Not ``read_json``/``read_csv``: those infer one Arrow type per field and fail the
whole file on one broken line or a field that is an integer in one row and a string in the
next, and none of them carries the line numbers the error file and ``line-N`` ids need.

A record row (RECORD_SCHEMA): ``seq``, its 0-based position among the records of its file;
``line``; ``id`` as JSON (integers stay integers); ``text`` and ``author_context``; ``meta``,
a scraped feed's canonical fields (FEED_FIELDS) as JSON, null for a plain feed; ``reason``,
why a rejected record was rejected (null for a row); and, for a directory input, ``path``.

Ray is imported inside functions only.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .inputs import feed_format, read_input
from .io import (
    _SNIFF_BYTES,
    STDIO,
    FieldMap,
    InputError,
    Rejection,
    Row,
    _parquet_rows,
    checked_items,
    csv_records,
    file_format,
    looks_binary,
)
from .io import _jsonl_records as jsonl_records

RECORD_COLUMNS = ("seq", "line", "id", "text", "author_context", "meta", "reason")


@dataclass(frozen=True)
class InputPlan:
    """What to read: ``source`` (an absolute local path or a URI), a file or a directory;
    ``feed``, the feed adapter's name (None: a plain feed of ``format``: jsonl, csv or
    parquet); ``suffixes``, the file suffixes to read from a directory (None: a file)."""

    source: str
    feed: str | None
    format: str | None
    suffixes: list[str] | None


def plan_input(input: str | Path, fields: FieldMap, forced: str | None) -> InputPlan:
    """The InputPlan of INPUT. A local file's format is found as the local engine finds it
    (inputs.feed_format: detected, or ``forced`` by --format); a directory or a URI is a
    plain feed unless --format names its adapter. InputError for what cannot be read."""
    source = str(input)
    if source == STDIO:
        raise InputError("--engine ray reads files (local, NFS, s3://, gs://), not stdin")
    remote = "://" in source
    feed = None
    if forced is not None or (not remote and Path(source).is_file()):
        feed = feed_format(source, fields, forced)
    target = source if remote else str(Path(source).resolve())
    names = _directory_files(source)
    if feed is not None:
        suffixes = None if names is None else _suffixes(names)
        if suffixes == []:
            raise InputError(f"{source}: no input files (a file is read by its suffix: .json...)")
        return InputPlan(target, feed, None, suffixes)
    if names is None:
        try:
            fmt, gz = file_format(source)
        except InputError:
            raise InputError(
                f"{source}: unknown input format; expected .jsonl, .csv or .parquet "
                "(optionally .gz), or a scraper's export named with --format"
            ) from None
        if fmt == "parquet" and gz:
            raise InputError(f"{source}: --engine ray reads Parquet uncompressed; gunzip it first")
        return InputPlan(target, None, fmt, None)
    found: dict[tuple[str, bool], set[str]] = {}
    for name in names:
        try:
            kind = file_format(name)
        except InputError:
            kind = (Path(name).suffix or name, False)
        found.setdefault(kind, set()).update(_suffixes([name]))
    if len(found) != 1 or next(iter(found))[0] not in ("jsonl", "csv", "parquet"):
        kinds = sorted({s for group in found.values() for s in group}) or ["no files"]
        raise InputError(
            f"{source}: a directory input needs files of one format (.jsonl, .csv or .parquet, "
            f"optionally .gz); found {', '.join(kinds)}"
        )
    (fmt, gz), suffixes = next(iter(found.items()))
    if fmt == "parquet" and gz:
        raise InputError(f"{source}: --engine ray reads Parquet uncompressed; gunzip it first")
    return InputPlan(target, None, fmt, sorted(suffixes))


def _directory_files(source: str) -> list[str] | None:
    """The names of the files of an input directory (local or a URI), those named ``_*``
    or ``.*`` (``_SUCCESS``, ``.crc``) left out; None when ``source`` is a file."""
    import pyarrow as pa
    import pyarrow.fs as pafs

    try:
        fs, path = pafs.FileSystem.from_uri(source) if "://" in source else (None, source)
        fs = fs or pafs.LocalFileSystem()
        info = fs.get_file_info(path)
        if info.type == pafs.FileType.NotFound:
            raise InputError(f"{source}: no such file or directory")
        if info.type != pafs.FileType.Directory:
            return None
        files = fs.get_file_info(pafs.FileSelector(path, recursive=True))
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{source}: cannot read ({exc})") from None
    names = [Path(item.path).name for item in files if item.type == pafs.FileType.File]
    return [name for name in names if not name.startswith(("_", "."))]


def _suffixes(names: list[str]) -> list[str]:
    """The suffixes Ray selects ``names`` by: ``jsonl``, ``json.gz``, ... (a name without
    one is not read)."""
    out = set()
    for name in names:
        parts = name.lower().split(".")
        if len(parts) > 1:
            out.add(".".join(parts[-2 if parts[-1] == "gz" and len(parts) > 2 else -1 :]))
    return sorted(out)


# --------------------------------------------------------------------------- read tasks


@dataclass
class FileRejection(Rejection):
    """A rejection of a directory input: its record names the file, the line is within it."""

    path: str | None = None

    def record(self) -> dict[str, Any]:
        record = super().record()
        return record if self.path is None else {"path": self.path, **record}


def rejection(record: dict[str, Any]) -> FileRejection:
    """The rejection a rejected record row stands for."""
    rid = record["id"]
    return FileRejection(
        record["line"],
        record["reason"],
        None if rid is None else json.loads(rid),
        record.get("path"),
    )


def record_dataset(plan: InputPlan, fields: FieldMap, batch_size: int) -> Any:
    """A Ray Data dataset of the input's record rows, ``batch_size`` to a block, in input
    order (files in name order). Lazy: nothing is read until it runs."""
    import ray
    from ray.data.datasource import FileBasedDatasource

    class FeedDatasource(FileBasedDatasource):
        def _open_input_source(self, filesystem: Any, path: str, **open_args: Any) -> Any:
            if plan.format == "parquet":  # needs seeks
                return filesystem.open_input_file(path)
            return super()._open_input_source(filesystem, path, **open_args)

        def _read_stream(self, f: Any, path: str) -> Iterator[Any]:
            yield from _tables(_read_items(f, path, plan, fields), path, batch_size)

    source = FeedDatasource(
        plan.source, file_extensions=plan.suffixes, include_paths=plan.suffixes is not None
    )
    return ray.data.read_datasource(source)


class _NamedStream(io.BufferedReader):
    """A file Ray opened, named by its path: adapters name their input in messages, and the
    WhatsApp one takes the chat's name from it."""

    def __init__(self, raw: Any, name: str) -> None:
        super().__init__(raw, 1 << 20)
        self._name = name

    @property
    def name(self) -> str:  # type: ignore[override]
        return self._name


def _read_items(f: Any, path: str, plan: InputPlan, fields: FieldMap) -> Iterator[Row | Rejection]:
    """The local engine's readers over a file Ray opened: the same records, rules and
    line numbers."""
    if plan.feed is not None:
        return read_input(_NamedStream(f, path), fields, plan.feed)
    if plan.format == "parquet":
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
        if plan.format == "jsonl":
            columns, records = None, jsonl_records(path, fh, 0)
        else:
            columns, records = csv_records(path, fh, 0)
    if columns is not None and fields.text not in columns:
        raise InputError(
            f"{path} has no {fields.text!r} column (columns: {', '.join(columns) or 'none'}); "
            "name the text column with --text-field"
        )
    return checked_items(records, fields)


def _tables(items: Iterator[Row | Rejection], path: str, batch_size: int) -> Iterator[Any]:
    """Record rows of ``batch_size`` items at a time, in file order; InputError for a file
    without a single record, as the local engine says of an empty input."""
    import pyarrow as pa

    schema = pa.schema(
        [("seq", pa.int64()), ("line", pa.int64())]
        + [(name, pa.string()) for name in RECORD_COLUMNS[2:]]
    )

    def table(batch: list[tuple[Any, ...]]) -> Any:
        columns = zip(*batch, strict=True)
        return pa.table(dict(zip(RECORD_COLUMNS, columns, strict=True)), schema=schema)

    seq = 0
    batch: list[tuple[Any, ...]] = []
    for item in items:
        if isinstance(item, Row):
            meta = None if item.meta is None else json.dumps(item.meta)
            text, author = item.text, item.author_context
            batch.append((seq, item.line, json.dumps(item.id), text, author, meta, None))
        else:
            rid = None if item.id is None else json.dumps(item.id)
            batch.append((seq, item.line, rid, None, None, None, item.reason))
        seq += 1
        if len(batch) >= batch_size:
            yield table(batch)
            batch = []
    if batch:
        yield table(batch)
    elif not seq:
        raise InputError(f"{path} has no rows")
