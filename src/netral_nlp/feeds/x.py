"""X (Twitter): API v2 responses, twscrape/snscrape JSON Lines, tweet-harvest CSV.

A repost's text is the reposted post's full text when the source carries it (API v2
``includes.tweets``, twscrape ``retweetedTweet``): the truncated "RT @user: ..." says
less about what the account spread. A quote keeps its own text; the quoted post is its
``parent_id``.
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
    csv_header,
    csv_records,
    first_text,
    get,
    id_field,
    json_keys,
    json_values,
    open_source,
    register,
    require_text,
    text_field,
    utc_time,
)

_RELATIONS = {"retweeted": "repost", "quoted": "quote", "replied_to": "reply"}
_V2_METRICS = {
    "likes": "public_metrics.like_count",
    "reposts": "public_metrics.retweet_count",
    "quotes": "public_metrics.quote_count",
    "replies": "public_metrics.reply_count",
    "views": "public_metrics.impression_count",
    "bookmarks": "public_metrics.bookmark_count",
}


def _status_url(handle: str | None, tweet_id: str) -> str | None:
    return f"https://x.com/{handle}/status/{tweet_id}" if handle else None


# --------------------------------------------------------------------------- API v2


def _detect_api(head: bytes, filename: str) -> float:
    keys = json_keys(head)
    tweetish = {"edit_history_tweet_ids", "author_id", "public_metrics", "referenced_tweets"}
    if "data" in keys and "text" in keys and keys & (tweetish | {"includes"}):
        return 0.9
    if "text" in keys and len(keys & tweetish) >= 2:
        return 0.8
    return 0.0


@register(
    "x-api",
    "X API v2 responses as JSON or JSON Lines (data + includes.users; twarc2 output)",
    _detect_api,
)
def read_api(source: Source) -> Iterator[FeedRecord | Rejection]:
    """Posts of X API v2 responses: one response page (``data`` list or object, with
    ``includes.users`` / ``includes.tweets``) or one bare post a line, or a pretty-printed
    response (parsed whole). Every post of a page has the page's line number."""
    with open_source(source) as fh:
        for line, value in json_values(fh):
            if isinstance(value, dict) and "data" in value:
                yield from _api_page(line, value)
            else:
                yield convert(line, value, lambda n, o: _api_post(n, o, {}, {}))


def _api_page(line: int, page: dict[str, Any]) -> Iterator[FeedRecord | Rejection]:
    data = page["data"]
    posts = data if isinstance(data, list) else [data]
    includes = page.get("includes") if isinstance(page.get("includes"), dict) else {}
    users = _by_id(includes.get("users"))
    tweets = _by_id(includes.get("tweets"))
    for i, post in enumerate(posts):
        where = f"data[{i}]" if isinstance(data, list) else "data"
        yield convert(line, post, lambda n, o: _api_post(n, o, users, tweets), where=where)


