"""WhatsApp chat exports (``.txt``), as Android and iOS write them in Indonesian and
English:

    12/01/24, 09.15 - Budi Santoso: pesan              Android, 24-hour, Indonesian
    1/12/24, 9:15 PM - Budi Santoso: message           Android, 12-hour, US English
    [12/01/24 09.15.30] Budi Santoso: pesan            iOS

A line that does not start with a date header continues the message above (multi-line
messages). Header lines without "Name: " are system lines (encryption notice, joins) and
are skipped, as are iOS system lines, whose text starts with a left-to-right mark.
Media placeholders ("<Media tidak disertakan>", "<Media omitted>", "image omitted",
"IMG-...jpg (file attached)", deleted-message notices) are dropped from the text; a
message left with no text is rejected.

Day and month order is settled per file from its first 256 KiB (HEAD_BYTES): a first number over 12
means day first, a second over 12 month first; undecided files are taken as day first
(the Indonesian style). Export times are the phone's local time and are taken as WIB.
There are no message ids: a message's id is ``<chat>:<line>``, its 1-based first line
in the file, with ``<chat>`` from the file name. ``raw`` is the message's source lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from ..io import MAX_LINE_BYTES, Rejection
from .base import (
    FeedRecord,
    Source,
    open_source,
    read_head,
    register,
    source_name,
    text_lines,
    utc_iso,
)

_DATE = r"(?P<d1>\d{1,2})[/.-](?P<d2>\d{1,2})[/.-](?P<year>\d{2}|\d{4})"
_TIME = r"(?P<hour>\d{1,2})[.:](?P<minute>\d{2})(?:[.:](?P<second>\d{2}))?"
_AMPM = r"(?:\s?(?P<ampm>[AaPp]\.?\s?[Mm]\.?))?"
_ANDROID = re.compile(rf"^{_DATE},? {_TIME}{_AMPM} - (?P<rest>.*)$")
_IOS = re.compile(rf"^\[{_DATE},? {_TIME}{_AMPM}\] (?P<rest>.*)$")
_LRM = "\u200e"
_SPACES = str.maketrans({"\u202f": " ", "\xa0": " "})
_NAME_MAX = 80
_PLACEHOLDERS = {
    "media omitted",
    "media tidak disertakan",
    "image omitted",
    "video omitted",
    "audio omitted",
    "sticker omitted",
    "gif omitted",
    "document omitted",
    "contact card omitted",
    "gambar tidak disertakan",
    "video tidak disertakan",
    "audio tidak disertakan",
    "stiker tidak disertakan",
    "gif tidak disertakan",
    "dokumen tidak disertakan",
    "this message was deleted",
    "you deleted this message",
    "pesan ini telah dihapus",
    "anda menghapus pesan ini",
    "null",
}
_ATTACHED = re.compile(r"(\(file attached\)|\(file terlampir\)|^<attached: .*>$|^<terlampir: .*>$)")


def _header(line: str) -> re.Match[str] | None:
    line = line.lstrip(_LRM).translate(_SPACES)
    return _ANDROID.match(line) or _IOS.match(line)


def _detect(head: bytes, filename: str) -> float:
    lines = [x for x in head.decode("utf-8", errors="ignore").splitlines()[:200] if x.strip()]
    if not lines:
        return 0.0
    headers = sum(1 for x in lines if _header(x))
    share = headers / len(lines)
    if headers and share >= 0.3:
        return 0.9 if share >= 0.5 else 0.7
    return 0.0


@register(
    "whatsapp",
    "WhatsApp chat export .txt (Android or iOS; Indonesian or English dates)",
    _detect,
)
def read(source: Source) -> Iterator[FeedRecord | Rejection]:
    """Messages of the chat in file order (memory: one message)."""
    chat = _chat_name(source_name(source))
    dayfirst = _day_first(read_head(source))
    with open_source(source) as fh:
        current: _Message | None = None
        for lineno, line in text_lines(fh):
            match = _header(line) if line is not None else None
            if match is not None:
                if current is not None and (item := current.finish(chat, dayfirst)):
                    yield item
                current = _Message(lineno, match, line or "")
            elif current is not None:
                current.add(line)
            elif line is None or line.strip():
                yield Rejection(lineno, "text before the first message header")
        if current is not None and (item := current.finish(chat, dayfirst)):
            yield item


def _chat_name(filename: str) -> str:
    stem = Path(filename).stem if filename else ""
    for prefix in ("WhatsApp Chat with ", "Chat WhatsApp dengan ", "WhatsApp Chat - "):
        stem = stem.removeprefix(prefix)
    return stem or "whatsapp"


def _day_first(head: bytes) -> bool:
    for line in head.decode("utf-8", errors="ignore").splitlines():
        match = _header(line)
        if match:
            if int(match["d1"]) > 12:
                return True
            if int(match["d2"]) > 12:
                return False
    return True


class _Message:
    """One message being read: its header and the lines that follow it."""

    def __init__(self, line: int, header: re.Match[str], source: str) -> None:
        self.line = line
        self.header = header
        self.lines = [source]
        self.body = [header["rest"]]
        self.size = len(source)
        self.too_long = False

    def add(self, line: str | None) -> None:
        if line is None or self.size + len(line) > MAX_LINE_BYTES:
            self.too_long = True
            return
        self.lines.append(line)
        self.body.append(line)
        self.size += len(line)

    def finish(self, chat: str, dayfirst: bool) -> FeedRecord | Rejection | None:
        msg_id = f"{chat}:{self.line}"
        if self.too_long:
            return Rejection(self.line, f"message longer than {MAX_LINE_BYTES:,} bytes", msg_id)
        first = self.body[0]
        name, sep, text = first.partition(": ")
        if _is_system(name, sep, text):
            return None
        try:
            when = _when(self.header, dayfirst)
        except ValueError as exc:
            return Rejection(self.line, f"unreadable message date ({exc})", msg_id)
        kept = [x for x in [text, *self.body[1:]] if not _is_media(x)]
        body = "\n".join(kept).strip()
        if not body:
            return Rejection(self.line, "no text to score: media or a deleted message", msg_id)
        return FeedRecord(
            id=msg_id,
            platform="whatsapp",
            text=body,
            line=self.line,
            adapter="whatsapp",
            author_handle=name.strip(_LRM + " "),
            created_at=utc_iso(when),
            raw=self.lines,
        )


def _is_system(name: str, sep: str, text: str) -> bool:
    """Android system lines have no "Name: "; a colon inside one ("changed the subject
    to "Rapat: besok"") leaves quotes in the would-be name; iOS marks them with an LRM."""
    if not sep or len(name) > _NAME_MAX or any(q in name for q in '"\u201c\u201d'):
        return True
    return text.startswith(_LRM) and not _is_media(text)


def _is_media(text: str) -> bool:
    bare = text.strip().strip(_LRM).strip()
    return bare.strip("<>").rstrip(".").lower() in _PLACEHOLDERS or bool(_ATTACHED.search(bare))


def _when(header: re.Match[str], dayfirst: bool) -> datetime:
    d1, d2 = int(header["d1"]), int(header["d2"])
    day, month = (d1, d2) if dayfirst else (d2, d1)
    year = int(header["year"])
    year += 2000 if year < 100 else 0
    hour = int(header["hour"])
    ampm = (header["ampm"] or "").replace(".", "").replace(" ", "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            raise ValueError(f"hour {hour} with {header['ampm']}")
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    return datetime(year, month, day, hour, int(header["minute"]), int(header["second"] or 0))
