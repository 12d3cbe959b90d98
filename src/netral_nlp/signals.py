"""Rule-based detectors that return spans, and the structural features built on them.

A bag of words sees "camat" and "kampanye" in a rules article just as in a violation
report. These detectors therefore describe *structure*, sentence by sentence: which kind
of actor (ASN, not ASN, former ASN, a reporting body, the author) shares a sentence or
clause with a partisan act, whether the act is negated, forbidden, hypothetical or counted,
and whether the sentence is attribution or procedure ("menurut Bawaslu", "dipanggil untuk
klarifikasi"). The per-sentence features feed the baseline's sentence scorer; the
document features are shares and flags, never counts, so they do not grow with length.

The word lists are data: ``resources/roles.tsv``, ``acts.tsv``, ``targets.tsv``,
``framing.tsv`` and ``category_cues.tsv`` (see :func:`lexicon`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Collection, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from itertools import chain, compress
from operator import attrgetter
from typing import NamedTuple

import numpy as np

from .alternation import alternation, any_of, expand, trie
from .text import sentences as split_sentences

# Sentences longer than this are cut into pieces (a post without punctuation).
MAX_SENTENCE_CHARS = 400
# Beyond this many sentences a text is scored on its first ones (5,000 words is ~300).
MAX_SENTENCES = 400
LEXICONS = ("roles", "acts", "targets", "framing", "category_cues")


@dataclass(frozen=True)
class Entry:
    """One line of a lexicon: a regular expression, its type and a note."""

    pattern: str
    type: str
    note: str


@cache
def lexicon(name: str) -> tuple[Entry, ...]:
    """Entries of ``resources/<name>.tsv``: lines ``pattern<TAB>type<TAB>note``; lines
    starting with ``# `` are comments (a pattern may itself start with ``#``, a hashtag)."""
    text = resources.files("netral_nlp.resources").joinpath(f"{name}.tsv").read_text("utf-8")
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("# "):
            continue
        parts = line.split("\t")
        if len(parts) < 2 or not parts[0] or not parts[1]:
            raise ValueError(f"resources/{name}.tsv:{lineno}: expected pattern<TAB>type<TAB>note")
        out.append(Entry(parts[0], parts[1], parts[2] if len(parts) > 2 else ""))
    return tuple(out)


def _rx(alternatives: list[str]) -> re.Pattern[str]:
    """One alternation matched on whole words of lower-cased text (no IGNORECASE: 2.5x faster),
    rewritten so that each entry is skipped in nanoseconds where it cannot match."""
    return re.compile(r"(?<![\w])(?:" + alternation(alternatives) + r")(?![\w])")


@cache
def patterns(name: str, *types: str) -> re.Pattern[str]:
    """The compiled alternation of the entries of lexicon ``name`` whose type is in ``types``
    (every entry when none is given)."""
    return _rx([e.pattern for e in lexicon(name) if not types or e.type in types])


