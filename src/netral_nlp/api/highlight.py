"""Evidence spans to highlightable segments. Spans overlap (a sentence holds the role and
act spans inside it), so the text is cut at every span edge and each piece carries the
kinds covering it. The template escapes every piece; nothing here builds HTML."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from ..prediction import SPAN_KINDS


@dataclass(frozen=True)
class Segment:
    text: str
    kinds: tuple[str, ...]  # empty: plain text


def segments(text: str, spans: Iterable[Mapping[str, Any]]) -> list[Segment]:
    """Consecutive segments covering ``text`` exactly; spans out of range or of a kind
    SpanKind does not name are ignored."""
    valid = [
        (s["start"], s["end"], s["kind"])
        for s in spans
        if s.get("kind") in SPAN_KINDS
        and isinstance(s.get("start"), int)
        and isinstance(s.get("end"), int)
        and 0 <= s["start"] < s["end"] <= len(text)
    ]
    cuts = sorted({0, len(text), *(s for s, _, _ in valid), *(e for _, e, _ in valid)})
    out: list[Segment] = []
    for a, b in pairwise(cuts):
        kinds = tuple(
            k for k in SPAN_KINDS if any(s <= a and b <= e and k == kind for s, e, kind in valid)
        )
        if out and out[-1].kinds == kinds:
            out[-1] = Segment(out[-1].text + text[a:b], kinds)
        else:
            out.append(Segment(text[a:b], kinds))
    return out