def _by_id(items: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(items, list):
        return {}
    return {str(i["id"]): i for i in items if isinstance(i, dict) and "id" in i}


def _api_post(
    line: int,
    post: dict[str, Any],
    users: dict[str, dict[str, Any]],
    tweets: dict[str, dict[str, Any]],
) -> FeedRecord:
    post_id = id_field(post, "id")
    if post_id is None:
        raise FieldError("missing field 'id'")
    relation, parent_id = _api_relation(post)
    text = first_text(post, "note_tweet.text", "text")
    parent = tweets.get(parent_id or "")
    if relation == "repost" and parent is not None:
        text = first_text(parent, "note_tweet.text", "text") or text
    author_id = id_field(post, "author_id")
    user = users.get(author_id or "") or (
        post.get("author") if isinstance(post.get("author"), dict) else {}
    )
    handle = text_field(user, "username")
    return FeedRecord(
        id=post_id,
        platform="x",
        text=require_text(text, "'text'"),
        line=line,
        adapter="x-api",
        author_id=author_id or id_field(user, "id"),
        author_handle=handle,
        author_context=text_field(user, "description"),
        created_at=utc_time(post.get("created_at"), "created_at"),
        url=_status_url(handle, post_id),
        relation=relation,
        parent_id=parent_id,
        engagement=counts(post, _V2_METRICS),
        lang=text_field(post, "lang"),
        raw=post,
    )


def _api_relation(post: dict[str, Any]) -> tuple[str | None, str | None]:
    refs = post.get("referenced_tweets") or []
    if not isinstance(refs, list):
        raise FieldError("field 'referenced_tweets' must be an array")
    found = {r.get("type"): id_field(r, "id") for r in refs if isinstance(r, dict)}
    for kind, relation in _RELATIONS.items():  # a reply that quotes counts as a quote
        if kind in found:
            return relation, found[kind]
    return None, None


# --------------------------------------------------------------------------- twscrape


def _detect_scrape(head: bytes, filename: str) -> float:
    keys = json_keys(head)
    if b'"snscrape.modules.twitter' in head:
        return 0.95
    if "rawContent" in keys:
        return 0.9 if keys & {"retweetedTweet", "quotedTweet", "likeCount"} else 0.7
    return 0.0


_SCRAPE_METRICS = {
    "likes": "likeCount",
    "reposts": "retweetCount",
    "quotes": "quoteCount",
    "replies": "replyCount",
    "views": "viewCount",
    "bookmarks": "bookmarkCount",
}


@register(
    "twscrape",
    "twscrape or snscrape tweets as JSON Lines (rawContent, user.rawDescription)",
    _detect_scrape,
)
def read_scrape(source: Source) -> Iterator[FeedRecord | Rejection]:
    """Tweets as twscrape's ``Tweet.dict()`` or snscrape's JSON, one a line (or a JSON
    array)."""
    with open_source(source) as fh:
        for line, value in json_values(fh):
            yield convert(line, value, _scrape_post, ("id_str", "id"))


def _scrape_post(line: int, post: dict[str, Any]) -> FeedRecord:
    post_id = id_field(post, "id_str") or id_field(post, "id")
    if post_id is None:
        raise FieldError("missing field 'id'")
    text = first_text(post, "rawContent", "content", "renderedContent")
    relation, parent_id = None, None
    retweeted, quoted = post.get("retweetedTweet"), post.get("quotedTweet")
    if isinstance(retweeted, dict):
        relation, parent_id = "repost", _nested_id(retweeted)
        text = first_text(retweeted, "rawContent", "content") or text
    elif isinstance(quoted, dict):
        relation, parent_id = "quote", _nested_id(quoted)
    elif get(post, "inReplyToTweetId") is not None:
        relation, parent_id = "reply", id_field(post, "inReplyToTweetId")
    user = post.get("user") if isinstance(post.get("user"), dict) else {}
    handle = text_field(user, "username")
    return FeedRecord(
        id=post_id,
        platform="x",
        text=require_text(text, "'rawContent'"),
        line=line,
        adapter="twscrape",
        author_id=id_field(user, "id_str") or id_field(user, "id"),
        author_handle=handle,
        author_context=first_text(user, "rawDescription", "description"),
        created_at=utc_time(post.get("date"), "date"),
        url=text_field(post, "url") or _status_url(handle, post_id),
        relation=relation,
        parent_id=parent_id,
        engagement=counts(post, _SCRAPE_METRICS),
        lang=text_field(post, "lang"),
        raw=post,
    )


def _nested_id(post: dict[str, Any]) -> str | None:
    return id_field(post, "id_str") or id_field(post, "id")


# --------------------------------------------------------------------------- tweet-harvest


_HARVEST_COLUMNS = {"full_text", "id_str", "username", "tweet_url"}
_HARVEST_METRICS = {
    "likes": "favorite_count",
    "reposts": "retweet_count",
    "quotes": "quote_count",
    "replies": "reply_count",
}


def _detect_harvest(head: bytes, filename: str) -> float:
    found = _HARVEST_COLUMNS & set(csv_header(head))
    return 0.95 if {"full_text", "id_str"} <= found and len(found) >= 3 else 0.0


@register(
    "tweet-harvest",
    "tweet-harvest CSV (full_text, id_str, username, tweet_url; no bio)",
    _detect_harvest,
)
def read_harvest(source: Source) -> Iterator[FeedRecord | Rejection]:
    """Rows of a tweet-harvest CSV. It carries no bio and no parent ids: a reply is
    marked from ``in_reply_to_screen_name`` and a repost from a leading "RT @", both
    with ``parent_id`` None."""
    with open_source(source) as fh:
        for line, value in csv_records(fh):
            yield convert(line, value, _harvest_row, ("id_str",))


def _harvest_row(line: int, row: dict[str, Any]) -> FeedRecord:
    post_id = id_field(row, "id_str")
    if post_id is None:
        raise FieldError("missing field 'id_str'")
    text = require_text(text_field(row, "full_text"), "'full_text'")
    relation = None
    if text.startswith("RT @"):
        relation = "repost"
    elif text_field(row, "in_reply_to_screen_name"):
        relation = "reply"
    handle = text_field(row, "username")
    return FeedRecord(
        id=post_id,
        platform="x",
        text=text,
        line=line,
        adapter="tweet-harvest",
        author_id=id_field(row, "user_id_str"),
        author_handle=handle,
        created_at=utc_time(row.get("created_at"), "created_at"),
        url=text_field(row, "tweet_url") or _status_url(handle, post_id),
        relation=relation,
        engagement=counts(row, _HARVEST_METRICS),
        lang=text_field(row, "lang"),
        raw=row,
    )
