"""Telegram Desktop's JSON export (``result.json``): one chat (``messages``) or a whole
account (``chats.list[].messages``).

The export is one JSON document and is parsed whole, so memory grows with the file
(a 100 MB export needs about 1 GB). ``line`` is the message's 1-based position among
all messages read, not a file line. Service messages (joins, pins, calls) are not posts
and are skipped; a message with no text (a photo without a caption, a sticker) is
rejected. Ids are ``<chat id>:<message id>`` since message ids repeat across chats.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..io import InputError, Rejection
from .base import (
    BrokenJSON,
    FeedRecord,
    FieldError,
    Source,
    convert,
    id_field,
    json_keys,
    json_values,
    open_source,
    register,
    require_text,
    source_name,
    text_field,
    type_name,
    utc_time,
)


def _detect(head: bytes, filename: str) -> float:
    keys = json_keys(head)
    if "messages" in keys and keys & {"date_unixtime", "from_id", "text_entities"}:
        return 0.95
    return 0.0


@register(
    "telegram",
    "Telegram Desktop chat export result.json (messages; text as string or entity list)",
    _detect,
)
def read(source: Source) -> Iterator[FeedRecord | Rejection]:
    """Messages of every chat in the export, in file order."""
    with open_source(source) as fh:
        values = list(json_values(fh))
    position = 0
    for line, doc in values:
        if isinstance(doc, BrokenJSON):
            yield Rejection(line, doc.reason)
            continue
        for chat in _chats(doc, source):
            chat_id = id_field(chat, "id") or "chat"
            messages = chat.get("messages")
            if not isinstance(messages, list):
                position += 1
                yield Rejection(position, f"chat {chat_id}: field 'messages' must be an array")
                continue
            for message in messages:
                position += 1
                if isinstance(message, dict) and message.get("type") == "service":
                    continue
                item = convert(position, message, lambda n, o, c=chat_id: _message(n, o, c))
                if isinstance(item, Rejection) and item.id is not None:
                    item.id = f"{chat_id}:{item.id}"
                yield item


def _chats(doc: Any, source: Source) -> list[dict[str, Any]]:
    if isinstance(doc, dict) and "messages" in doc:
        return [doc]
    chats = doc.get("chats") if isinstance(doc, dict) else None
    if isinstance(chats, dict) and isinstance(chats.get("list"), list):
        return [c for c in chats["list"] if isinstance(c, dict)]
    raise InputError(f"{source_name(source)}: no 'messages' or 'chats.list' in the export")


def _message(position: int, message: dict[str, Any], chat_id: str) -> FeedRecord:
    message_id = id_field(message, "id")
    if message_id is None:
        raise FieldError("missing field 'id'")
    forwarded = text_field(message, "forwarded_from")
    reply_to = id_field(message, "reply_to_message_id")
    relation, parent_id = None, None
    if forwarded is not None or "forwarded_from" in message:
        relation = "forward"
    elif reply_to is not None:
        relation, parent_id = "reply", f"{chat_id}:{reply_to}"
    reactions = message.get("reactions")
    engagement = {}
    if isinstance(reactions, list):
        total = sum(
            r["count"] for r in reactions if isinstance(r, dict) and isinstance(r.get("count"), int)
        )
        engagement["reactions"] = total
    media = text_field(message, "media_type") or ("photo" if "photo" in message else None)
    return FeedRecord(
        id=f"{chat_id}:{message_id}",
        platform="telegram",
        text=require_text(
            join_text(message.get("text")), f"'text' (media only: {media})" if media else "'text'"
        ),
        line=position,
        adapter="telegram",
        author_id=text_field(message, "from_id"),
        author_handle=text_field(message, "from"),
        created_at=utc_time(message.get("date_unixtime") or message.get("date"), "date"),
        relation=relation,
        parent_id=parent_id,
        engagement=engagement,
        raw=message,
    )


def join_text(value: Any) -> str | None:
    """A message's ``text``: a string, or a list of strings and entity objects
    (``{"type": "bold", "text": ...}``) whose visible texts are joined in order."""
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, list):
        raise FieldError(f"field 'text' must be a string or a list, got {type_name(value)}")
    parts = []
    for part in value:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict) and isinstance(part.get("text"), str):
            parts.append(part["text"])
        else:
            raise FieldError("field 'text' holds an entity without a string 'text'")
    return "".join(parts)
