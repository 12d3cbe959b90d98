"""Request and response bodies of the HTTP API. Booleans and integers are strict (no
coercion: ``"queue": 0`` and ``"id": true`` are refused), forbid unknown fields and cap every length; a text over the
text limit (limits.py) answers 413 ``text_too_long`` naming it, other limits 422."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ..labels import CATEGORY_NAMES
from ..limits import MAX_TEXT_CHARS, MAX_URL_CHARS, too_long
from ..prediction import SPAN_KINDS

MAX_ID_CHARS = 200
MAX_BATCH = 256
MAX_NOTE_CHARS = 2_000
MAX_REVIEWER_CHARS = 100
# Integer ids are exact in every JSON reader (JavaScript's Number.MAX_SAFE_INTEGER);
# past 2**53 they round silently, and past 2**63 most stores refuse them.
MAX_ID_INT = 2**53 - 1

CategoryName = Literal[CATEGORY_NAMES]  # type: ignore[valid-type]
SpanKindName = Literal[SPAN_KINDS]  # type: ignore[valid-type]
ItemId = (
    Annotated[str, Field(max_length=MAX_ID_CHARS)]
    | Annotated[int, Field(strict=True, ge=-MAX_ID_INT, le=MAX_ID_INT)]
)


def _within_text_limit(value: str | None, info: Any) -> str | None:
    """The one text limit (limits.MAX_TEXT_CHARS; the error type maps to 413), and text
    that is Unicode: JSON can spell a lone surrogate (\\ud800) that no store can encode."""
    if value is None:
        return value
    message = too_long(info.field_name, value)
    if message:
        raise PydanticCustomError("text_too_long", message)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid Unicode (a lone surrogate)") from None
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("text is empty or only whitespace")
    return value


LimitedText = Annotated[str, AfterValidator(_within_text_limit)]
# In the schema too: at least one character that is not whitespace.
Text = Annotated[
    str,
    AfterValidator(_within_text_limit),
    AfterValidator(_not_blank),
    Field(json_schema_extra={"pattern": r"\S"}),
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScoreRequest(_Request):
    """Exactly one of ``text`` and ``url``."""

    text: Text | None = Field(
        None, description=f"The post or article; at most {MAX_TEXT_CHARS:,} characters."
    )
    url: str | None = Field(
        None,
        max_length=MAX_URL_CHARS,
        json_schema_extra={"pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"},
        description="An http(s) page to fetch, extract and score.",
    )
    author_context: LimitedText | None = Field(
        None, description="What is known of the author: bio, byline."
    )
    id: ItemId | None = Field(None, description="Echoed in the row.")
    queue: StrictBool = Field(True, description="Queue the item for review when it is flagged.")

    @model_validator(mode="after")
    def _one_input(self) -> ScoreRequest:
        if (self.text is None) == (self.url is None):
            raise ValueError("give exactly one of text and url")
        return self


class BatchItem(_Request):
    id: ItemId | None = None
    text: Text = Field(description=f"At most {MAX_TEXT_CHARS:,} characters.")
    author_context: LimitedText | None = None


class BatchRequest(_Request):
    """Texts only: URLs are fetched one request at a time."""

    items: list[BatchItem] = Field(min_length=1, max_length=MAX_BATCH)
    queue: StrictBool = Field(True, description="Queue the flagged items for review.")


class SpanOut(BaseModel):
    start: int = Field(description="Offset into the original text, in characters.")
    end: int
    kind: SpanKindName = Field(description="Why the span matters (netral_nlp.prediction.SpanKind).")
    text: str


class ScoreRow(BaseModel):
    """The contract's row (CONTRACT.md) plus evidence spans and the queue id."""

    id: ItemId | None
    score: float = Field(ge=0, le=1, description="Probability of flag.")
    flag: bool = Field(description="At the model's tuned threshold.")
    categories: list[CategoryName]
    category_scores: dict[str, float]
    evidence: list[str]
    evidence_spans: list[SpanOut]
    model: str = Field(description="name@version")
    queue_id: str | None = Field(None, description="Review queue item, when queued.")


class UrlScoreRow(ScoreRow):
    """A row for a URL: what was scored and where it came from."""

    url: str = Field(description="The final URL after redirects.")
    title: str | None
    date: str | None = Field(description="Publish date found in the page, ISO 8601.")
    text: str = Field(description="The extracted main text; the spans index into it.")


class BatchResponse(BaseModel):
    rows: list[ScoreRow] = Field(description="One per item, in request order.")


class ModelInfo(BaseModel):
    name: str
    version: str
    kind: str
    thresholds: dict[str, float]
    categories: list[str]
    category_names: dict[str, dict[str, str]] = Field(description="Display names: id and en.")
    metrics: dict[str, Any]


class Health(BaseModel):
    status: Literal["ok"]
    model: str


class QueueItemOut(BaseModel):
    id: str
    created_at: str
    status: Literal["pending", "confirmed", "dismissed"]
    text: str
    url: str | None
    title: str | None
    author_context: str | None
    source_type: str
    score: float
    categories: list[str]
    category_scores: dict[str, float]
    evidence_spans: list[SpanOut]
    model: str
    decided_at: str | None
    reviewer: str | None
    decided_categories: list[str] | None
    partisan: bool | None
    asn: bool | None
    note: str | None


class QueueList(BaseModel):
    status: str
    counts: dict[str, int]
    items: list[QueueItemOut]


def _true(value: bool | None) -> bool | None:
    if value is False:
        raise ValueError("a confirmed item is partisan and asn: dismiss instead")
    return value


# Literal[True] would take 1 for true; this is a strict bool that must not be false.
TrueOrNone = Annotated[
    StrictBool | None,
    AfterValidator(_true),
    WithJsonSchema({"anyOf": [{"const": True}, {"type": "null"}]}),
]


class _Decision(_Request):
    note: str | None = Field(None, max_length=MAX_NOTE_CHARS)
    reviewer: str | None = Field(
        None, max_length=MAX_REVIEWER_CHARS, description="Used when no API key names the reviewer."
    )


class Confirmation(_Decision):
    """The item shows a partisan act by an ASN: it becomes a flagged training row."""

    decision: Literal["confirmed"]
    categories: list[CategoryName] = Field(
        default_factory=list,
        max_length=len(CATEGORY_NAMES),
        description="Corrected categories; empty keeps the model's.",
    )
    partisan: TrueOrNone = Field(None, description="A confirmed item is partisan.")
    asn: TrueOrNone = Field(None, description="A confirmed item's actor is an ASN.")


class Dismissal(_Decision):
    """The item is not a flag; the reviewer may say which half held (not both)."""

    model_config = ConfigDict(
        # partisan and asn both true would be a flag: stated in the schema too.
        json_schema_extra={
            "not": {
                "required": ["partisan", "asn"],
                "properties": {"partisan": {"const": True}, "asn": {"const": True}},
            }
        }
    )

    decision: Literal["dismissed"]
    categories: list[CategoryName] = Field(
        default_factory=list, max_length=0, description="Always empty: no categories."
    )
    partisan: StrictBool | None = Field(None, description="Was the act partisan?")
    asn: StrictBool | None = Field(None, description="Was the actor an ASN?")

    @model_validator(mode="after")
    def _not_a_flag(self) -> Dismissal:
        if self.partisan and self.asn:
            raise ValueError("partisan and asn both true is a flag: confirm instead")
        return self


# The decision names the shape, so the schema states each rule a decision must keep.
DecisionRequest = Annotated[Confirmation | Dismissal, Field(discriminator="decision")]


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail
