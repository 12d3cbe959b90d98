"""Inter-annotator agreement: Cohen's kappa for flag and each category, and the disagreements.

Two annotators label the same items; each label set is a list of dicts with ``id``,
``flag`` and ``categories`` (``partisan`` and ``asn`` are compared when both carry them).
Only ids present in both are compared.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sklearn.metrics import cohen_kappa_score

from .labels import CATEGORY_NAMES, RATIONALE_ROLES


@dataclass(frozen=True)
class LabelAgreement:
    """Agreement on one binary label over the common items."""

    label: str
    n: int
    agreement: float  # raw share of items where both agree, in [0, 1]
    kappa: float  # Cohen's kappa in [-1, 1]; nan when both give one constant, equal label
    positives_first: int
    positives_second: int


@dataclass(frozen=True)
class Disagreement:
    """An item whose flag or category set differs; labels as {"flag", "categories"}."""

    id: str
    first: dict[str, Any]
    second: dict[str, Any]


@dataclass
class AgreementReport:
    n_common: int
    labels: list[LabelAgreement]  # flag, partisan, asn (when present), then CATEGORY_NAMES order
    disagreements: list[Disagreement]  # sorted by id
    only_first: list[str] = field(default_factory=list)
    only_second: list[str] = field(default_factory=list)


def cohen_kappa(first: Sequence[bool], second: Sequence[bool]) -> float:
    """Cohen's kappa of two binary label sequences; nan when undefined.

    Undefined when there are no items or both raters give the same single label to every
    item (chance agreement is then 1 and kappa is 0/0).
    """
    if len(first) != len(second):
        raise ValueError(f"label sequences differ in length: {len(first)} and {len(second)}")
    values = {bool(v) for v in (*first, *second)}
    if len(values) < 2 and list(map(bool, first)) == list(map(bool, second)):
        return math.nan
    return float(
        cohen_kappa_score([bool(v) for v in first], [bool(v) for v in second], labels=[False, True])
    )


def _by_id(rows: Sequence[Mapping[str, Any]], which: str) -> dict[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = {}
    for k, row in enumerate(rows, start=1):
        item_id = row.get("id")
        if not isinstance(item_id, str):
            raise ValueError(f"{which} label set, row {k}: missing string 'id'")
        if not isinstance(row.get("flag"), bool) or not isinstance(row.get("categories"), list):
            raise ValueError(
                f"{which} label set, id {item_id!r}: needs boolean 'flag' and list 'categories'"
            )
        if item_id in out:
            raise ValueError(f"{which} label set: duplicate id {item_id!r}")
        out[item_id] = row
    return out


def _labels(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"flag": row["flag"], "categories": sorted(set(row["categories"]))}


def compare(
    first: Sequence[Mapping[str, Any]], second: Sequence[Mapping[str, Any]]
) -> AgreementReport:
    """Kappa, raw agreement and positive counts per label, and the items labelled differently."""
    a, b = _by_id(first, "first"), _by_id(second, "second")
    common = sorted(a.keys() & b.keys())
    getters = {"flag": lambda r: r["flag"]}
    for name in ("partisan", "asn"):
        if all(isinstance(src[i].get(name), bool) for i in common for src in (a, b)):
            getters[name] = lambda r, name=name: r[name]
    for cat in CATEGORY_NAMES:
        getters[cat] = lambda r, cat=cat: cat in r["categories"]

    labels = []
    for name, get in getters.items():
        x = [bool(get(a[i])) for i in common]
        y = [bool(get(b[i])) for i in common]
        agree = sum(u == v for u, v in zip(x, y, strict=True))
        labels.append(
            LabelAgreement(
                label=name,
                n=len(common),
                agreement=agree / len(common) if common else math.nan,
                kappa=cohen_kappa(x, y),
                positives_first=sum(x),
                positives_second=sum(y),
            )
        )
    disagreements = [
        Disagreement(i, _labels(a[i]), _labels(b[i]))
        for i in common
        if _labels(a[i]) != _labels(b[i])
    ]
    return AgreementReport(
        n_common=len(common),
        labels=labels,
        disagreements=disagreements,
        only_first=sorted(a.keys() - b.keys()),
        only_second=sorted(b.keys() - a.keys()),
    )


def sample_ids(ids: Iterable[str], n: int, seed: int = 13) -> list[str]:
    """A seeded random sample of ``n`` distinct ids (all of them if fewer), sorted.

    The input order does not matter: ids are sorted before sampling.
    """
    pool = sorted(set(ids))
    return sorted(random.Random(seed).sample(pool, min(n, len(pool))))


# --------------------------------------------------------------------------- rationale spans

_WORD_RE = re.compile(r"\w+")


@dataclass(frozen=True)
class SpanAgreement:
    """Token-overlap agreement on one rationale role (or ``all`` roles together).

    Over the items both annotators gave rationales, the word tokens inside the first
    annotator's spans of the role are compared with the second's: precision = shared /
    second's tokens, recall = shared / first's tokens, F1 their harmonic mean (micro,
    summed over items). Symmetric in F1. ``items`` counts items where either marked the role.
    """

    role: str
    items: int
    tokens_first: int
    tokens_second: int
    shared: int

    @property
    def f1(self) -> float:
        total = self.tokens_first + self.tokens_second
        return 2 * self.shared / total if total else math.nan


def _token_ids(text: str, spans: Iterable[Mapping[str, Any]], role: str) -> set[int]:
    """Indices of the word tokens of ``text`` that overlap a span of ``role`` (any role
    for "all")."""
    ranges = [
        (s["start"], s["end"])
        for s in spans
        if (role == "all" or s.get("role") == role)
        and isinstance(s.get("start"), int)
        and isinstance(s.get("end"), int)
    ]
    return {
        k
        for k, m in enumerate(_WORD_RE.finditer(text))
        if any(m.start() < e and s < m.end() for s, e in ranges)
    }


def compare_spans(
    first: Sequence[Mapping[str, Any]],
    second: Sequence[Mapping[str, Any]],
    texts: Mapping[str, str],
) -> list[SpanAgreement]:
    """Token-overlap F1 per role, then ``all``, over the ids that both label sets give
    ``rationales`` for and ``texts`` holds (id -> item text)."""
    a = {r["id"]: r["rationales"] for r in first if isinstance(r.get("rationales"), list)}
    b = {r["id"]: r["rationales"] for r in second if isinstance(r.get("rationales"), list)}
    common = sorted(a.keys() & b.keys() & texts.keys())
    out = []
    for role in (*RATIONALE_ROLES, "all"):
        items = n_first = n_second = shared = 0
        for i in common:
            x = _token_ids(texts[i], a[i], role)
            y = _token_ids(texts[i], b[i], role)
            items += bool(x or y)
            n_first, n_second, shared = n_first + len(x), n_second + len(y), shared + len(x & y)
        out.append(SpanAgreement(role, items, n_first, n_second, shared))
    return out
