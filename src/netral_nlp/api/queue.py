"""The review queue: flagged items wait here for a monitor to confirm or dismiss them, and
decided items leave as decisions for retraining.

SQLite in WAL mode with a busy timeout; every write is one ``BEGIN IMMEDIATE`` transaction,
so two reviewers deciding the same item serialise and the second sees it decided. With
``synchronous=FULL`` a decision is on disk before it is acknowledged.

``export_decisions`` writes the decided items as the API shows them. They become corpus
rows through the annotation import path, like Label Studio's and doccano's exports
(``netral annotations import FILE --from queue``, ``annotation_tools.queue_row``), so they
meet the same validator and the same conflict check.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..labels import CATEGORY_NAMES
from ..prediction import SPAN_KINDS

STATUSES = ("pending", "confirmed", "dismissed")
BUSY_TIMEOUT_MS = 5_000
# Paging bounds: SQLite's LIMIT and OFFSET are 64-bit and overflow past 2**63 - 1; a
# billion rows is far beyond any review queue.
MAX_PAGE = 500
MAX_OFFSET = 1_000_000_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'confirmed', 'dismissed')),
    content_hash TEXT NOT NULL,
    text TEXT NOT NULL,
    url TEXT,
    title TEXT,
    author_context TEXT,
    source_type TEXT NOT NULL,
    score REAL NOT NULL,
    categories TEXT NOT NULL,
    category_scores TEXT NOT NULL,
    evidence_spans TEXT NOT NULL,
    model TEXT NOT NULL,
    decided_at TEXT,
    reviewer TEXT,
    decided_categories TEXT,
    partisan INTEGER,
    asn INTEGER,
    note TEXT
);
CREATE INDEX IF NOT EXISTS items_status ON items (status, created_at);
CREATE INDEX IF NOT EXISTS items_pending_hash ON items (content_hash) WHERE status = 'pending';
"""


def _columns(con: sqlite3.Connection) -> set[str]:
    return {r[1] for r in con.execute("PRAGMA table_info(items)")}


class QueueDatabaseError(ValueError):
    """The file at NETRAL_DB cannot hold the queue (not SQLite, another schema, unreadable).

    A ValueError, so the CLI reports it as one ``error:`` line."""


class QueueError(Exception):
    """A queue operation that cannot be done; ``code`` is the API error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class NewItem:
    """A scored item to queue: its text, where it came from and what the model said."""

    text: str
    score: float
    categories: list[str]
    category_scores: dict[str, float]
    evidence_spans: list[dict[str, Any]]
    model: str
    author_context: str | None = None
    url: str | None = None
    title: str | None = None

    @property
    def source_type(self) -> str:
        return "news" if self.url else "post"


@dataclass
class QueueItem(NewItem):
    """A queued item with its state; decision fields are None while pending."""

    id: str = ""
    created_at: str = ""
    status: str = "pending"
    decided_at: str | None = None
    reviewer: str | None = None
    decided_categories: list[str] | None = None
    partisan: bool | None = None
    asn: bool | None = None
    note: str | None = None

    def public(self) -> dict[str, Any]:
        """The item as the API shows it."""
        out = asdict(self)
        out["source_type"] = self.source_type
        return out


@dataclass
class Decision:
    """A reviewer's verdict. ``categories`` empty on a confirmation keeps the model's."""

    decision: str  # "confirmed" or "dismissed"
    reviewer: str
    categories: list[str] = field(default_factory=list)
    note: str | None = None
    partisan: bool | None = None  # dismissals only: which half of the flag held
    asn: bool | None = None

    def check(self) -> None:
        if self.decision not in ("confirmed", "dismissed"):
            raise QueueError("validation_error", "decision must be confirmed or dismissed")
        unknown = [c for c in self.categories if c not in CATEGORY_NAMES]
        if unknown:
            raise QueueError("validation_error", f"unknown categories {unknown}")
        if self.decision == "dismissed" and self.categories:
            raise QueueError("validation_error", "a dismissed item has no categories")
        if self.decision == "dismissed" and self.partisan and self.asn:
            raise QueueError(
                "validation_error", "partisan and asn both true is a flag: confirm instead"
            )
        if self.decision == "confirmed" and (self.partisan is False or self.asn is False):
            raise QueueError("validation_error", "a confirmed item is partisan and asn")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _hash(text: str, author_context: str | None, url: str | None) -> str:
    raw = json.dumps([text, author_context, url], ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()


def _bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def _row_to_item(row: sqlite3.Row) -> QueueItem:
    decided = row["decided_categories"]
    return QueueItem(
        id=row["id"],
        created_at=row["created_at"],
        status=row["status"],
        text=row["text"],
        url=row["url"],
        title=row["title"],
        author_context=row["author_context"],
        score=row["score"],
        categories=json.loads(row["categories"]),
        category_scores=json.loads(row["category_scores"]),
        # Spans of a kind SpanKind no longer names (an older model) are dropped, not shown
        # as something else: the API's schema and the page know only SpanKind.
        evidence_spans=[
            s for s in json.loads(row["evidence_spans"]) if s.get("kind") in SPAN_KINDS
        ],
        model=row["model"],
        decided_at=row["decided_at"],
        reviewer=row["reviewer"],
        decided_categories=json.loads(decided) if decided is not None else None,
        partisan=_bool(row["partisan"]),
        asn=_bool(row["asn"]),
        note=row["note"],
    )


class ReviewQueue:
    """The queue in one SQLite file. Thread-safe: each thread keeps its own connection
    (opening one costs ~0.6 ms, more than the queries of a request)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        if self.path.parent != Path():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self._connect() as con:
                con.execute("PRAGMA journal_mode=WAL")
                con.executescript(_SCHEMA)
                found = _columns(con)
        except sqlite3.Error as exc:
            raise QueueDatabaseError(
                f"{self.path}: cannot open the review queue ({exc}); point NETRAL_DB at a "
                "queue database or at a new file"
            ) from None
        with contextlib.closing(sqlite3.connect(":memory:")) as fresh:
            fresh.executescript(_SCHEMA)
            missing = sorted(_columns(fresh) - found)
        if missing:
            raise QueueDatabaseError(
                f"{self.path}: an SQLite file but not a review queue (table items lacks "
                f"{', '.join(missing)}); point NETRAL_DB at a queue database or at a new file"
            )

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            con.row_factory = sqlite3.Row
            con.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            con.execute("PRAGMA synchronous=FULL")
            self._local.con = con
        yield con

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One BEGIN IMMEDIATE transaction: the write lock is taken before anything is read."""
        with self._connect() as con:
            try:
                con.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:  # still locked after the busy timeout
                raise QueueError("overloaded", "the review queue is busy; retry shortly") from exc
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def add(self, item: NewItem) -> str:
        """Queue ``item`` and return its id; an identical pending item is not queued twice."""
        digest = _hash(item.text, item.author_context, item.url)
        with self._write() as con:
            found = con.execute(
                "SELECT id FROM items WHERE status = 'pending' AND content_hash = ?", (digest,)
            ).fetchone()
            if found is not None:
                return str(found["id"])
            item_id = secrets.token_hex(8)
            con.execute(
                "INSERT INTO items (id, created_at, content_hash, text, url, title, author_context,"
                " source_type, score, categories, category_scores, evidence_spans, model)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    item_id,
                    _now(),
                    digest,
                    item.text,
                    item.url,
                    item.title,
                    item.author_context,
                    item.source_type,
                    item.score,
                    json.dumps(item.categories),
                    json.dumps(item.category_scores),
                    json.dumps(item.evidence_spans, ensure_ascii=False),
                    item.model,
                ),
            )
        return item_id

    def get(self, item_id: str) -> QueueItem:
        with self._connect() as con:
            row = con.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise QueueError("not_found", "no queue item with this id")
        return _row_to_item(row)

    def items(self, status: str = "pending", limit: int = 50, offset: int = 0) -> list[QueueItem]:
        """Items of one status: pending oldest first (a work list), decided newest first."""
        if status not in STATUSES:
            raise QueueError("validation_error", f"status must be one of {', '.join(STATUSES)}")
        if not (1 <= limit <= MAX_PAGE and 0 <= offset <= MAX_OFFSET):
            raise QueueError(
                "validation_error",
                f"limit must be 1 to {MAX_PAGE} and offset 0 to {MAX_OFFSET:,}",
            )
        order = "created_at ASC" if status == "pending" else "decided_at DESC"
        with self._connect() as con:
            rows = con.execute(
                f"SELECT * FROM items WHERE status = ? ORDER BY {order} LIMIT ? OFFSET ?",
                (status, limit, offset),
            ).fetchall()
        return [_row_to_item(r) for r in rows]

    def counts(self) -> dict[str, int]:
        with self._connect() as con:
            rows = con.execute("SELECT status, COUNT(*) FROM items GROUP BY status").fetchall()
        return {s: 0 for s in STATUSES} | {r[0]: r[1] for r in rows}

    def decide(self, item_id: str, decision: Decision) -> QueueItem:
        """Record ``decision``; QueueError ``already_decided`` if someone decided first."""
        decision.check()
        with self._write() as con:
            row = con.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
            if row is None:
                raise QueueError("not_found", "no queue item with this id")
            if row["status"] != "pending":
                raise QueueError(
                    "already_decided",
                    f"this item was already {row['status']} by {row['reviewer'] or 'someone'}",
                )
            categories = decision.categories
            if decision.decision == "confirmed" and not categories:
                categories = json.loads(row["categories"]) or [
                    max(json.loads(row["category_scores"]).items(), key=lambda kv: kv[1])[0]
                ]
            con.execute(
                "UPDATE items SET status = ?, decided_at = ?, reviewer = ?, decided_categories = ?,"
                " partisan = ?, asn = ?, note = ? WHERE id = ? AND status = 'pending'",
                (
                    decision.decision,
                    _now(),
                    decision.reviewer,
                    json.dumps([c for c in CATEGORY_NAMES if c in categories]),
                    decision.partisan,
                    decision.asn,
                    decision.note,
                    item_id,
                ),
            )
            row = con.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
        return _row_to_item(row)

    def decided(self) -> Iterator[QueueItem]:
        """Every decided item, in decision order."""
        with self._connect() as con:
            for row in con.execute(
                "SELECT * FROM items WHERE status != 'pending' ORDER BY decided_at, id"
            ):
                yield _row_to_item(row)


def export_decisions(db: str | Path | None, output: str | Path) -> int:
    """Write every decided item of the queue at ``db`` (None: ``$NETRAL_DB`` or the default)
    to ``output`` (JSON Lines, ``QueueItem.public()`` in decision order), atomically.
    Returns the count. ``netral annotations import OUTPUT --from queue`` makes corpus rows."""
    if db is None:
        from .settings import Settings

        db = Settings().db
    if not Path(db).is_file():
        raise FileNotFoundError(f"{db}: no review queue database here")
    output = Path(output)
    tmp = output.with_name(f".{output.name}.tmp")
    n = 0
    with tmp.open("w", encoding="utf-8") as fh:
        for item in ReviewQueue(db).decided():
            fh.write(json.dumps(item.public(), ensure_ascii=False) + "\n")
            n += 1
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(output)
    return n
