"""The canonical feed row, the adapter registry, and the reading and field helpers that
every adapter shares.

An adapter turns one scraper's output into :class:`FeedRecord` s, one per post, comment or
message of the source, in file order; a source record it cannot use becomes a
:class:`~netral_nlp.io.Rejection` (1-based line or record number, reason, id when known),
so it reaches the batch scorer's error file like any bad row. Nothing a single record
holds raises; only problems of the whole input raise :class:`~netral_nlp.io.InputError`.

Times: ``created_at`` is UTC as ``YYYY-MM-DDTHH:MM:SSZ``. A source time with an offset or
an epoch is converted exactly; a naive local time (WhatsApp exports, news-please dates,
Telegram exports without ``date_unixtime``) is taken as Western Indonesia Time (WIB,
UTC+7), the zone of most of the population; a date without a time stays that day at
00:00Z.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import email.utils
import gzip
import io
import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any

from ..io import MAX_LINE_BYTES, InputError, Rejection, looks_binary
from ..io import csv_records as io_csv_records

Source = str | Path | IO[bytes]
RELATIONS = ("repost", "quote", "reply", "forward")
ENGAGEMENT = ("likes", "reposts", "quotes", "replies", "views", "bookmarks", "reactions")
UTC = timezone.utc
WIB = timezone(timedelta(hours=7))
HEAD_BYTES = 256 << 10  # what detection reads: enough for a few records of any format
_READ_BYTES = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_BOM = "\ufeff"
_SPACE_BYTES = b" \t\r\n"


@dataclass
class FeedRecord:
    """One post, comment, message or article in canonical form.

    ``id`` is unique within its platform; ``relation`` is None or one of RELATIONS, with
    ``parent_id`` the id of the reposted, quoted, replied-to or forwarded item when the
    source names it; ``engagement`` holds only the counts the source gives, under the
    names of ENGAGEMENT; ``raw`` is the source record untouched (a dict for JSON and CSV
    sources, the message's lines for WhatsApp); ``line`` its 1-based line (or record)
    number and ``adapter`` the name of the adapter that read it.
    """

    id: str
    platform: str
    text: str
    line: int
    adapter: str
    author_id: str | None = None
    author_handle: str | None = None
    author_context: str | None = None
    created_at: str | None = None
    url: str | None = None
    relation: str | None = None
    parent_id: str | None = None
    engagement: dict[str, int] = field(default_factory=dict)
    lang: str | None = None
    raw: Any = None

    def row(self) -> dict[str, Any]:
        """The scorer's input row (``id``, ``text``, ``author_context``), as read by
        ``netral_nlp.io.to_row`` and the batch scorer."""
        return {"id": self.id, "text": self.text, "author_context": self.author_context}

    def record(self) -> dict[str, Any]:
        """Every canonical field as a JSON-ready dict, ``raw`` included."""
        return asdict(self)


class FieldError(ValueError):
    """One record's field is missing or of the wrong type; the message names the field."""


@dataclass(frozen=True)
class Adapter:
    """A registered source format.

    ``detect(head, filename)`` gives a confidence in [0, 1] that a file whose first bytes
    (decompressed, up to HEAD_BYTES) are ``head`` is in this format; ``read(source)``
    yields its records in file order.
    """

    name: str
    help: str
    detect: Callable[[bytes, str], float]
    read: Callable[[Source], Iterator[FeedRecord | Rejection]]


REGISTRY: dict[str, Adapter] = {}


def register(
    name: str, help: str, detect: Callable[[bytes, str], float]
) -> Callable[[Callable[[Source], Iterator[FeedRecord | Rejection]]], Any]:
    """Decorator that registers a row generator as the adapter ``name``."""

    def wrap(
        read: Callable[[Source], Iterator[FeedRecord | Rejection]],
    ) -> Callable[[Source], Iterator[FeedRecord | Rejection]]:
        if name in REGISTRY:
            raise ValueError(f"feed format {name!r} is registered twice")
        REGISTRY[name] = Adapter(name, help, detect, read)
        return read

    return wrap


# --------------------------------------------------------------------------- opening


@contextlib.contextmanager
def open_source(source: Source) -> Iterator[IO[bytes]]:
    """A binary stream of ``source`` (a path or an open binary stream), gunzipped when
    it starts with the gzip magic bytes. A path is closed on exit, a stream is not."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.is_dir():
            raise InputError(f"{source}: is a directory, not an input file")
        if not path.is_file():
            raise InputError(f"{source}: no such file")
        with path.open("rb") as fh:
            yield _maybe_gunzip(fh)
    else:
        if not hasattr(source, "peek"):
            source = io.BufferedReader(source)  # type: ignore[arg-type]
        yield _maybe_gunzip(source)


def peekable(stream: IO[bytes]) -> IO[bytes]:
    """``stream`` decompressed if gzipped and able to ``peek``, so that detection can
    look at its start and the adapter still read it all."""
    if not hasattr(stream, "peek"):
        stream = io.BufferedReader(stream)  # type: ignore[arg-type]
    return _maybe_gunzip(stream)


def _maybe_gunzip(fh: IO[bytes]) -> IO[bytes]:
    if fh.peek(2)[:2] == _GZIP_MAGIC:  # type: ignore[attr-defined]
        return io.BufferedReader(gzip.GzipFile(fileobj=fh, mode="rb"))  # type: ignore[arg-type]
    return fh


def source_name(source: Source) -> str:
    """The file name of ``source``, or '' for an unnamed stream."""
    if isinstance(source, (str, Path)):
        return str(source)
    name = getattr(source, "name", "")
    return name if isinstance(name, str) else ""


def read_head(source: Source) -> bytes:
    """The first HEAD_BYTES of ``source`` (decompressed); InputError if unreadable or
    binary. A stream is peeked, not consumed."""
    try:
        if isinstance(source, (str, Path)):
            with open_source(source) as fh:
                head = fh.read(HEAD_BYTES)
        else:
            with open_source(source) as fh:
                head = fh.peek(HEAD_BYTES)[:HEAD_BYTES]  # type: ignore[attr-defined]
    except (OSError, EOFError) as exc:
        raise InputError(f"{source_name(source)}: not readable ({exc})") from None
    if looks_binary(head[:8192]):
        raise InputError(f"{source_name(source)} looks binary, not a scraped feed")
    return head


def text_lines(fh: IO[bytes], start: int = 0) -> Iterator[tuple[int, str | None]]:
    """(1-based line number, line without its end) of ``fh`` as UTF-8 (bad bytes kept as
    lone surrogates); None for a line over MAX_LINE_BYTES, which is skipped unread.
    ``start`` is the number of lines already read from ``fh``."""
    lineno = start
    while raw := fh.readline(MAX_LINE_BYTES + 1):
        lineno += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):
                raw = fh.readline(_READ_BYTES)
            yield lineno, None
            continue
        line = raw.decode("utf-8", errors="surrogateescape").rstrip("\r\n")
        if lineno == 1:
            line = line.removeprefix(_BOM)
        yield lineno, line


# --------------------------------------------------------------------------- JSON


def json_values(fh: IO[bytes]) -> Iterator[tuple[int, Any]]:
    """(line, value) for each JSON value of ``fh``, or (line, BrokenJSON) for one that
    cannot be parsed.

    Three shapes, told apart by the first line: a JSON array (its elements are streamed:
    memory holds one element), JSON Lines (the first line is a whole value; one value a
    line; a broken line is reported and reading goes on), or one JSON document spread
    over several lines (parsed whole: memory grows with the document). ``line`` is
    where the value starts.
    """
    lineno, first = 0, b""
    while not first.strip(_SPACE_BYTES):
        first = fh.readline(MAX_LINE_BYTES + 1)
        if not first:
            return
        lineno += 1
    if lineno == 1:
        first = first.removeprefix(_BOM.encode())
    if first.lstrip(_SPACE_BYTES).startswith(b"["):
        yield from _array_values(fh, first, lineno)
    elif len(first) > MAX_LINE_BYTES or _parses(first):
        yield from _jsonl_values(fh, first, lineno)
    else:
        yield from _document_values(fh, first, lineno)


@dataclass(frozen=True)
class BrokenJSON:
    """A value that could not be parsed: why."""

    reason: str


def _parses(raw: bytes) -> bool:
    try:
        json.loads(raw.decode("utf-8", errors="surrogateescape"))
    except (ValueError, RecursionError):
        return False
    return True


def _decode(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        return BrokenJSON(f"broken JSON: {exc.msg} (column {exc.colno})")
    except (ValueError, RecursionError) as exc:  # huge integers, absurd nesting
        return BrokenJSON(f"broken JSON: {type(exc).__name__}")


def _jsonl_values(fh: IO[bytes], first: bytes, lineno: int) -> Iterator[tuple[int, Any]]:
    too_long = BrokenJSON(f"broken JSON: line longer than {MAX_LINE_BYTES:,} bytes")
    if len(first) > MAX_LINE_BYTES and not first.endswith(b"\n"):
        while first and not first.endswith(b"\n"):
            first = fh.readline(_READ_BYTES)
        yield lineno, too_long
    else:
        yield lineno, _decode(first.decode("utf-8", errors="surrogateescape"))
    for n, line in text_lines(fh, start=lineno):
        if line is None:
            yield n, too_long
        elif line.strip():
            yield n, _decode(line)


def _document_values(fh: IO[bytes], first: bytes, lineno: int) -> Iterator[tuple[int, Any]]:
    text = (first + fh.read()).decode("utf-8", errors="surrogateescape")
    decoder = json.JSONDecoder()
    pos = 0
    while True:
        pos = _skip_space(text, pos)
        if pos >= len(text):
            return
        line = lineno + text.count("\n", 0, pos)
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            yield (
                lineno + exc.lineno - 1,
                BrokenJSON(
                    f"broken JSON: {exc.msg} (line {lineno + exc.lineno - 1}, column {exc.colno}); "
                    "the rest of the document cannot be read"
                ),
            )
            return
        except (ValueError, RecursionError) as exc:
            yield line, BrokenJSON(f"broken JSON: {type(exc).__name__}")
            return
        yield line, value


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _array_values(fh: IO[bytes], first: bytes, lineno: int) -> Iterator[tuple[int, Any]]:
    """Elements of a top-level JSON array that starts on ``first``, one at a time."""
    decoder = json.JSONDecoder()
    reader = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
    blocks = itertools.chain([first], iter(lambda: fh.read(_READ_BYTES), b""))
    buf, pos, line, eof = "", 0, lineno, False  # ``line`` is the line of ``buf[pos]``

    def more() -> bool:
        nonlocal buf, pos, eof
        if eof:
            return False
        block = next(blocks, b"")
        eof = not block
        buf = buf[pos:] + reader.decode(block, final=eof)
        pos = 0
        return True

    def advance(to: int) -> None:
        nonlocal pos, line
        line += buf.count("\n", pos, to)
        pos = to

    def peek_char() -> str:
        while True:
            advance(_skip_space(buf, pos))
            if pos < len(buf):
                return buf[pos]
            if not more():
                return ""

    peek_char()
    advance(pos + 1)  # the "["
    expect_value = True
    while True:
        ch = peek_char()
        if ch == "]" or ch == "":
            if ch == "":
                yield line, BrokenJSON("broken JSON: the array is not closed (file cut short?)")
            return
        if not expect_value:
            if ch != ",":
                yield line, BrokenJSON(f"broken JSON: expected ',' or ']' but found {ch!r}")
                return
            advance(pos + 1)
            expect_value = True
            continue
        try:
            value, end = decoder.raw_decode(buf, pos)
            complete = end < len(buf) or eof
        except json.JSONDecodeError as exc:
            value, end, complete = exc, 0, eof or len(buf) - pos > MAX_LINE_BYTES
        except (ValueError, RecursionError) as exc:
            value, end, complete = exc, 0, True
        if not complete:
            more()
            continue
        if isinstance(value, json.JSONDecodeError):
            yield (
                line,
                BrokenJSON(
                    f"broken JSON: {value.msg} (element starting at line {line}); "
                    "the rest of the array cannot be read"
                ),
            )
            return
        if isinstance(value, Exception):
            yield line, BrokenJSON(f"broken JSON: {type(value).__name__}")
            return
        yield line, value
        advance(end)
        expect_value = False


def csv_records(fh: IO[bytes]) -> Iterator[tuple[int, dict[str, str] | BrokenJSON]]:
    """(line, row dict) of a CSV file with a header line, read by the plain feed's CSV
    reader (io.csv_records: the same rules and reasons); a row with the wrong number of
    fields or broken quoting comes as (line, BrokenJSON(reason)). A file without a header
    raises InputError when iterated."""
    _, records = io_csv_records(source_name(fh), fh)
    for line, value in records:
        yield line, BrokenJSON(value) if isinstance(value, str) else value


# --------------------------------------------------------------------------- records


def convert(
    line: int,
    value: Any,
    build: Callable[[int, dict[str, Any]], FeedRecord],
    id_keys: tuple[str, ...] = ("id",),
    where: str = "",
) -> FeedRecord | Rejection:
    """``build(line, obj)`` for a JSON object, else a Rejection; a FieldError, or a
    record shape the adapter did not expect, becomes a Rejection naming the field, with
    the first of ``id_keys`` present as its id. ``where`` (e.g. "data[2]") places a
    record inside a multi-record line in the reason."""
    prefix = f"{where}: " if where else ""
    if isinstance(value, BrokenJSON):
        return Rejection(line, prefix + value.reason)
    if not isinstance(value, dict):
        return Rejection(line, f"{prefix}expected a JSON object, got {type_name(value)}")
    try:
        return build(line, value)
    except FieldError as exc:
        return Rejection(line, prefix + str(exc), _some_id(value, id_keys))
    except (TypeError, AttributeError, KeyError, ValueError) as exc:
        return Rejection(
            line,
            f"{prefix}unexpected record shape ({type(exc).__name__}: {exc})",
            _some_id(value, id_keys),
        )


def _some_id(obj: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = obj.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and value != "":
            return str(value)
    return None


def get(obj: Any, path: str) -> Any:
    """The value at a dotted ``path`` of nested dicts (``"user.rawDescription"``), or
    None when any step is missing; a dotted key stored flat (a CSV column) also works."""
    if isinstance(obj, dict) and path in obj:
        return obj[path]
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def text_field(obj: Any, path: str) -> str | None:
    """The string at ``path``; None when missing, null or blank; FieldError otherwise."""
    value = get(obj, path)
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError(f"field {path!r} must be a string, got {type_name(value)}")
    return value if value.strip() else None


def id_field(obj: Any, path: str) -> str | None:
    """An id at ``path`` as a string (integers accepted); None when missing or empty."""
    value = get(obj, path)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise FieldError(f"field {path!r} must be a string or integer, got {type_name(value)}")
    return str(value)


def first_text(obj: Any, *paths: str) -> str | None:
    """The first of ``paths`` holding a non-blank string."""
    for path in paths:
        value = text_field(obj, path)
        if value is not None:
            return value
    return None


def require_text(text: str | None, what: str) -> str:
    """``text``, or FieldError naming ``what`` when there is none to score."""
    if text is None or not text.strip():
        raise FieldError(f"no text to score: {what} is missing or empty")
    return text


def counts(obj: Any, mapping: dict[str, str]) -> dict[str, int]:
    """Engagement counts: canonical name -> the integer at the source path, for the paths
    present. Integer strings ("1200") are accepted; anything else is a FieldError."""
    out: dict[str, int] = {}
    for name, path in mapping.items():
        value = get(obj, path)
        if value is None or value == "":
            continue
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldError(f"field {path!r} must be a count, got {value!r}")
        out[name] = out.get(name, 0) + value
    return out


_TWITTER_DATE = "%a %b %d %H:%M:%S %z %Y"  # Wed Jan 10 02:15:00 +0000 2024


def utc_time(value: Any, path: str = "date") -> str | None:
    """``value`` (epoch seconds or milliseconds, ISO 8601, the X v1 date, RFC 2822) as
    ``YYYY-MM-DDTHH:MM:SSZ``; None when missing; FieldError when unreadable. A naive time
    is taken as WIB (see the module docstring)."""
    if value is None or value == "":
        return None
    when: datetime | None = None
    if isinstance(value, bool):
        when = None
    elif isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit()):
        seconds = float(value)
        if seconds > 1e11:  # milliseconds
            seconds /= 1000
        when = datetime.fromtimestamp(seconds, UTC)
    elif isinstance(value, str):
        when = _parse_time_text(value.strip())
    if when is None:
        raise FieldError(f"field {path!r} is not a readable date: {value!r}")
    return utc_iso(when)


def utc_iso(when: datetime) -> str:
    """An aware or naive (WIB) datetime as ``YYYY-MM-DDTHH:MM:SSZ``."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=WIB)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_for_py310(text: str) -> str:
    """ISO 8601 in the narrow form ``datetime.fromisoformat`` reads before Python 3.11:
    "T" separator, "+00:00" for "Z" and "+0000", six fraction digits."""
    text = text.replace(" ", "T", 1)
    text = re.sub(r"Z$", "+00:00", text)
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    return re.sub(r"\.(\d+)", lambda m: "." + (m[1] + "000000")[:6], text)


def _parse_time_text(text: str) -> datetime | None:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    try:
        return datetime.fromisoformat(_iso_for_py310(text))
    except ValueError:
        pass
    try:
        return datetime.strptime(text, _TWITTER_DATE)
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def type_name(value: Any) -> str:
    """The JSON name of ``value``'s type, for error messages."""
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


# --------------------------------------------------------------------------- detection


_KEY = re.compile(r'"([A-Za-z_@#][\w\-.#@]*)"\s*:')


def json_keys(head: bytes) -> set[str]:
    """The JSON object keys that appear in ``head`` (at any depth, in any record)."""
    return set(_KEY.findall(head.decode("utf-8", errors="ignore")))


def csv_header(head: bytes) -> list[str]:
    """The column names of ``head``'s first line when it reads as a CSV header, else []."""
    text = head.decode("utf-8", errors="ignore").removeprefix(_BOM)
    first = text.split("\n", 1)[0].rstrip("\r")
    if not first or first.lstrip().startswith(("{", "[")) or "," not in first:
        return []
    try:
        return next(csv.reader([first]))
    except (csv.Error, StopIteration):
        return []
