"""Scored rows on disk: JSON Lines, CSV or Parquet files (or JSON Lines on stdout), the
error file of rejected records, and reading a scored file back.

The rows are ``Prediction.row()`` dicts (prediction.py defines their fields and their
Parquet schema). CSV flattens them: lists and objects become JSON cells, booleans
``true``/``false``, null an empty cell; ``read_scored`` undoes exactly that, so the CSV
codec lives here, both ways. Encoding is separate from writing so that scoring processes
can encode while the parent only writes bytes.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .io import InputError, Rejection, file_format, open_records
from .prediction import OUTPUT_FIELDS, parquet_schema

PARQUET_ROW_GROUP = 65_536
_ENCODER = json.JSONEncoder(ensure_ascii=False)
_JSON_CELLS = ("categories", "category_scores", "evidence", "evidence_spans")
_FULL_DISK = (errno.ENOSPC, errno.EDQUOT)


def output_format(path: str | Path) -> str:
    """Format of an output file from its suffix (no compression)."""
    fmt, gz = file_format(path, role="OUTPUT")
    if gz:
        raise InputError(f"{path}: compressed output is not supported; drop the .gz")
    return fmt


@contextlib.contextmanager
def output_errors(where: Path | str, hint: str = "") -> Iterator[None]:
    """Turn an OSError raised while writing ``where`` into one InputError line naming the
    path: a read-only directory, a full disk (with ``hint``: what is left, what to do)."""
    try:
        yield
    except OSError as exc:
        if exc.errno in _FULL_DISK:
            raise InputError(f"disk full while writing {where}; {hint}".rstrip("; ")) from None
        detail = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(where) else ""
        raise InputError(f"cannot write {where}: {exc.strerror or exc}{detail}") from None


# --------------------------------------------------------------------------- encoding


@dataclass
class Encoded:
    """Output rows ready to write: bytes (jsonl, csv) or a pyarrow RecordBatch (parquet)."""

    data: Any
    columns: tuple[str, ...]
    rows: int


def encode_rows(rows: list[dict[str, Any]], fmt: str) -> Encoded:
    """Encode output rows (all with the same keys) for a writer of format ``fmt``."""
    columns = tuple(rows[0]) if rows else ()
    if fmt == "jsonl":
        data: Any = "".join([_ENCODER.encode(r) + "\n" for r in rows]).encode("utf-8")
    elif fmt == "csv":
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(
            [[_csv_cell(r.get(c)) for c in columns] for r in rows]
        )
        data = buf.getvalue().encode("utf-8")
    else:
        import pyarrow as pa

        strings = [c for c in ("id", "cluster_id") if c in columns]  # ids mix str and int
        data = pa.RecordBatch.from_pylist(
            [r | {c: _str(r[c]) for c in strings} for r in rows], schema=parquet_schema(columns)
        )
    return Encoded(data, columns, len(rows))


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _csv_cell(value: Any) -> str:
    """A CSV cell: lists and objects as JSON, booleans as true/false, null as empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, list, dict)):
        return _ENCODER.encode(value)
    return str(value)


def _from_csv_cells(record: dict[str, Any]) -> dict[str, Any]:
    """Undo ``_csv_cell`` on the fields of an output row; ValueError on a bad JSON cell."""
    row = dict(record)
    for key in _JSON_CELLS:
        if isinstance(row.get(key), str):
            row[key] = json.loads(row[key]) if row[key] else None
    if isinstance(row.get("flag"), str):
        row["flag"] = row["flag"].lower() in ("true", "1")
    if isinstance(row.get("cluster_size"), str):
        row["cluster_size"] = int(row["cluster_size"]) if row["cluster_size"] else None
    return row