def lower_same_length(text: str) -> str:
    """``text.lower()`` with every offset kept (a few characters lengthen when lowered)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


ACTOR_KINDS = ("asn", "asn_place", "non_asn", "former", "reporting_body", "first_person")
FRAME_KINDS = (
    "rule",
    "warning",
    "statistic",
    "pledge",
    "sanction",
    "cleared",
    "misuse",
    "negation",
    "hypothetical",
    "attribution",
    "procedure",
)
# Frames that make an act before which they stand (40 characters) not an act of the actor.
_NEGATING = ("rule", "warning", "pledge", "cleared", "misuse", "negation", "hypothetical")
CATEGORY_NAMES_CUED = ("kampanye_medsos", "kegiatan_kampanye", "ajakan_dukungan",
                       "penyalahgunaan_jabatan", "keterlibatan_parpol")  # fmt: skip


# Lexicon and types of each detector kind.
_DETECTOR_LEXICON: dict[str, tuple[str, tuple[str, ...]]] = {
    "asn_role": ("roles", ("asn", "asn_place")),
    "non_asn_actor": ("roles", ("non_asn", "former")),
    "reporting_body": ("roles", ("reporting_body",)),
    "partisan_act": ("acts", ()),
    "candidate": ("targets", ()),
    "framing": ("framing", ("rule", "warning", "statistic", "pledge", "sanction")),
}


DETECTOR_KINDS = (
    "asn_role",
    "non_asn_actor",
    "reporting_body",
    "partisan_act",
    "candidate",
    "framing",
)
_ACTOR_SPANS = frozenset({"asn_role", "non_asn_actor", "reporting_body"})
_CLAUSE_BREAK_RE = re.compile(r"[,;:()]|\b(?:tetapi|tapi|namun|sedangkan|sementara|padahal)\b")
# A news text: a dateline ("JAKARTA, ...") or a reporting verb after a quote.
_DATELINE_RE = re.compile(r"[A-Z][A-Z .]{2,30}(?:,|\s[-–—])")
_REPORTING = ("ujarnya", "katanya", "kata dia", "jelasnya", "tegasnya", "ungkapnya")
_REPORTING_RE = re.compile(r"\b(?:" + "|".join(_REPORTING) + r")\b")
_QUOTE_RE = re.compile(r"[\"“”]")


class SignalSpan(NamedTuple):
    """One detector match: its kind (DETECTOR_KINDS), its span and the text it covers."""

    kind: str
    start: int
    end: int
    text: str


def detect(text: str) -> list[SignalSpan]:
    """All detector matches in ``text`` (kinds: DETECTOR_KINDS), sorted by start."""
    low = lower_same_length(text)
    return _spans(text, _scan(low, len(low)))


def _spans(text: str, found: list[list[tuple[int, int]]]) -> list[SignalSpan]:
    """The detector spans of ``text`` from its scan (see :func:`_scan`)."""
    spans: list[SignalSpan] = []
    actors: list[SignalSpan] = []
    for kind, matches in zip(DETECTOR_KINDS, found, strict=False):
        into = actors if kind in _ACTOR_SPANS else spans
        for start, end in matches:
            into.append(SignalSpan(kind, start, end, text[start:end]))
    # An actor inside a longer actor of another kind is that kind: "guru" in "guru madrasah
    # swasta", "camat" in "mantan camat", "KPU" in "staf sekretariat KPU".
    actors.sort(key=_longest_first)
    kept: list[SignalSpan] = []
    for span in actors:
        for k in kept:
            if k.start <= span.start and span.end <= k.end:
                break
        else:
            kept.append(span)
    spans += kept
    spans.sort(key=_START_KIND)
    return spans


def _longest_first(span: SignalSpan) -> int:
    return span.start - span.end


_START_KIND = attrgetter("start", "kind")


SENTENCE_FEATURES: tuple[str, ...] = (
    *(f"actor_{k}" for k in ACTOR_KINDS),
    "act",
    "act_unnegated",
    "target",
    "asn_act",
    "asn_act_clause",
    "asn_act_unnegated",
    "asn_act_unnegated_clause",
    "act_nearest_asn",
    "act_nearest_non_asn",
    "act_nearest_body",
    "non_asn_act",
    "former_act",
    "body_act",
    "first_person_act",
    "author_asn_act",
    "author_asn_first_person_act",
    "asn_target",
    "act_target",
    "previous_asn_act",
    "document_asn_act",
    *(f"frame_{k}" for k in FRAME_KINDS),
    "quote",
    "first_sentence",
    *(f"cue_{name}" for name in CATEGORY_NAMES_CUED),
)
_SF = {name: i for i, name in enumerate(SENTENCE_FEATURES)}

FEATURE_NAMES: tuple[str, ...] = (
    "any_asn_role",
    "any_non_asn_actor",
    "any_partisan_act",
    "any_candidate",
    "any_framing",
    "asn_act_sentence",
    "asn_act_clause",
    "asn_act_sentence_unframed",
    "asn_act_sentence_share",
    "non_asn_act_sentence",
    "act_nearest_asn",
    "act_nearest_non_asn",
    "act_negated_share",
    "first_person",
    "first_person_act_sentence",
    "asn_candidate_sentence",
    "framing_share",
    "procedure_share",
    "attribution_share",
    "reporting_body",
    "author_asn",
    "author_non_asn",
    "author_asn_x_act",
    "author_asn_x_act_unnegated",
    "author_asn_x_first_person_act",
    "news_like",
    *(f"cue_{name}" for name in CATEGORY_NAMES_CUED),
    *(f"cue_{name}_asn_sentence" for name in CATEGORY_NAMES_CUED),
)
_FN = {name: i for i, name in enumerate(FEATURE_NAMES)}


@dataclass
class Analysis:
    """Signals of one item: spans, sentences and their features, the document features."""

    spans: list[SignalSpan]
    link_sentences: list[tuple[int, int]]  # sentences where an ASN role meets an unnegated act
    features: np.ndarray  # (len(FEATURE_NAMES),)
    sentences: list[tuple[int, int]]  # (start, end) in the text, at most MAX_SENTENCES
    sentence_features: np.ndarray  # (len(sentences), len(SENTENCE_FEATURES)) of 0/1
    # (len(sentences), 4) per sentence: acts, negated acts, acts whose nearest actor is an
    # ASN, acts whose nearest actor is not (what the document's act shares sum)
    act_counts: np.ndarray


# Specific kinds first: in one alternation the first group that matches at a position wins
# ("tidak boleh" is a rule before "tidak" is a negation).
_FRAME_ORDER = (
    "rule",
    "warning",
    "statistic",
    "pledge",
    "sanction",
    "cleared",
    "misuse",
    "procedure",
    "attribution",
    "hypothetical",
    "negation",
)


def _kind_entries() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(kind, pattern) of the frames, then of the cues and the first person, in the order
    their kinds are tried: the first kind that matches at a position names it."""
    frames = [(f"frame_{k}", e.pattern) for k in _FRAME_ORDER for e in lexicon("framing")
              if e.type == k]  # fmt: skip
    cues = [(f"cue_{c}", e.pattern) for c in CATEGORY_NAMES_CUED for e in lexicon("category_cues")
            if e.type == c]  # fmt: skip
    person = [("actor_first_person", e.pattern) for e in lexicon("roles")
              if e.type == "first_person"]  # fmt: skip
    return frames, cues + person


