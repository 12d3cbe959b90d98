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
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

import numpy as np

from .alternation import alternation, expand, trie
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


@lru_cache(maxsize=1)
def _detectors() -> dict[str, re.Pattern[str]]:
    """Span kinds (the keys of DETECTOR_KINDS) and their patterns."""
    found = {
        "asn_role": patterns("roles", "asn", "asn_place"),
        "non_asn_actor": patterns("roles", "non_asn", "former"),
        "reporting_body": patterns("roles", "reporting_body"),
        "partisan_act": patterns("acts"),
        "candidate": patterns("targets"),
        "framing": patterns("framing", "rule", "warning", "statistic", "pledge", "sanction"),
    }
    return found


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
_DATELINE_RE = re.compile(
    r"^[A-Z][A-Z .]{2,30}(?:,|\s[-–—])|\b(?:ujarnya|katanya|kata dia|jelasnya|tegasnya|ungkapnya)\b"
)
_QUOTE_RE = re.compile(r"[\"“”]")


@dataclass(frozen=True)
class SignalSpan:
    kind: str
    start: int
    end: int
    text: str


def detect(text: str) -> list[SignalSpan]:
    """All detector matches in ``text`` (kinds: DETECTOR_KINDS), sorted by start."""
    low = lower_same_length(text)
    spans = [
        SignalSpan(kind, m.start(), m.end(), text[m.start() : m.end()])
        for kind, rx in _detectors().items()
        for m in rx.finditer(low)
    ]
    # An actor inside a longer actor of another kind is that kind: "guru" in "guru madrasah
    # swasta", "camat" in "mantan camat", "KPU" in "staf sekretariat KPU".
    actors = sorted((s for s in spans if s.kind in _ACTOR_SPANS), key=lambda s: s.start - s.end)
    kept: list[SignalSpan] = []
    for span in actors:
        if not any(k.start <= span.start and span.end <= k.end for k in kept):
            kept.append(span)
    spans = [s for s in spans if s.kind not in _ACTOR_SPANS] + kept
    return sorted(spans, key=lambda s: (s.start, s.kind))


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


@dataclass
class Analysis:
    """Signals of one item: spans, sentences and their features, the document features."""

    spans: list[SignalSpan]
    link_sentences: list[tuple[int, int]]  # sentences where an ASN role meets an unnegated act
    features: np.ndarray  # (len(FEATURE_NAMES),)
    sentences: list[tuple[int, int]]  # (start, end) in the text, at most MAX_SENTENCES
    sentence_features: np.ndarray  # (len(sentences), len(SENTENCE_FEATURES)) of 0/1


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


@lru_cache(maxsize=1)
def _sentence_kinds() -> tuple[tuple[re.Pattern[str], dict[str, str]], ...]:
    """Two alternations (frames; cues and the first person), so a text is scanned twice
    rather than once per kind and sentence, each with the kind of its marker groups: every
    entry ends in an empty group named after its kind and position, so it can still open
    with a literal (see :mod:`netral_nlp.alternation`) and ``lastgroup`` tells the kind."""
    frames = [(f"frame_{k}", e) for k in _FRAME_ORDER for e in lexicon("framing") if e.type == k]
    cues = [(f"cue_{c}", e) for c in CATEGORY_NAMES_CUED for e in lexicon("category_cues")
            if e.type == c]  # fmt: skip
    person = [("actor_first_person", e) for e in lexicon("roles") if e.type == "first_person"]
    out = []
    for entries in (frames, cues + person):
        kinds: dict[str, str] = {}
        alternatives = []
        for kind, entry in entries:
            for alt in expand(entry.pattern):
                marker = f"m{len(kinds)}"
                kinds[marker] = kind
                alternatives.append(f"{alt}(?P<{marker}>)")
        body = trie(alternatives)
        out.append((re.compile(r"(?<![\w])(?:" + body + r")(?![\w])"), kinds))
    return tuple(out)


