"""TikTok, Instagram and Facebook as Apify actors write their datasets (JSON array or
JSON Lines; one item a post, or a comment for Instagram's comment results).

Field names follow the actors' documented output: clockworks' TikTok scraper
(``text``, ``authorMeta``, ``webVideoUrl``, ``diggCount``...), apify/instagram-scraper
(``caption``, ``ownerUsername``, ``shortCode``, ``likesCount``...) and
apify/facebook-posts-scraper (``postId``, ``pageName``, ``text``, ``likes``...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
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


def _read(
    source: Source, build: Callable[[int, dict[str, Any]], FeedRecord], id_key: str
) -> Iterator[FeedRecord | Rejection]:
    with open_source(source) as fh:
        for line, value in json_values(fh):
            yield convert(line, value, build, (id_key,))


def _required_id(obj: dict[str, Any], *paths: str) -> str:
    for path in paths:
        value = id_field(obj, path)
        if value is not None:
            return value
    raise FieldError(f"missing field {paths[0]!r}")


# --------------------------------------------------------------------------- TikTok


def _detect_tiktok(head: bytes, filename: str) -> float:
    keys = json_keys(head)
    if "authorMeta" in keys and keys & {"webVideoUrl", "diggCount", "playCount"}:
        return 0.9
    return 0.6 if "webVideoUrl" in keys else 0.0


@register(
    "tiktok-apify",
    "TikTok videos from Apify's TikTok scraper (text, authorMeta, webVideoUrl)",
    _detect_tiktok,
)
def read_tiktok(source: Source) -> Iterator[FeedRecord | Rejection]:
    """Videos: the caption is the text, ``authorMeta.signature`` the bio."""
    return _read(source, _tiktok, "id")


def _tiktok(line: int, item: dict[str, Any]) -> FeedRecord:
    author = item.get("authorMeta") if isinstance(item.get("authorMeta"), dict) else {}
    return FeedRecord(
        id=_required_id(item, "id"),
        platform="tiktok",
        text=require_text(text_field(item, "text"), "'text' (the caption)"),
        line=line,
        adapter="tiktok-apify",
        author_id=id_field(author, "id"),
        author_handle=text_field(author, "name"),
        author_context=text_field(author, "signature"),
        created_at=utc_time(item.get("createTimeISO") or item.get("createTime"), "createTimeISO"),
        url=text_field(item, "webVideoUrl"),
        engagement=counts(
            item,
            {
                "likes": "diggCount",
                "reposts": "shareCount",
                "replies": "commentCount",
                "views": "playCount",
                "bookmarks": "collectCount",
            },
        ),
        lang=text_field(item, "textLanguage"),
        raw=item,
    )


# --------------------------------------------------------------------------- Instagram


def _detect_instagram(head: bytes, filename: str) -> float:
    keys = json_keys(head)
    if "ownerUsername" in keys and keys & {"shortCode", "caption", "likesCount"}:
        return 0.9
    return 0.0


@register(
    "instagram-apify",
    "Instagram posts or comments from Apify's Instagram scraper (caption, ownerUsername)",
    _detect_instagram,
)
def read_instagram(source: Source) -> Iterator[FeedRecord | Rejection]:
    """Posts (``caption``) and comments (``text`` with ``postId``: a reply to that
    post). The actor's post items carry no bio."""
    return _read(source, _instagram, "id")


def _instagram(line: int, item: dict[str, Any]) -> FeedRecord:
    is_comment = "caption" not in item and "postId" in item
    text = text_field(item, "text") if is_comment else text_field(item, "caption")
    short = text_field(item, "shortCode")
    return FeedRecord(
        id=_required_id(item, "id", "shortCode"),
        platform="instagram",
        text=require_text(text, "'text'" if is_comment else "'caption'"),
        line=line,
        adapter="instagram-apify",
        author_id=id_field(item, "ownerId"),
        author_handle=text_field(item, "ownerUsername"),
        created_at=utc_time(item.get("timestamp"), "timestamp"),
        url=text_field(item, "url") or (f"https://www.instagram.com/p/{short}/" if short else None),
        relation="reply" if is_comment else None,
        parent_id=id_field(item, "postId") if is_comment else None,
        engagement=counts(
            item,
            {
                "likes": "likesCount",
                "replies": "commentsCount" if not is_comment else "repliesCount",
                "views": "videoViewCount",
            },
        ),
        raw=item,
    )


# --------------------------------------------------------------------------- Facebook


def _detect_facebook(head: bytes, filename: str) -> float:
    keys = json_keys(head)
    if "facebookUrl" in keys or {"postId", "pageName"} <= keys:
        return 0.85
    return 0.0


@register(
    "facebook-apify",
    "Facebook posts from Apify's Facebook posts scraper (postId, pageName, text)",
    _detect_facebook,
)
def read_facebook(source: Source) -> Iterator[FeedRecord | Rejection]:
    """Posts of pages and profiles; a post sharing another (``sharedPost``) is a quote
    when it adds text, its own text otherwise being absent (rejected: nothing to score)."""
    return _read(source, _facebook, "postId")


def _facebook(line: int, item: dict[str, Any]) -> FeedRecord:
    user = item.get("user") if isinstance(item.get("user"), dict) else {}
    shared = item.get("sharedPost") if isinstance(item.get("sharedPost"), dict) else None
    return FeedRecord(
        id=_required_id(item, "postId", "id"),
        platform="facebook",
        text=require_text(text_field(item, "text"), "'text'"),
        line=line,
        adapter="facebook-apify",
        author_id=id_field(user, "id") or id_field(item, "pageId"),
        author_handle=first_text(item, "pageName", "user.name"),
        created_at=utc_time(item.get("time") or item.get("timestamp"), "time"),
        url=first_text(item, "url", "topLevelUrl"),
        relation="quote" if shared is not None else None,
        parent_id=id_field(shared, "postId") if shared is not None else None,
        engagement=counts(
            item,
            {
                "likes": "likes",
                "reposts": "shares",
                "replies": "comments",
                "views": "viewsCount",
            },
        ),
        raw=item,
    )