@lru_cache(maxsize=1)
def _sentence_kinds() -> tuple[tuple[re.Pattern[str], dict[str, str]], ...]:
    """The frame and the cue alternations, each with the kind of its marker groups: every
    entry ends in an empty group named after its position, so it can still open with a
    literal (see :mod:`netral_nlp.alternation`) and ``lastgroup`` tells the kind."""
    out = []
    for entries in _kind_entries():
        kinds: dict[str, str] = {}
        alternatives = []
        for kind, pattern in entries:
            for alt in expand(pattern):
                marker = f"m{len(kinds)}"
                kinds[marker] = kind
                alternatives.append(f"{alt}(?P<{marker}>)")
        out.append((re.compile(r"(?<![\w])(?:" + trie(alternatives) + r")(?![\w])"), kinds))
    return tuple(out)


@lru_cache(maxsize=1)
def _scanner() -> re.Pattern[str]:
    """One pattern that finds, at each position where any lexicon scan of a text matches,
    the match of every one of them: the six detectors, the frames and the cues.

    Scanning a text costs about the same per position whatever the pattern, so one scan
    instead of eight saves most of the signals' time. Each scan is a look-ahead with a
    group, tried in turn; the look-ahead before them lets positions where none matches
    fail at once."""
    bodies = [
        [e.pattern for e in lexicon(name) if not types or e.type in types]
        for name, types in (_DETECTOR_LEXICON[kind] for kind in DETECTOR_KINDS)
    ]
    bodies += [[pattern for _, pattern in entries] for entries in _kind_entries()]
    union = any_of([pattern for body in bodies for pattern in body])
    each = "".join(rf"(?:(?=({alternation(body)})(?![\w]))|)" for body in bodies)
    # each match takes its first character: every scan's match is longer, so no position
    # is skipped, and finditer moves on without retrying the position for a longer match
    return re.compile(r"(?<![\w])(?=(?:" + union + r")(?![\w]))" + each + "(?s:.)")