@lru_cache(maxsize=1)
def _negating() -> re.Pattern[str]:
    return patterns("framing", *_NEGATING)


@lru_cache(maxsize=1)
def _role_patterns() -> dict[str, re.Pattern[str]]:
    return {k: patterns("roles", k) for k in ACTOR_KINDS}


def _distinct(low: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The first occurrence of each sentence: repeating a sentence adds no evidence, so a
    text repeated to look long scores as the text itself."""
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


_FRAMED = [_SF[f"frame_{k}"] for k in ("rule", "warning", "statistic", "pledge", "sanction")]
_CUES = [_SF[f"cue_{c}"] for c in CATEGORY_NAMES_CUED]
_ALWAYS = ("act_unnegated", "actor_non_asn", "actor_asn", "asn_act_unnegated")


@dataclass
class _Counts:
    """Act counts of a document, summed over its sentences."""

    acts: int = 0
    negated: int = 0
    near_asn: int = 0
    near_non: int = 0


def _sentence_row(
    row: np.ndarray,
    low: str,
    bounds: tuple[int, int],
    found: dict[str, list[SignalSpan]],
    first_person: bool,
    previous_asn: bool,
    author_asn: bool,
    counts: _Counts,
) -> tuple[bool, bool]:
    """Fill the actor and act features of one sentence that holds detector spans; return
    (whether an ASN actor is in it, whether it links an ASN actor to an unnegated act)."""
    s_start, s_end = bounds
    asn_spans = [a for a in found["asn_role"] if _is_role("asn", a.text)]
    has_asn = bool(asn_spans)
    has_place = bool(found["asn_role"]) and not has_asn
    non_spans = found["non_asn_actor"]
    has_former = any(_is_role("former", a.text) for a in non_spans)
    has_non = bool(non_spans) and (
        not has_former or any(_is_role("non_asn", a.text) for a in non_spans)
    )
    has_body = bool(found["reporting_body"])
    for name, on in (
        ("asn", has_asn),
        ("asn_place", has_place),
        ("non_asn", has_non),
        ("former", has_former),
        ("reporting_body", has_body),
    ):
        row[_SF[f"actor_{name}"]] = on
    has_target = bool(found["candidate"])
    row[_SF["target"]] = has_target
    row[_SF["asn_target"]] = has_asn and has_target
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
                row[_SF["act_nearest_asn"]] = max(row[_SF["act_nearest_asn"]], nearest == "asn")
                row[_SF["act_nearest_non_asn"]] = max(
                    row[_SF["act_nearest_non_asn"]], nearest == "non"
                )
                row[_SF["act_nearest_body"]] = max(row[_SF["act_nearest_body"]], nearest == "body")
                counts.near_asn += nearest == "asn"
                counts.near_non += nearest == "non"
        row[_SF["act"]] = 1
        row[_SF["act_unnegated"]] = bool(unnegated)
        row[_SF["act_target"]] = has_target
        row[_SF["non_asn_act"]] = has_non
        row[_SF["former_act"]] = has_former
        row[_SF["body_act"]] = has_body
        row[_SF["first_person_act"]] = first_person
        row[_SF["author_asn_act"]] = author_asn
        row[_SF["author_asn_first_person_act"]] = author_asn and (
            first_person or not (has_asn or has_non)
        )
        row[_SF["previous_asn_act"]] = previous_asn and not (has_asn or has_non)
        if has_asn:
            row[_SF["asn_act"]] = 1
            act_clauses = {clause(a.start) for a in found["partisan_act"]}
            row[_SF["asn_act_clause"]] = bool({clause(a.start) for a in asn_spans} & act_clauses)
            if unnegated:
                row[_SF["asn_act_unnegated"]] = 1
                row[_SF["asn_act_unnegated_clause"]] = bool(
                    {clause(a.start) for a in asn_spans} & {clause(a.start) for a in unnegated}
                )
                link = True
    return has_asn, link


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

    spans = []
    inside: dict[int, dict[str, list[SignalSpan]]] = {}  # only sentences with spans
    for span in detect(text[:limit]):
        k = sentence_of(span.start)
        if k is not None:
            found = inside.get(k)
            if found is None:
                found = inside[k] = {kind: [] for kind in DETECTOR_KINDS}
            found[span.kind].append(span)
            spans.append(span)
    author_asn, author_non = author_kinds(author_context)

    sf = np.zeros((n, len(SENTENCE_FEATURES)), dtype=np.float32)
    sf[0, _SF["first_sentence"]] = 1
    for m in _QUOTE_RE.finditer(low, 0, limit):
        k = sentence_of(m.start())
        if k is not None and m.start() >= sentences[k][0]:
            sf[k, _SF["quote"]] = 1
    first_person: set[int] = set()
    for rx, kinds in _sentence_kinds():
        for m in rx.finditer(low, 0, limit):
            k = sentence_of(m.start())
            if k is not None:
                name = kinds[m.lastgroup or ""]
                sf[k, _SF[name]] = 1
                if name == "actor_first_person":
                    first_person.add(k)

    counts = _Counts()
    links: list[tuple[int, int]] = []
    previous_asn = False
    for k in sorted(inside):
        # a sentence without spans has no ASN actor: the one before it never does either
        has_asn, link = _sentence_row(
            sf[k],
            low,
            sentences[k],
            inside[k],
            k in first_person,
            previous_asn and k - 1 in inside,
            author_asn,
            counts,
        )
        if link:
            links.append(sentences[k])
        previous_asn = has_asn

    cols = {name: sf[:, _SF[name]] > 0 for name in _ALWAYS}
    if cols["actor_asn"].any():
        # an act whose actor is a pronoun or named earlier, in a text about an ASN
        sf[:, _SF["document_asn_act"]] = cols["act_unnegated"] & ~cols["actor_non_asn"]
    anyf = sf.max(axis=0).tolist()
    share = sf.mean(axis=0).tolist()
    framed = sf[:, _FRAMED].max(axis=1)
    asn_rows = cols["actor_asn"]
    asn_cues = sf[asn_rows][:, _CUES].max(axis=0).tolist() if anyf[_SF["actor_asn"]] else None
    kinds_found = {s.kind for s in spans}
    fp_any = anyf[_SF["actor_first_person"]]
    acts, negated = counts.acts, counts.negated
    feats = [
        float("asn_role" in kinds_found),
        float("non_asn_actor" in kinds_found),
        anyf[_SF["act"]],
        anyf[_SF["target"]],
        float("framing" in kinds_found),
        anyf[_SF["asn_act"]],
        anyf[_SF["asn_act_clause"]],
        float((cols["asn_act_unnegated"] & (framed == 0)).any()),
        share[_SF["asn_act"]],
        anyf[_SF["non_asn_act"]],
        counts.near_asn / max(acts, 1),
        counts.near_non / max(acts, 1),
        negated / max(acts, 1),
        fp_any,
        anyf[_SF["first_person_act"]],
        anyf[_SF["asn_target"]],
        float(framed.mean()),
        share[_SF["frame_procedure"]],
        share[_SF["frame_attribution"]],
        anyf[_SF["actor_reporting_body"]],
        float(author_asn),
        float(author_non),
        float(author_asn and acts > 0),
        float(author_asn and acts > negated),
        float(author_asn and acts > 0 and (anyf[_SF["first_person_act"]] > 0 or not fp_any)),
        float(bool(_DATELINE_RE.search(text[:2000]))),
        *(anyf[i] for i in _CUES),
        *(asn_cues if asn_cues is not None else [0.0] * len(_CUES)),
    ]
    return Analysis(
        spans=spans,
        link_sentences=links,
        features=np.asarray(feats, dtype=np.float64),
        sentences=sentences,
        sentence_features=sf,
    )