def _csv_header(columns: Iterable[str]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(list(columns))
    return buf.getvalue().encode("utf-8")


# --------------------------------------------------------------------------- writing


class RowWriter:
    """Writes encoded rows to ``path`` in ``fmt`` (default: from the suffix), or JSON Lines
    to stdout when ``path`` is None. Parquet is written in row groups of about 65k rows,
    with the schema of ``columns`` (prediction.parquet_schema).
    """

    def __init__(
        self, path: Path | None, fmt: str | None = None, columns: Sequence[str] = OUTPUT_FIELDS
    ) -> None:
        self.path = path
        self.format = "jsonl" if path is None else fmt or output_format(path)
        self._fh: IO[bytes] = sys.stdout.buffer if path is None else path.open("wb")
        self._header_done = False
        self._closed = False
        self._parquet: Any = None
        self._pending: list[Any] = []
        self._schema: Any = None
        if self.format == "parquet":
            import pyarrow.parquet as pq

            self._schema = parquet_schema(columns)
            self._parquet = pq.ParquetWriter(self._fh, self._schema)

    def write_rows(self, rows: list[dict[str, Any]]) -> None:
        self.write(encode_rows(rows, self.format))

    def write(self, encoded: Encoded) -> None:
        if self._parquet is not None:
            self._write_parquet(encoded)
            return
        if self.format == "csv" and not self._header_done and encoded.columns:
            self._fh.write(_csv_header(encoded.columns))
            self._header_done = True
        self._fh.write(encoded.data)
        if self.path is None:
            self._fh.flush()

    def _write_parquet(self, encoded: Encoded) -> None:
        self._pending.append(encoded.data)
        if sum(b.num_rows for b in self._pending) >= PARQUET_ROW_GROUP:
            self._flush_parquet()

    def _flush_parquet(self) -> None:
        import pyarrow as pa

        if self._pending:
            table = pa.Table.from_batches(self._pending, schema=self._schema)
            self._parquet.write_table(table, row_group_size=table.num_rows)
            self._pending = []

    def close(self, fsync: bool = False) -> None:
        """Flush and close; ``fsync`` also forces the bytes to disk (before a rename)."""
        if self._closed:
            return
        self._closed = True
        if self._parquet is not None:
            self._flush_parquet()
            self._parquet.close()
        self._fh.flush()
        if self.path is not None:
            if fsync:
                os.fsync(self._fh.fileno())
            self._fh.close()

    def abort(self) -> None:
        """Close after a failure (e.g. a full disk) without writing anything more."""
        self._closed = True
        with contextlib.suppress(Exception):
            if self._parquet is not None:
                self._pending = []
                self._parquet.close()
        if self.path is not None:
            with contextlib.suppress(OSError):
                self._fh.close()

    def __enter__(self) -> RowWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class ErrorFile:
    """Rejections as JSON Lines (``Rejection.record()``), written to ``path`` from the first
    one on. A file left there by an earlier run is removed, so the file always describes
    this run; a failure to write it names ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._writer: RowWriter | None = None
        with output_errors(path):
            path.unlink(missing_ok=True)

    def write(self, rejections: list[Rejection]) -> None:
        if not rejections:
            return
        with output_errors(self.path):
            if self._writer is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._writer = RowWriter(self.path, "jsonl")
            self._writer.write_rows([r.record() for r in rejections])
        self.count += len(rejections)

    def close(self, fsync: bool = False) -> None:
        if self._writer is not None:
            with output_errors(self.path):
                self._writer.close(fsync=fsync)

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.abort()

    def __enter__(self) -> ErrorFile:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
            return
        with contextlib.suppress(Exception):  # the error in flight is the one to report
            self.close()  # and the rejections so far are worth keeping


# --------------------------------------------------------------------------- reading back


def read_scored(path: str | Path) -> Iterator[dict[str, Any] | None]:
    """The rows of one file written by ``netral score`` (any output format), typed as
    ``Prediction.row()`` makes them (except ids, which CSV and Parquet keep as strings);
    None for a record that is not a scored row (no boolean ``flag`` or numeric ``score``).
    """
    _, records = open_records(path)
    is_csv = file_format(path)[0] == "csv"
    for _, obj in records:
        yield _scored_row(obj, is_csv) if isinstance(obj, dict) else None


def _scored_row(obj: dict[str, Any], is_csv: bool) -> dict[str, Any] | None:
    try:
        row = _from_csv_cells(obj) if is_csv else dict(obj)
        row["score"] = float(row["score"])
    except (KeyError, TypeError, ValueError):
        return None
    return row if isinstance(row.get("flag"), bool) else None
