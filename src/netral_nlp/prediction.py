"""What a prediction is: the heads, the span kinds, ``Span``, ``Prediction`` and its output
row, and ``decide``, the one decision rule both model kinds share.

Everything here is plain data; nothing imports a model, so every module may import this.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from .labels import CATEGORY_NAMES

# Head order of every model's probability vector: the flag, then the categories.
HEADS: tuple[str, ...] = ("flag", *CATEGORY_NAMES)


class SpanKind(str, Enum):
    """Why a span of the text matters. The models, the API schema, the page's highlighter
    and the review queue all use these names."""

    ACTOR_ACT = "actor_act"  # a sentence or clause where an ASN actor meets a partisan act
    SENTENCE = "sentence"  # the sentence of the window that fired (transformer)
    NGRAM = "ngram"  # a phrase of heavily weighted words (baseline)
    ASN_ROLE = "asn_role"  # an ASN role word (signal, for highlighting)
    PARTISAN_ACT = "partisan_act"  # a partisan act (signal, for highlighting)
    CANDIDATE = "candidate"  # a candidate, paslon or party (signal, for highlighting)


SPAN_KINDS: tuple[str, ...] = tuple(k.value for k in SpanKind)


@dataclass
class Span:
    """A character span of the original text, ``text[start:end]``, and why it matters."""

    start: int
    end: int
    kind: str  # a SpanKind value
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "kind": self.kind, "text": self.text}


@dataclass
class Prediction:
    """One scored item. ``score`` and ``category_scores`` are probabilities in [0, 1]."""

    score: float
    flag: bool
    categories: list[str]
    category_scores: dict[str, float]
    evidence: list[str]
    spans: list[Span] = field(default_factory=list)

    def row(self, item_id: Any, model: str) -> dict[str, Any]:
        """The output row of the contract (CONTRACT.md), plus evidence spans: the one
        definition the batch writers and the service's response share."""
        return {
            "id": item_id,
            "score": round(self.score, 6),
            "flag": self.flag,
            "categories": list(self.categories),
            "category_scores": {k: round(v, 6) for k, v in self.category_scores.items()},
            "evidence": list(self.evidence),
            "evidence_spans": [s.as_dict() for s in self.spans],
            "model": model,
        }


# Fields of an output row, in order (Prediction.row).
OUTPUT_FIELDS: tuple[str, ...] = (
    "id",
    "score",
    "flag",
    "categories",
    "category_scores",
    "evidence",
    "evidence_spans",
    "model",
)


# Columns a run may add after OUTPUT_FIELDS, in this order: a scraped feed's canonical
# metadata (feeds/FeedRecord), the input text (--keep-text), and the repost cluster
# (collapse.py). All are strings except cluster_size; a missing value is null.
FEED_FIELDS: tuple[str, ...] = (
    "platform",
    "author_id",
    "author_handle",
    "author_context",
    "created_at",
    "url",
    "relation",
    "parent_id",
)
TEXT_FIELD = "text"
CLUSTER_FIELDS: tuple[str, ...] = ("cluster_id", "cluster_size")
EXTRA_FIELDS: tuple[str, ...] = (*FEED_FIELDS, TEXT_FIELD, *CLUSTER_FIELDS)


def output_fields(
    feed: bool = False, text: bool = False, clusters: bool = False
) -> tuple[str, ...]:
    """The columns of an output row: OUTPUT_FIELDS, then the extra columns asked for."""
    extra = (FEED_FIELDS if feed else ()) + ((TEXT_FIELD,) if text else ())
    return OUTPUT_FIELDS + extra + (CLUSTER_FIELDS if clusters else ())


def parquet_schema(columns: Sequence[str] = OUTPUT_FIELDS) -> Any:
    """The Arrow schema of an output row in Parquet: OUTPUT_FIELDS, then any of
    EXTRA_FIELDS that ``columns`` names, in ``columns`` order.

    Ids are strings (a column has one type; inputs mix strings and integers); the
    category scores are a struct with one float field per category, in CATEGORY_NAMES
    order. pyarrow is imported here, so reading this module does not need it.
    """
    import pyarrow as pa

    extra = [c for c in columns if c not in OUTPUT_FIELDS]
    unknown = set(extra) - set(EXTRA_FIELDS)
    if unknown:
        raise ValueError(f"not output columns: {', '.join(sorted(unknown))}")
    span = pa.struct(
        [("start", pa.int64()), ("end", pa.int64()), ("kind", pa.string()), ("text", pa.string())]
    )
    return pa.schema(
        [
            ("id", pa.string()),
            ("score", pa.float64()),
            ("flag", pa.bool_()),
            ("categories", pa.list_(pa.string())),
            ("category_scores", pa.struct([(c, pa.float64()) for c in CATEGORY_NAMES])),
            ("evidence", pa.list_(pa.string())),
            ("evidence_spans", pa.list_(span)),
            ("model", pa.string()),
            *[(c, pa.int64() if c == "cluster_size" else pa.string()) for c in extra],
        ]
    )


def decide(probs: Sequence[float], thresholds: dict[str, float]) -> Prediction:
    """A prediction (without evidence) from head probabilities in HEADS order: flag, then
    CATEGORY_NAMES. Categories only when flagged; a flagged item always gets at least one."""
    score = float(probs[0])
    flag = score >= thresholds.get("flag", 0.5)
    cat_scores = {name: float(probs[i + 1]) for i, name in enumerate(CATEGORY_NAMES)}
    categories: list[str] = []
    if flag:
        categories = [c for c in CATEGORY_NAMES if cat_scores[c] >= thresholds.get(c, 0.5)]
        if not categories:
            categories = [max(cat_scores, key=cat_scores.__getitem__)]
    return Prediction(score, flag, categories, cat_scores, [], [])


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function, clipped so large logits neither overflow nor warn."""
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))
