"""News articles as trafilatura (``--json``: ``title``, ``author``, ``date``, ``text``,
``source``/``url``) or news-please (``title``, ``authors``, ``date_publish``,
``maintext``, ``url``) write them: one JSON file per article, JSON Lines, or a JSON array.

The text scored is the title, a blank line, then the body: headlines often carry the
claim. ``author_handle`` is the byline (several authors joined by "; "); articles carry
no bio. The id is the extractor's id or fingerprint when present, else the URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

from ..io import Rejection
from .base import (
    FeedRecord,
    FieldError,
    Source,
    convert,
    first_text,
    get,
    json_keys,
    json_values,
    open_source,
    register,
    text_field,
    utc_time,
)


def _detect(head: bytes, filename: str) -> float:
    keys = json_keys(head)
    if {"maintext", "date_publish"} <= keys or {"maintext", "source_domain"} <= keys:
        return 0.9
    if {"title", "text"} <= keys and keys & {
        "raw_text",
        "fingerprint",
        "source-hostname",
        "hostname",
    }:
        return 0.85
    return 0.0


@register(
    "articles",
    "news articles from trafilatura or news-please JSON (title + text/maintext)",
    _detect,
)
def read(source: Source) -> Iterator[FeedRecord | Rejection]:
    """Articles in file order."""
    with open_source(source) as fh:
        for line, value in json_values(fh):
            yield convert(line, value, _article, ("id", "fingerprint", "url", "source"))


def _article(line: int, item: dict[str, Any]) -> FeedRecord:
    body = first_text(item, "maintext", "text", "raw_text")
    if body is None:
        raise FieldError("no text to score: 'maintext' / 'text' is missing or empty")
    title = text_field(item, "title")
    url = first_text(item, "url", "source")
    article_id = first_text(item, "id", "fingerprint") or url
    if article_id is None:
        raise FieldError("no id: none of 'id', 'fingerprint', 'url' is given")
    site = first_text(item, "source_domain", "hostname", "source-hostname", "sitename")
    if site is None and url:
        site = urlparse(url).hostname
    return FeedRecord(
        id=article_id,
        platform="news",
        text=f"{title}\n\n{body}" if title else body,
        line=line,
        adapter="articles",
        author_id=site,
        author_handle=_byline(item),
        created_at=utc_time(get(item, "date_publish") or get(item, "date"), "date"),
        url=url,
        lang=first_text(item, "language", "lang"),
        raw=item,
    )


def _byline(item: dict[str, Any]) -> str | None:
    authors = item.get("authors")
    if isinstance(authors, list):
        names = [a for a in authors if isinstance(a, str) and a.strip()]
        if len(names) != len(authors):
            raise FieldError("field 'authors' must be a list of strings")
        return "; ".join(names) or None
    if authors is not None:
        raise FieldError("field 'authors' must be a list of strings")
    return text_field(item, "author")
