"""Evidence: the short spans of the original text that drove a score.

Two sources, in this order: sentences where an ASN role meets an unnegated partisan act
(from the signals), then the word n-grams with the largest positive weight in the flag
head, mapped back to the characters the monitor sees through the tokens' spans.
"""

from __future__ import annotations

import numpy as np

from .features import Doc, Featurizer, feature_index
from .model import Span

MAX_EVIDENCE = 5
MAX_SNIPPET = 160


def _snippet(text: str, start: int, end: int) -> tuple[int, int]:
    """Trim a long sentence to at most MAX_SNIPPET characters, on word boundaries."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end - start > MAX_SNIPPET:
        cut = text.rfind(" ", start, start + MAX_SNIPPET)
        end = cut if cut > start else start + MAX_SNIPPET
    return start, end


def _top_ngrams(
    doc: Doc, featurizer: Featurizer, flag_coef: np.ndarray, k: int
) -> list[tuple[float, int, int]]:
    """(weight, start, end) of the k heaviest positive word n-grams, non-overlapping."""
    tokens = doc.tokens
    bits = featurizer.config.word_bits
    idf = featurizer.idf["word"]
    lo, hi = featurizer.config.word_ngrams
    scored: list[tuple[float, int, int]] = []
    for n in range(lo, hi + 1):
        for i in range(len(tokens) - n + 1):
            gram = tokens[i : i + n]
            col = feature_index(" ".join(t.stem for t in gram), bits)
            weight = float(flag_coef[col]) * float(idf[col])
            if weight > 0 and not gram[0].norm.startswith("__"):
                scored.append((weight, gram[0].start, gram[-1].end))
    scored.sort(reverse=True)
    chosen: list[tuple[float, int, int]] = []
    for w, s, e in scored:
        if all(e <= cs or s >= ce for _, cs, ce in chosen):
            chosen.append((w, s, e))
        if len(chosen) == k:
            break
    return chosen


def build_evidence(
    doc: Doc, featurizer: Featurizer, flag_coef: np.ndarray
) -> tuple[list[str], list[Span]]:
    """Evidence strings (most telling first) and the spans behind them."""
    text = doc.text
    spans: list[Span] = []
    for s_start, s_end in doc.analysis.link_sentences[:2]:
        start, end = _snippet(text, s_start, s_end)
        spans.append(Span(start, end, "actor_act", text[start:end]))
    for _, start, end in _top_ngrams(doc, featurizer, flag_coef, MAX_EVIDENCE):
        if len(spans) >= MAX_EVIDENCE:
            break
        if any(s.start <= start and end <= s.end for s in spans):
            continue
        spans.append(Span(start, end, "ngram", text[start:end]))
    evidence = [s.text for s in spans]
    for sig in doc.analysis.spans:  # signal spans for highlighting only
        if sig.kind in ("asn_role", "partisan_act", "candidate"):
            spans.append(Span(sig.start, sig.end, sig.kind, sig.text))
    return evidence, spans
