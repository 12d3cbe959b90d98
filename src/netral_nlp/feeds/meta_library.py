"""Meta Content Library exports: Facebook and Instagram posts as the Content Library API
returns them (JSON or JSON Lines with ``post_owner`` and ``statistics`` objects) or as a
CSV with the same fields as dotted columns (``post_owner.name``, ``statistics.like_count``).
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
    id_field,
    json_keys,
    json_values,
    open_source,
    register,
    require_text,
    text_field,
    utc_time,
)

_SIGNS = {"creation_time", "post_owner", "statistics", "mcl_url", "shared_post_id"}


def _detect(head: bytes, filename: str) -> float:
    keys = json_keys(head) | {c.split(".", 1)[0] for c in csv_header(head)}
    found = keys & _SIGNS
    return 0.9 if "creation_time" in found and len(found) >= 2 else 0.0


@register(
    "meta-content-library",
    "Meta Content Library posts, JSON(L) or CSV (creation_time, post_owner, statistics)",
    _detect,
)
def read(source: Source) -> Iterator[FeedRecord | Rejection]:
    """Posts; a post sharing another (``shared_post_id``) is a quote when it has text of
    its own (a share without text has nothing to score and is rejected). The platform
    is "instagram" when the owner's ``type`` says so, else "facebook"."""
    with open_source(source) as fh:
        first = fh.peek(1)[:1]  # type: ignore[attr-defined]
        records = json_values(fh) if first in (b"{", b"[", b" ", b"\n") else csv_records(fh)
        for line, value in records:
            yield convert(line, value, _post)


def _post(line: int, item: dict[str, Any]) -> FeedRecord:
    post_id = id_field(item, "id")
    if post_id is None:
        raise FieldError("missing field 'id'")
    owner_type = (text_field(item, "post_owner.type") or "").lower()
    shared = id_field(item, "shared_post_id")
    return FeedRecord(
        id=post_id,
        platform="instagram" if "instagram" in owner_type else "facebook",
        text=require_text(text_field(item, "text"), "'text'"),
        line=line,
        adapter="meta-content-library",
        author_id=id_field(item, "post_owner.id"),
        author_handle=first_text(item, "post_owner.username", "post_owner.name"),
        created_at=utc_time(item.get("creation_time"), "creation_time"),
        url=first_text(item, "mcl_url", "link_attachment.link"),
        relation="quote" if shared else None,
        parent_id=shared,
        engagement=counts(
            item,
            {
                "likes": "statistics.like_count",
                "reactions": "statistics.reaction_count",
                "reposts": "statistics.share_count",
                "replies": "statistics.comment_count",
                "views": "statistics.views",
            },
        ),
        lang=text_field(item, "lang"),
        raw=item,
    )
