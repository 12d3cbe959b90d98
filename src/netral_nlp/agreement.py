"""Inter-annotator agreement: Cohen's kappa for flag and each category, and the disagreements.

Two annotators label the same items; each label set is a list of dicts with ``id``,
``flag`` and ``categories`` (``partisan`` and ``asn`` are compared when both carry them).
Only ids present in both are compared.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sklearn.metrics import cohen_kappa_score

from .labels import CATEGORY_NAMES


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
