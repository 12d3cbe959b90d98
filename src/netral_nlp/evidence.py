"""Evidence: the short spans of the original text that drove a score.

Two sources, in this order: the sentence the sentence scorer rated highest and sentences
where an ASN role meets an unnegated partisan act (from the signals), then phrases of consecutive tokens that carry the most positive weight
in the flag head (each token gets the weight of the word n-grams covering it), mapped
back to the characters the monitor sees through the tokens' spans.
"""

from __future__ import annotations

import numpy as np

from .features import Doc, Featurizer, hash_columns
from .prediction import Span, SpanKind

MAX_EVIDENCE = 5
MAX_PHRASES = 3
MAX_SNIPPET = 160
PHRASE_SHARE = 0.3  # a token joins a phrase when it carries >= 30% of the heaviest token's weight
# Words that never start or end a phrase on their own ("di grup" says nothing).
_EDGE_STOPWORDS = frozenset(
    "di ke dari yang dan atau ini itu dengan untuk pada dalam oleh juga saja sudah akan "
    "seorang orang para sang si nya pun lah kah tersebut bahwa karena saat ketika".split()
)


def _snippet(text: str, start: int, end: int, focus: int) -> tuple[int, int]:
    """At most MAX_SNIPPET characters of text[start:end], on word boundaries, around ``focus``."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end - start > MAX_SNIPPET:
        if focus - start > MAX_SNIPPET // 3:  # move the window so the actor and act show
            cut = text.find(" ", focus - MAX_SNIPPET // 4, end)
            start = cut + 1 if cut != -1 and cut < focus else focus
        stop = text.rfind(" ", start, start + MAX_SNIPPET)
        end = min(end, stop if stop > start else start + MAX_SNIPPET)
    return start, end


def _token_weights(doc: Doc, featurizer: Featurizer, flag_coef: np.ndarray) -> np.ndarray:
    """Weight of each token: the flag-head weight x idf of the n-grams covering it, shared."""
    bits = featurizer.config.word_bits
    idf = featurizer.idf["word"]
    lo, hi = featurizer.config.word_ngrams
    weights = np.zeros(len(doc.columns.stems))
    for n in range(lo, hi + 1):
        cols = hash_columns(doc.ngram_hashes(n), bits)
        if not len(cols):
            continue
        share = flag_coef[cols].astype(np.float64) * idf[cols].astype(np.float64) / n
        # n-gram i adds to tokens i..i+n-1; each token takes its shares from the n-gram
        # that starts furthest left first, the order a loop over i adds them in
        for offset in reversed(range(n)):
            weights[offset : offset + len(share)] += share
    return weights


def _phrases(
    doc: Doc, featurizer: Featurizer, flag_coef: np.ndarray
) -> list[tuple[float, int, int]]:
    """(weight, start, end) of the heaviest phrases of consecutive positive tokens."""
    norms, starts, ends = doc.columns.norms, doc.columns.starts, doc.columns.ends
    n_tokens = len(norms)
    if not n_tokens:
        return []
    weights = _token_weights(doc, featurizer, flag_coef)
    top = weights.max()
    if top <= 0:
        return []
    keep = (weights >= PHRASE_SHARE * top).tolist()
    positive = (weights > 0).tolist()
    found: list[tuple[float, int, int]] = []
    i = 0
    while i < n_tokens:
        if not keep[i]:
            i += 1
            continue
        j = i
        while j + 1 < n_tokens and (
            keep[j + 1] or (j + 2 < n_tokens and keep[j + 2] and positive[j + 1])
        ):
            j += 1 + (not keep[j + 1])
        a, b = i, j
        while a < b and norms[a] in _EDGE_STOPWORDS:
            a += 1
        while b > a and norms[b] in _EDGE_STOPWORDS:
            b -= 1
        if not (a == b and (norms[a] in _EDGE_STOPWORDS or norms[a].startswith("__"))):
            found.append((float(weights[a : b + 1].sum()), starts[a], ends[b]))
        i = j + 1
    found.sort(reverse=True)
    return found[:MAX_PHRASES]


def build_evidence(
    doc: Doc,
    featurizer: Featurizer,
    flag_coef: np.ndarray,
    sentence_logit: np.ndarray | None = None,
) -> tuple[list[str], list[Span]]:
    """Evidence strings (most telling first) and the spans behind them.

    First the sentence the sentence scorer rated highest (``sentence_logit``, one value per
    sentence of ``doc.analysis.sentences``), then other sentences where an ASN actor meets an
    unnegated act, each cut around its actor or act; then heavily weighted phrases. After
    the evidence come the actor, act and target spans inside the evidence sentences, for
    highlighting."""
    text = doc.text
    sentences = doc.analysis.sentences
    chosen: list[tuple[int, int]] = []
    if sentence_logit is not None and len(sentence_logit) and sentences:
        chosen.append(sentences[int(np.argmax(sentence_logit))])
    for link in doc.analysis.link_sentences:
        if len(chosen) >= 2:
            break
        if link not in chosen:
            chosen.append(link)
    spans: list[Span] = []
    for s_start, s_end in chosen:
        focus = min(
            (
                s.start
                for s in doc.analysis.spans
                if s_start <= s.start < s_end and s.kind in ("asn_role", "partisan_act")
            ),
            default=s_start,
        )
        start, end = _snippet(text, s_start, s_end, focus)
        if start < end:  # an empty or blank text has no sentence to show
            spans.append(Span(start, end, SpanKind.ACTOR_ACT.value, text[start:end]))
    for _, start, end in _phrases(doc, featurizer, flag_coef):
        if len(spans) >= MAX_EVIDENCE:
            break
        if any(s.start <= start and end <= s.end for s in spans):
            continue
        spans.append(Span(start, end, SpanKind.NGRAM.value, text[start:end]))
    evidence = [s.text for s in spans]
    shown = [(s.start, s.end) for s in spans]
    for sig in doc.analysis.spans:  # actor, act and target spans inside the evidence
        kind = _HIGHLIGHTED.get(sig.kind)
        if kind is not None:
            for a, b in shown:
                if a <= sig.start and sig.end <= b:
                    spans.append(Span(sig.start, sig.end, kind, sig.text))
                    break
    return evidence, spans


# Signal spans shown inside the evidence, and the span kind they are shown as.
_HIGHLIGHTED = {
    "asn_role": SpanKind.ASN_ROLE.value,
    "partisan_act": SpanKind.PARTISAN_ACT.value,
    "candidate": SpanKind.CANDIDATE.value,
}
