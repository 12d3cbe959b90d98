"""Scraped feeds into one canonical row: an adapter per source format, detected from the
file's content or named.

    for item in read_feed("tweets.jsonl"):          # FeedRecord or Rejection, in order
        ...

A new format is one new module: define ``read(source)`` yielding FeedRecord/Rejection
and register it with ``@register(name, help, detect)`` (see base.py), then import the
module below.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path

from ..io import InputError, Rejection
from . import apify, articles, meta_library, telegram, whatsapp, x, youtube  # noqa: F401
from .base import REGISTRY, Adapter, FeedRecord, Source, peekable, read_head, source_name

__all__ = [
    "FORMATS",
    "REGISTRY",
    "Adapter",
    "FeedRecord",
    "Rejection",
    "detect_format",
    "format_names",
    "read_feed",
]

MIN_CONFIDENCE = 0.5


def format_names() -> list[str]:
    """The registered format names, sorted."""
    return sorted(REGISTRY)


FORMATS = "\n".join(f"{name}: {REGISTRY[name].help}" for name in format_names())
"""One line per format, ``name: help``, for ``netral score --help``."""


def detect_format(source: Source) -> str:
    """The name of the format ``source`` (a path, or a binary stream, peeked not read)
    is in, from its first bytes: the adapter most confident, at least MIN_CONFIDENCE.

    InputError when no adapter claims it, listing the known names.
    """
    head = read_head(source)
    filename = Path(source_name(source)).name
    scores = {name: REGISTRY[name].detect(head, filename) for name in format_names()}
    best = max(scores, key=lambda name: scores[name])
    if scores[best] < MIN_CONFIDENCE:
        raise InputError(
            f"{source_name(source) or 'input'}: not a feed format netral recognises; "
            f"name one with --format ({', '.join(format_names())})"
        )
    return best


def read_feed(source: Source, format: str | None = None) -> Iterator[FeedRecord | Rejection]:
    """The records of ``source`` in file order, each a FeedRecord or, for a source record
    that cannot be used, a Rejection (line, reason, id) for the error file.

    ``format`` names the adapter (see FORMATS); None detects it. Unknown names and
    unreadable or unrecognised inputs raise InputError here, at the call; gzip data
    found corrupt later raises it from the iterator.
    """
    if not isinstance(source, (str, Path)):
        source = peekable(source)
    if format is None:
        format = detect_format(source)
    elif format not in REGISTRY:
        raise InputError(f"unknown feed format {format!r}; known: {', '.join(format_names())}")
    else:
        read_head(source)  # missing, directory or binary: fail now, not at first next()
    return _whole_input_errors(source, REGISTRY[format].read(source))


def _whole_input_errors(
    source: Source, items: Iterator[FeedRecord | Rejection]
) -> Iterator[FeedRecord | Rejection]:
    """``items``, with compressed data cut short or corrupt raised as InputError."""
    try:
        yield from items
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise InputError(
            f"{source_name(source) or 'input'}: compressed data is corrupt or cut short ({exc})"
        ) from None