def _scan(low: str, limit: int) -> list[list[tuple[int, int]]]:
    """For each scan of :func:`_scanner` (the detectors in DETECTOR_KINDS order, then the
    frames and the cues), the spans ``finditer`` of its own pattern would give on
    ``low[:limit]``: at each position, a scan's match counts unless it starts inside its
    previous one."""
    scanner = _scanner()
    found: list[list[tuple[int, int]]] = [[] for _ in range(scanner.groups)]
    ends = [0] * scanner.groups
    scans = range(scanner.groups)
    for m in scanner.finditer(low, 0, limit):
        for i, span, into in zip(scans, m.regs[1:], found, strict=True):
            if span[0] >= ends[i]:  # -1 where this scan did not match
                into.append(span)
                ends[i] = span[1]
    return found


@lru_cache(maxsize=1)
def _negating() -> re.Pattern[str]:
    return patterns("framing", *_NEGATING)


@lru_cache(maxsize=1)
def _role_patterns() -> dict[str, re.Pattern[str]]:
    return {k: patterns("roles", k) for k in ACTOR_KINDS}


def _distinct(low: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The first occurrence of each sentence: repeating a sentence adds no evidence, so a
    text repeated to look long scores as the text itself."""
    if len(spans) < 2:
        return spans
    seen: set[str] = set()
    out = []
    for s, e in spans:
        key = " ".join(low[s:e].split())
        if key not in seen:
            seen.add(key)
            out.append((s, e))
    return out


@lru_cache(maxsize=4096)  # a feed repeats its authors
def author_kinds(author_context: str | None) -> tuple[bool, bool]:
    """(ASN, not ASN) roles named in an author context."""
    ctx = lower_same_length(author_context or "")
    if not ctx:
        return False, False
    roles = _role_patterns()
    return bool(roles["asn"].search(ctx)), bool(
        roles["non_asn"].search(ctx) or roles["former"].search(ctx)
    )


@lru_cache(maxsize=4096)
def _is_role(kind: str, span_text: str) -> bool:
    """Whether a detected actor span is, on its own, a role of ``kind`` (ACTOR_KINDS)."""
    return bool(_role_patterns()[kind].fullmatch(span_text.lower()))


_FRAMED = frozenset(
    _SF[f"frame_{k}"] for k in ("rule", "warning", "statistic", "pledge", "sanction")
)
_CUES = [_SF[f"cue_{c}"] for c in CATEGORY_NAMES_CUED]


@dataclass
class _Counts:
    """Act counts of one sentence (a row of ``Analysis.act_counts``)."""

    acts: int = 0
    negated: int = 0
    near_asn: int = 0
    near_non: int = 0


# The features _sentence_row sets, in the order of its flags.
_ACTOR_COLUMNS = [
    _SF[name]
    for name in ("actor_asn", "actor_asn_place", "actor_non_asn", "actor_former",
                 "actor_reporting_body", "target", "asn_target")
]  # fmt: skip
_ACT_COLUMNS = [
    _SF[name]
    for name in ("act", "act_unnegated", "act_target", "non_asn_act", "former_act", "body_act",
                 "first_person_act", "author_asn_act", "author_asn_first_person_act",
                 "previous_asn_act", "asn_act")
]  # fmt: skip


def _sentence_row(
    row: set[int],
    low: str,
    bounds: tuple[int, int],
    found: dict[str, list[SignalSpan]],
    previous_asn: bool,
    author_asn: bool,
    counts: _Counts,
) -> tuple[bool, bool]:
    """Add the actor and act features of one sentence that holds detector spans to ``row``
    (the SENTENCE_FEATURES indices that are 1); return (whether an ASN actor is in it,
    whether it links an ASN actor to an unnegated act)."""
    s_start, s_end = bounds
    asn_spans = [a for a in found["asn_role"] if _is_role("asn", a.text)]
    has_asn = bool(asn_spans)
    non_spans = found["non_asn_actor"]
    has_former = any(_is_role("former", a.text) for a in non_spans)
    has_non = bool(non_spans) and (
        not has_former or any(_is_role("non_asn", a.text) for a in non_spans)
    )
    has_body = bool(found["reporting_body"])
    has_target = bool(found["candidate"])
    first_person = _SF["actor_first_person"] in row
    row.update(
        compress(
            _ACTOR_COLUMNS,
            (
                has_asn,
                bool(found["asn_role"]) and not has_asn,
                has_non,
                has_former,
                has_body,
                has_target,
                has_asn and has_target,
            ),
        )
    )
    link = False
    if found["partisan_act"]:
        sentence = low[s_start:s_end]
        breaks = [m.start() + s_start for m in _CLAUSE_BREAK_RE.finditer(sentence)]

        def clause(pos: int) -> int:
            return bisect_right(breaks, pos - 1)

        negating = _negating()
        unnegated = []
        for act in found["partisan_act"]:
            counts.acts += 1
            window = low[max(s_start, act.start - 40) : act.start]
            if negating.search(window):
                counts.negated += 1
            else:
                unnegated.append(act)
            # the actor of an act is usually in its clause, before it (Indonesian is SVO)
            candidates = [
                (
                    clause(a.start) != clause(act.start),
                    a.start > act.start,
                    abs(a.start - act.start),
                    kind,
                )
                for kind, group in (
                    ("asn", asn_spans),
                    ("non", non_spans),
                    ("body", found["reporting_body"]),
                )
                for a in group
            ]
            if candidates:
                nearest = min(candidates)[3]
                row.add(_SF[_NEAREST[nearest]])
                counts.near_asn += nearest == "asn"
                counts.near_non += nearest == "non"
        row.update(
            compress(
                _ACT_COLUMNS,
                (
                    True,
                    bool(unnegated),
                    has_target,
                    has_non,
                    has_former,
                    has_body,
                    first_person,
                    author_asn,
                    author_asn and (first_person or not (has_asn or has_non)),
                    previous_asn and not (has_asn or has_non),
                    has_asn,
                ),
            )
        )
        if has_asn:
            asn_clauses = {clause(a.start) for a in asn_spans}
            if asn_clauses & {clause(a.start) for a in found["partisan_act"]}:
                row.add(_SF["asn_act_clause"])
            if unnegated:
                row.add(_SF["asn_act_unnegated"])
                if asn_clauses & {clause(a.start) for a in unnegated}:
                    row.add(_SF["asn_act_unnegated_clause"])
                link = True
    return has_asn, link


_NEAREST = {"asn": "act_nearest_asn", "non": "act_nearest_non_asn", "body": "act_nearest_body"}


def _news_like(head: str) -> bool:
    """A dateline at the start, or a reporting verb anywhere (found by ``in`` first: a
    regular expression scan of every position costs more than the six substring tests)."""
    if _DATELINE_RE.match(head):
        return True
    return any(word in head for word in _REPORTING) and bool(_REPORTING_RE.search(head))


def _share(count: int, n: int) -> float:
    """``count / n`` rounded to float32, as the mean of a float32 column of 0s and 1s is."""
    return float(np.float32(count / n))


def analyse(text: str, author_context: str | None = None) -> Analysis:
    """Detect signals in ``text`` (and ``author_context``) and derive sentence and document
    features."""
    low = lower_same_length(text)
    sentences = _distinct(low, split_sentences(text, MAX_SENTENCE_CHARS))[:MAX_SENTENCES] or [
        (0, len(text))
    ]
    limit = sentences[-1][1]
    starts = [s for s, _ in sentences]
    n = len(sentences)

    def sentence_of(pos: int) -> int | None:
        """Index of the kept sentence holding ``pos`` (None: a dropped repeat or a gap)."""
        k = max(bisect_right(starts, pos) - 1, 0)
        return k if pos < sentences[k][1] else None

    head = lower_same_length(text[:limit]) if limit < len(text) else low
    if head == low[:limit]:  # as good as always: one scan serves the spans and the kinds
        scans = _scan(low, limit)
    else:  # a character that lowers differently at the cut (a final sigma)
        scans = _scan(head, limit)[: len(DETECTOR_KINDS)] + _scan(low, limit)[-2:]
    spans = []
    inside: dict[int, dict[str, list[SignalSpan]]] = {}  # only sentences with spans
    for span in _spans(text[:limit], scans):
        k = sentence_of(span.start)
        if k is not None:
            found = inside.get(k)
            if found is None:
                found = inside[k] = {kind: [] for kind in DETECTOR_KINDS}
            found[span.kind].append(span)
            spans.append(span)
    author_asn, author_non = author_kinds(author_context)

    # rows[k]: the SENTENCE_FEATURES of sentence k that are 1 (all others are 0)
    rows: dict[int, set[int]] = {0: {_SF["first_sentence"]}}
    for m in _QUOTE_RE.finditer(low, 0, limit):
        k = sentence_of(m.start())
        if k is not None and m.start() >= sentences[k][0]:
            rows.setdefault(k, set()).add(_SF["quote"])
    for (rx, kinds), matches in zip(_sentence_kinds(), scans[-2:], strict=True):
        for start, _ in matches:
            k = sentence_of(start)
            if k is not None:
                match = rx.match(low, start, limit)  # which kind: the same match, named
                rows.setdefault(k, set()).add(_SF[kinds[match.lastgroup or ""]])  # type: ignore[union-attr]

    act_counts = np.zeros((n, 4), dtype=np.int32)
    links: list[tuple[int, int]] = []
    previous_asn = False
    for k in sorted(inside):
        # a sentence without spans has no ASN actor: the one before it never does either
        counts = _Counts()
        has_asn, link = _sentence_row(
            rows.setdefault(k, set()),
            low,
            sentences[k],
            inside[k],
            previous_asn and k - 1 in inside,
            author_asn,
            counts,
        )
        if counts.acts:
            act_counts[k] = counts.acts, counts.negated, counts.near_asn, counts.near_non
        if link:
            links.append(sentences[k])
        previous_asn = has_asn

    if any(_SF["actor_asn"] in row for row in rows.values()):
        # an act whose actor is a pronoun or named earlier, in a text about an ASN
        for row in rows.values():
            if _SF["act_unnegated"] in row and _SF["actor_non_asn"] not in row:
                row.add(_SF["document_asn_act"])
    feats = _document_features(
        rows.values(),
        n,
        act_counts,
        {s.kind for s in spans},
        (author_asn, author_non),
        _news_like(text[:2000]),
    )
    sf = np.zeros((n, len(SENTENCE_FEATURES)), dtype=np.float32)
    width = len(SENTENCE_FEATURES)
    np.put(sf, [k * width + i for k, row in rows.items() for i in row], 1)
    return Analysis(
        spans=spans,
        link_sentences=links,
        features=feats,
        sentences=sentences,
        sentence_features=sf,
        act_counts=act_counts,
    )


def _document_features(
    rows: Collection[set[int]],
    n: int,
    act_counts: np.ndarray,
    kinds: AbstractSet[str],
    author: tuple[bool, bool],
    news_like: bool,
) -> np.ndarray:
    """The (len(FEATURE_NAMES),) document features of ``n`` sentences from their rows (the
    SENTENCE_FEATURES indices set in each; empty rows may be left out), their
    ``act_counts`` rows, the detector kinds found in them, the author's (ASN, not ASN)
    roles and whether the text reads as news."""
    author_asn, author_non = author
    asn_rows = [row for row in rows if _SF["actor_asn"] in row]
    ones = Counter(chain.from_iterable(rows))  # sentences with each feature
    on = [0.0] * len(SENTENCE_FEATURES)
    for i in ones:
        on[i] = 1.0
    acts, negated, near_asn, near_non = act_counts.sum(axis=0).tolist()
    fp_any = on[_SF["actor_first_person"]]
    framed = sum(not _FRAMED.isdisjoint(row) for row in rows)
    unframed_link = any(_SF["asn_act_unnegated"] in row and _FRAMED.isdisjoint(row) for row in rows)
    asn_cues = set().union(*asn_rows)
    feats = [
        float("asn_role" in kinds),
        float("non_asn_actor" in kinds),
        on[_SF["act"]],
        on[_SF["target"]],
        float("framing" in kinds),
        on[_SF["asn_act"]],
        on[_SF["asn_act_clause"]],
        float(unframed_link),
        _share(ones[_SF["asn_act"]], n),
        on[_SF["non_asn_act"]],
        near_asn / max(acts, 1),
        near_non / max(acts, 1),
        negated / max(acts, 1),
        fp_any,
        on[_SF["first_person_act"]],
        on[_SF["asn_target"]],
        _share(framed, n),
        _share(ones[_SF["frame_procedure"]], n),
        _share(ones[_SF["frame_attribution"]], n),
        on[_SF["actor_reporting_body"]],
        float(author_asn),
        float(author_non),
        float(author_asn and acts > 0),
        float(author_asn and acts > negated),
        float(author_asn and acts > 0 and (on[_SF["first_person_act"]] > 0 or not fp_any)),
        float(news_like),
        *(on[i] for i in _CUES),
        *(float(i in asn_cues) for i in _CUES),
    ]
    return np.asarray(feats, dtype=np.float64)


def focus(analysis: Analysis, text: str, chosen: Sequence[int]) -> Analysis:
    """The analysis of the sentences ``chosen`` (indices into ``analysis.sentences``,
    ascending) of ``text`` alone, from what :func:`analyse` kept: no lexicon scans the
    text again.

    The spans, links, sentence rows and act counts are those of the chosen sentences, each
    row as computed in the whole text (``first_sentence``, ``previous_asn_act`` and
    ``document_asn_act`` read the sentences around it; no document feature reads them).
    The document features are derived from them as :func:`analyse` derives the whole
    text's, so they equal those of the chosen sentences joined by spaces and analysed as a
    text of their own, with the same author. ``news_like`` too is that text's: a dateline
    opening the first chosen sentence or a reporting verb in any (a few substring tests),
    not the whole text's: the chosen sentences may not be the ones that read as news."""
    chosen = list(chosen)
    starts = [s for s, _ in analysis.sentences]
    keep = set(chosen)
    sentences = [analysis.sentences[j] for j in chosen]
    spans = [s for s in analysis.spans if bisect_right(starts, s.start) - 1 in keep]
    sf = analysis.sentence_features[chosen]
    act_counts = analysis.act_counts[chosen]
    doc = analysis.features
    features = _document_features(
        [set(np.flatnonzero(row).tolist()) for row in sf],
        len(sentences),
        act_counts,
        {s.kind for s in spans},
        (bool(doc[_FN["author_asn"]]), bool(doc[_FN["author_non_asn"]])),
        _news_like(" ".join(text[s:e] for s, e in sentences)[:2000]),
    )
    links = set(sentences)
    return Analysis(
        spans=spans,
        link_sentences=[s for s in analysis.link_sentences if s in links],
        features=features,
        sentences=sentences,
        sentence_features=sf,
        act_counts=act_counts,
    )
