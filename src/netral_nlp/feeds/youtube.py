"""YouTube comments as the Data API v3 returns them: ``commentThreads`` and
``comments`` list responses (one page a line, a JSON array, or one pretty-printed page),
or bare comment threads / comments one a line.

A thread gives its top-level comment, then each reply it carries (``replies.comments``);
a reply's ``parent_id`` is its ``snippet.parentId``. The API gives no bio.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..io import Rejection
from .base import (
    FeedRecord,
    FieldError,
    Source,
    convert,
    counts,
    first_text,
    id_field,
    json_keys,
    json_values,
    open_source,
    register,
    require_text,
    text_field,
    utc_time,
)


def _detect(head: bytes, filename: str) -> float:
    if b'"youtube#comment' in head:
        return 0.95
    keys = json_keys(head)
    return 0.85 if {"textOriginal", "authorDisplayName"} <= keys else 0.0


@register(
    "youtube",
    "YouTube Data API comment threads or comments (snippet.textOriginal, parentId)",
    _detect,
)
def read(source: Source) -> Iterator[FeedRecord | Rejection]:
    """Comments in file order; every comment of a page has the page's line number."""
    with open_source(source) as fh:
        for line, value in json_values(fh):
            items = value.get("items") if isinstance(value, dict) else None
            if isinstance(items, list):
                for i, item in enumerate(items):
                    yield from _item(line, item, f"items[{i}]")
            else:
                yield from _item(line, value, "")


def _item(line: int, item: Any, where: str) -> Iterator[FeedRecord | Rejection]:
    if isinstance(item, dict) and item.get("kind") == "youtube#commentThread":
        yield convert(line, item, lambda n, o: _comment(n, _top_level(o)), where=where)
        replies = item.get("replies")
        comments = replies.get("comments") if isinstance(replies, dict) else None
        for j, reply in enumerate(comments if isinstance(comments, list) else []):
            yield convert(line, reply, _comment, where=f"{where}.replies.comments[{j}]".lstrip("."))
    else:
        yield convert(line, item, _comment, where=where)


def _top_level(thread: dict[str, Any]) -> dict[str, Any]:
    top = thread.get("snippet", {}).get("topLevelComment")
    if not isinstance(top, dict):
        raise FieldError("missing field 'snippet.topLevelComment'")
    return top


def _comment(line: int, comment: dict[str, Any]) -> FeedRecord:
    comment_id = id_field(comment, "id")
    if comment_id is None:
        raise FieldError("missing field 'id'")
    snippet = comment.get("snippet")
    if not isinstance(snippet, dict):
        raise FieldError("missing field 'snippet'")
    parent_id = id_field(snippet, "parentId")
    video = id_field(snippet, "videoId")
    return FeedRecord(
        id=comment_id,
        platform="youtube",
        text=require_text(
            first_text(snippet, "textOriginal", "textDisplay"), "'snippet.textOriginal'"
        ),
        line=line,
        adapter="youtube",
        author_id=id_field(snippet, "authorChannelId.value"),
        author_handle=text_field(snippet, "authorDisplayName"),
        created_at=utc_time(snippet.get("publishedAt"), "snippet.publishedAt"),
        url=f"https://www.youtube.com/watch?v={video}&lc={comment_id}" if video else None,
        relation="reply" if parent_id else None,
        parent_id=parent_id,
        engagement=counts(snippet, {"likes": "likeCount"}),
        raw=comment,
    )
