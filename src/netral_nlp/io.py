"""Streaming readers of feeds: JSON Lines, CSV and Parquet files (optionally
gzip-compressed) and JSON Lines on stdin. What is written back lives in output.py.

Readers yield :class:`Chunk` s of at most ``batch_size`` input records and never hold
the whole file. A record that cannot be scored becomes a :class:`Rejection` with its
1-based line number (row number for Parquet) and a reason; only problems of the whole
input raise :class:`InputError`.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .labels import json_type_name
from .limits import too_long

STDIO = "-"
MAX_LINE_BYTES = 16 << 20  # a longer line is rejected without being held in memory
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}
_SNIFF_BYTES = 8192
_BINARY_SHARE = 0.1  # more non-text bytes than this in the first block: not a text file
_BOM = b"\xef\xbb\xbf"
_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")  # NUL, or undecodable bytes / lone surrogates
_NON_TEXT = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\udc80-\udcff]")
_PARQUET_BATCH_ROWS = 65_536  # records decoded at a time; bounds memory on wide files

# A record source yields (line, object) or, for a record that is not an object, (line, reason).
Records = Iterator[tuple[int, "dict[str, Any] | str"]]


class InputError(ValueError):
    """A whole input or output cannot be used: missing, empty, binary or of unknown format."""


@dataclass(frozen=True)
class FieldMap:
    """Which input fields hold the text, the id and the author context."""

    text: str = "text"
    id: str = "id"
    author: str = "author_context"


@dataclass
class Row:
    """One scorable input record; ``id`` is as given, or ``line-N`` when absent."""

    line: int
    id: Any
    text: str
    author_context: str | None
    meta: dict[str, Any] | None = None  # a scraped feed's canonical fields (feeds/), else None


@dataclass
class Rejection:
    """One input record that cannot be scored, and why."""

    line: int
    reason: str
    id: Any = None

    def record(self) -> dict[str, Any]:
        """The error-file row: ``{"line": N, "id": ... (when known), "reason": ...}``."""
        out: dict[str, Any] = {"line": self.line}
        if self.id is not None:
            out["id"] = self.id
        out["reason"] = self.reason
        return out


@dataclass
class Chunk:
    """Consecutive input records: ``start`` is the 0-based index of the first among all
    records of the input (blank lines are not records); rows and rejections keep order."""

    start: int
    rows: list[Row] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    first_line: int = 0
    last_line: int = 0

    @property
    def size(self) -> int:
        return len(self.rows) + len(self.rejections)

    @property
    def end(self) -> int:
        return self.start + self.size


# --------------------------------------------------------------------------- formats


def file_format(path: str | Path, role: str = "INPUT") -> tuple[str, bool]:
    """(format, gzipped) from a name such as ``feed.jsonl.gz``; InputError if unknown."""
    name = Path(path).name.lower()
    gz = name.endswith(".gz")
    fmt = _SUFFIXES.get(Path(name[:-3] if gz else name).suffix)
    if fmt is None:
        raise InputError(
            f"{path}: unknown {role.lower()} format; expected .jsonl, .csv or .parquet"
            + (" (optionally .gz), or - for JSON Lines on stdin" if role == "INPUT" else "")
        )
    return fmt, gz


# --------------------------------------------------------------------------- reading


def read_chunks(
    source: str | Path, fields: FieldMap = FieldMap(), batch_size: int = 2048, skip: int = 0
) -> Iterator[Chunk]:
    """Chunks of ``batch_size`` records of ``source`` (a path, or ``-`` for stdin),
    after the first ``skip`` records.

    Whole-file problems (missing, binary, unknown suffix, no text column) raise
    InputError here, at the call; an input without a single record raises it when the
    iterator ends.
    """
    return chunk_items(source, read_items(source, fields, skip), batch_size, skip)


def read_items(
    source: str | Path, fields: FieldMap = FieldMap(), skip: int = 0
) -> Iterator[Row | Rejection]:
    """Each record of ``source`` after the first ``skip``, checked: a Row or a Rejection,
    in input order. Whole-file problems raise InputError here, at the call."""
    columns, records = open_records(
        source, skip=skip, wanted=[fields.text, fields.id, fields.author]
    )
    if columns is not None and fields.text not in columns:
        raise InputError(
            f"{source} has no {fields.text!r} column (columns: {', '.join(columns) or 'none'}); "
            "name the text column with --text-field"
        )
    return checked_items(records, fields)


def checked_items(records: Records, fields: FieldMap = FieldMap()) -> Iterator[Row | Rejection]:
    """Each (line, record) as a checked Row, or a Rejection for a record that is already a
    problem (a reason string) or fails the row checks."""
    return (
        to_row(line, obj, fields) if isinstance(obj, dict) else Rejection(line, obj)
        for line, obj in records
    )


def open_records(
    source: str | Path, skip: int = 0, wanted: list[str] | None = None
) -> tuple[list[str] | None, Records]:
    """(column names, or None for JSON Lines; record iterator) of any supported input.

    ``wanted`` limits the Parquet columns read to those of the list that exist.
    """
    source = str(source)
    fmt, gz = ("jsonl", False) if source == STDIO else file_format(source)
    if fmt == "parquet":
        return _parquet_records(source, gz, skip, wanted)
    fh = _open_text_source(source, gz)
    if fmt == "jsonl":
        return None, _jsonl_records(source, fh, skip)
    return csv_records(source, fh, skip)


def _open_text_source(source: str, gz: bool) -> IO[bytes]:
    if source == STDIO:
        fh: IO[bytes] = sys.stdin.buffer
        if not hasattr(fh, "peek"):
            fh = io.BufferedReader(fh)  # type: ignore[arg-type]
    else:
        fh = _open_file(source, gz)
    try:
        head = fh.peek(_SNIFF_BYTES)[:_SNIFF_BYTES]  # type: ignore[attr-defined]
    except (OSError, EOFError) as exc:  # BadGzipFile is an OSError
        fh.close()
        raise InputError(f"{source}: not a readable gzip file ({exc})") from None
    if looks_binary(head):
        fh.close()
        raise InputError(f"{source} looks binary, not JSON Lines/CSV/Parquet")
    return fh


def _open_file(source: str, gz: bool) -> IO[bytes]:
    path = Path(source)
    if path.is_dir():
        raise InputError(f"{source}: is a directory, not an input file")
    if not path.is_file():
        raise InputError(f"{source}: no such file")
    return gzip.open(path, "rb") if gz else path.open("rb")  # type: ignore[return-value]


def looks_binary(block: bytes) -> bool:
    """True when over 10% of ``block`` is NUL, control or undecodable bytes."""
    if not block:
        return False
    text = block.decode("utf-8", errors="surrogateescape")
    return len(_NON_TEXT.findall(text)) > _BINARY_SHARE * len(block)


def _lines(fh: IO[bytes]) -> Iterator[bytes | None]:
    """Lines of ``fh``; None for a line over MAX_LINE_BYTES, which is skipped unread."""
    while line := fh.readline(MAX_LINE_BYTES + 1):
        if len(line) > MAX_LINE_BYTES:
            while line and not line.endswith(b"\n"):
                line = fh.readline(1 << 20)
            yield None
        else:
            yield line


def _jsonl_records(source: str, fh: IO[bytes], skip: int) -> Records:
    with fh, _truncation_is_an_error(source):
        n = 0
        for lineno, raw in enumerate(_lines(fh), start=1):
            if raw is not None:
                if lineno == 1 and raw.startswith(_BOM):
                    raw = raw[len(_BOM) :]
                if raw.isspace() or not raw:
                    continue
            n += 1
            if n <= skip:
                continue
            if raw is None:
                yield lineno, f"line longer than {MAX_LINE_BYTES:,} bytes"
            else:
                yield lineno, _parse_json(raw)


@contextlib.contextmanager
def _truncation_is_an_error(source: str) -> Iterator[None]:
    try:
        yield
    except (EOFError, gzip.BadGzipFile) as exc:
        raise InputError(f"{source}: compressed data is corrupt or cut short ({exc})") from None


def _parse_json(raw: bytes) -> dict[str, Any] | str:
    try:  # undecodable bytes become lone surrogates: the fields holding them are rejected
        obj = json.loads(raw.decode("utf-8", errors="surrogateescape"))
    except json.JSONDecodeError as exc:
        return f"broken JSON: {exc.msg} (column {exc.colno})"
    except (ValueError, RecursionError) as exc:  # huge integers, absurd nesting
        return f"broken JSON: {type(exc).__name__}"
    if not isinstance(obj, dict):
        return f"expected a JSON object, got {json_type_name(obj)}"
    return obj


def csv_records(source: str, fh: IO[bytes], skip: int = 0) -> tuple[list[str], Records]:
    """(header, records) of a CSV file with a header line, after the first ``skip``
    records: each row as a dict of the header's names, or the reason it cannot be one
    (wrong number of fields, broken quoting); blank lines are not records. A missing or
    unreadable header raises InputError naming ``source``. Closes ``fh`` when done."""
    # Undecodable bytes survive as lone surrogates, so a bad row is rejected, not fatal.
    text = io.TextIOWrapper(fh, encoding="utf-8", errors="surrogateescape", newline="")
    csv.field_size_limit(MAX_LINE_BYTES)
    reader = csv.reader(text)
    try:
        header = next(reader, [])
    except csv.Error as exc:
        text.close()
        raise InputError(f"{source}: unreadable CSV header ({exc})") from None
    if not header:
        text.close()
        raise InputError(f"{source} has no rows")
    header[0] = header[0].removeprefix("\ufeff")
    return header, _csv_rows(source, text, reader, header, skip)


def _csv_rows(source: str, text: IO[str], reader: Any, columns: list[str], skip: int) -> Records:
    with text, _truncation_is_an_error(source):
        n = 0
        while True:
            lineno = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                values, reason = None, f"bad CSV row: {exc}"
            if values == []:
                continue  # blank line
            n += 1
            if n <= skip:
                continue
            if values is None:
                yield lineno, reason
            elif len(values) != len(columns):
                yield lineno, f"expected {len(columns)} fields, got {len(values)}"
            else:
                yield lineno, dict(zip(columns, values, strict=True))


def _parquet_records(
    source: str, gz: bool, skip: int, wanted: list[str] | None
) -> tuple[list[str], Records]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    fh = _open_file(source, gz)
    if gz:  # Parquet needs seeks: decompress to a temporary file, in blocks
        with fh:
            tmp = tempfile.TemporaryFile()
            _copy_gzip(source, fh, tmp)
        fh = tmp
    try:
        pf = pq.ParquetFile(fh)
    except (pa.ArrowException, OSError) as exc:
        fh.close()
        raise InputError(f"{source}: not a readable Parquet file ({exc})") from None
    columns = pf.schema_arrow.names
    read = [c for c in columns if c in wanted] if wanted is not None else columns
    return columns, _parquet_rows(source, fh, pf, read, skip)


def _copy_gzip(source: str, fh: IO[bytes], out: IO[bytes]) -> None:
    try:
        shutil.copyfileobj(fh, out, 1 << 20)
    except (OSError, EOFError) as exc:
        out.close()
        raise InputError(f"{source}: not a readable gzip file ({exc})") from None
    out.seek(0)


def _parquet_rows(source: str, fh: IO[bytes], pf: Any, columns: list[str], skip: int) -> Records:
    import pyarrow as pa

    with fh:
        done = 0
        try:
            for batch in pf.iter_batches(batch_size=_PARQUET_BATCH_ROWS, columns=columns):
                lo = min(max(skip - done, 0), batch.num_rows)
                yield from enumerate(batch.slice(lo).to_pylist(), start=done + lo + 1)
                done += batch.num_rows
        except pa.ArrowException as exc:
            raise InputError(f"{source}: corrupt Parquet data after row {done} ({exc})") from None


def chunk_items(
    source: str | Path, items: Iterator[Row | Rejection], batch_size: int, start: int = 0
) -> Iterator[Chunk]:
    """``items`` in chunks of ``batch_size`` records, the first starting at record
    ``start``; InputError naming ``source`` when a whole input (``start`` 0) is empty."""
    chunk = Chunk(start=start)
    for item in items:
        if isinstance(item, Row):
            chunk.rows.append(item)
        else:
            chunk.rejections.append(item)
        chunk.first_line = chunk.first_line or item.line
        chunk.last_line = item.line
        if chunk.size >= batch_size:
            yield chunk
            chunk = Chunk(start=chunk.end)
    if chunk.size:
        yield chunk
    elif chunk.start == 0:
        raise InputError(f"{source} has no rows")


def to_row(line: int, obj: Mapping[str, Any], fields: FieldMap = FieldMap()) -> Row | Rejection:
    """Validate one record (``line`` is its position, for the id ``line-N`` when it has
    none): the scorable Row, or a Rejection naming the field and the rule it broke."""
    item_id = obj.get(fields.id)
    if item_id is None or item_id == "":
        item_id = f"line-{line}"
    elif isinstance(item_id, bool) or not isinstance(item_id, (str, int)):
        return Rejection(
            line, f"field {fields.id!r} must be a string or integer, got {json_type_name(item_id)}"
        )
    elif isinstance(item_id, str) and _BAD_CHARS.search(item_id):
        return Rejection(line, f"field {fields.id!r} has NUL bytes or invalid UTF-8")
    text = obj.get(fields.text)
    if text is None:
        return Rejection(line, f"missing field {fields.text!r}", item_id)
    problem = _text_problem(fields.text, text) or _author_problem(
        fields.author, obj.get(fields.author)
    )
    if problem:
        return Rejection(line, problem, item_id)
    return Row(line, item_id, text, obj.get(fields.author) or None)


def _text_problem(name: str, value: Any) -> str | None:
    if not isinstance(value, str):
        return f"field {name!r} must be a string, got {json_type_name(value)}"
    if not value or value.isspace():
        return f"field {name!r} is empty"
    over = too_long(name, value)
    if over:
        return over
    bad = _BAD_CHARS.search(value)
    if bad:
        what = "NUL bytes" if bad.group() == "\x00" else "invalid UTF-8"
        return f"field {name!r} has {what} at character {bad.start()}"
    return None


def _author_problem(name: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    return _text_problem(name, value)
