"""What ``netral score`` reads: a plain feed (rows with ``id`` and ``text``, io.py) or a
scraper's output (feeds/), as one stream of checked Rows and Rejections in input order.

A file is plain when it is Parquet, stdin, read with a field mapping (``--text-field``
and friends), or JSON Lines/CSV whose first record has a text and an id; otherwise its
adapter is detected from its content (feeds.detect_format), or named with ``--format``.
A plain-looking file no adapter claims is read as plain, so today's errors (no text
column, rejected rows) stay as they were.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .io import STDIO, FieldMap, InputError, Rejection, Row, file_format, open_records, read_items
from .io import to_row as _to_row
from .prediction import FEED_FIELDS


def feed_format(source: str | Path, fields: FieldMap, forced: str | None = None) -> str | None:
    """The adapter name to read ``source`` with, or None for the plain reader."""
    from . import feeds

    if forced is not None:
        if forced not in feeds.REGISTRY:
            raise InputError(
                f"unknown feed format {forced!r}; known: {', '.join(feeds.format_names())}"
            )
        return forced
    if str(source) == STDIO or fields != FieldMap():
        return None
    try:
        fmt, _ = file_format(source)
    except InputError:  # .json, .txt, ...: a scraper's export, or nothing netral reads
        try:
            return feeds.detect_format(source)
        except InputError:
            if not Path(source).is_file():
                raise
            raise InputError(
                f"{source}: unknown input format; expected .jsonl, .csv or .parquet "
                f"(optionally .gz), or a scraper's export: name it with --format "
                f"({', '.join(feeds.format_names())})"
            ) from None
    if fmt == "parquet" or _looks_plain(source, fields):
        return None
    try:
        return feeds.detect_format(source)
    except InputError:
        return None


def _looks_plain(source: str | Path, fields: FieldMap) -> bool:
    """True when the first record of a JSON Lines/CSV file has a text and an id."""
    try:
        _, records = open_records(source)
    except InputError:
        return True  # the plain reader reports it
    for _, obj in itertools.islice(records, 1):
        return (
            isinstance(obj, dict) and bool(obj.get(fields.text)) and obj.get(fields.id) is not None
        )
    return True


def read_input(
    source: str | Path | IO[bytes], fields: FieldMap, format: str | None = None, skip: int = 0
) -> Iterator[Row | Rejection]:
    """The checked records of ``source`` after the first ``skip``, in input order: through
    the plain reader when ``format`` is None, else through that feed adapter, whose rows
    carry the canonical metadata (FEED_FIELDS) in ``Row.meta``. A binary stream (what a
    Ray read task has) is read through an adapter only. Whole-input problems raise
    InputError at the call."""
    if format is None:
        assert isinstance(source, (str, Path)), "the plain reader opens paths"
        return read_items(source, fields, skip)
    from .feeds import read_feed

    records = read_feed(source, format)
    return itertools.islice(_feed_rows(records), skip, None)


def _feed_rows(records: Iterator[object]) -> Iterator[Row | Rejection]:
    from .feeds import FeedRecord

    for rec in records:
        if not isinstance(rec, FeedRecord):
            assert isinstance(rec, Rejection)
            yield rec
            continue
        item = _to_row(rec.line, rec.row())
        if isinstance(item, Row):
            item.meta = {name: getattr(rec, name) for name in FEED_FIELDS}
        yield item
