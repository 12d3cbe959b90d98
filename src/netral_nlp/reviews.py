"""Label reviews: the logs of annotators checking likely label errors (``netral data
issues``), and their counts for the data card.

A log is JSON Lines under ``data/annotations/reviews/``, one decision a line: ``round``,
``id``, ``label`` (``flag`` or a category: the label in question), ``given`` (its value
before the review), ``decision`` (``kept``: the label is right, the model is wrong;
``corrected``: the label was wrong and the corpus now says otherwise), a one-line
``reason``, the ``reviewer``, and for a correction the ``kind`` of error. Other fields
(``rank``, ``probability``, ``source``, ``final``) are for readers and are not checked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .data import AnnotationError, Item, read_records
from .labels import CATEGORY_NAMES

DECISIONS: tuple[str, ...] = ("kept", "corrected")
LABELS: tuple[str, ...] = ("flag", *CATEGORY_NAMES)
REVIEWS_DIR = "reviews"  # beside the corpus files: data/annotations/reviews/


@dataclass(frozen=True)
class ReviewDecision:
    """One reviewed (item, label) pair; ``kind`` is set on corrections only."""

    round: str
    id: str
    label: str
    given: bool
    decision: str
    reason: str
    reviewer: str
    kind: str | None = None

    @property
    def corrected(self) -> bool:
        return self.decision == "corrected"


def _field(where: str, obj: dict[str, Any], name: str, types: tuple[type, ...]) -> Any:
    value = obj.get(name)
    if not isinstance(value, types) or (isinstance(value, str) and not value.strip()):
        want = "true or false" if types == (bool,) else "a non-empty string"
        raise AnnotationError(f"{where}: {name}: expected {want}, got {value!r}")
    return value


def _decision(where: str, obj: dict[str, Any]) -> ReviewDecision:
    values = {
        name: _field(where, obj, name, (bool,) if name == "given" else (str,))
        for name in ("round", "id", "label", "given", "decision", "reason", "reviewer")
    }
    if values["label"] not in LABELS:
        raise AnnotationError(
            f"{where}: label: unknown {values['label']!r} (expected flag or a category)"
        )
    if values["decision"] not in DECISIONS:
        raise AnnotationError(
            f"{where}: decision: expected kept or corrected, got {values['decision']!r}"
        )
    kind = _field(where, obj, "kind", (str,)) if values["decision"] == "corrected" else None
    return ReviewDecision(**values, kind=kind)


def read_reviews(path: str | Path) -> list[ReviewDecision]:
    """Decisions of a review log, or of every ``*.jsonl`` in a directory of them (file and
    line order); [] when ``path`` does not exist. AnnotationError names file, line and field
    of a record that is not a decision."""
    p = Path(path)
    if not p.exists() or (p.is_dir() and not any(p.glob("*.jsonl"))):
        return []
    return [_decision(f"{file}:{line}", obj) for file, line, obj in read_records(path)]


def _value(item: Item, label: str) -> bool:
    return item.flag if label == "flag" else label in item.categories


def check_applied(decisions: Sequence[ReviewDecision], items: Sequence[Item]) -> list[str]:
    """Why the corpus does not match the logs, one line each: an id not in the corpus, or a
    correction whose label still has its ``given`` value. A later decision on the same
    (id, label) replaces an earlier one."""
    by_id = {item.id: item for item in items}
    latest = {(d.id, d.label): d for d in decisions}
    out = []
    for d in latest.values():
        item = by_id.get(d.id)
        if item is None:
            out.append(f"{d.round}: {d.id}: not in the corpus")
        elif d.corrected and _value(item, d.label) == d.given:
            out.append(
                f"{d.round}: {d.id}: {d.label} was corrected but is still {d.given} in the corpus"
            )
    return out


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    align = [":---"] + ["---:"] * (len(headers) - 1)
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


def review_summary(decisions: Sequence[ReviewDecision]) -> str:
    """The data card's section body: per round, items and labels checked and corrected;
    corrections by label and direction; the kinds of error found. Deterministic."""
    if not decisions:
        return f"No label review recorded yet (`{REVIEWS_DIR}/*.jsonl`)."
    rounds = sorted({d.round for d in decisions})

    def counts(ds: Sequence[ReviewDecision]) -> tuple[int, int, int, int]:
        return (
            len({d.id for d in ds}),
            len({d.id for d in ds if d.corrected}),
            len(ds),
            sum(d.corrected for d in ds),
        )

    round_rows = [(r, *counts([d for d in decisions if d.round == r])) for r in rounds]
    if len(rounds) > 1:
        round_rows.append(("all", *counts(decisions)))
    label_rows = []
    for label in LABELS:
        ds = [d for d in decisions if d.label == label]
        if ds:
            fixed = [d for d in ds if d.corrected]
            down = sum(d.given for d in fixed)
            label_rows.append((label, len(ds), len(fixed), down, len(fixed) - down))
    kinds = Counter(d.kind for d in decisions if d.corrected)
    kind_items = {k: len({d.id for d in decisions if d.kind == k}) for k in kinds}
    kind_rows = [
        (k, n, kind_items[k]) for k, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    n_items, n_fixed, n_labels, n_fixed_labels = counts(decisions)
    parts = [
        f"{n_items} items checked against the guidelines ({n_labels} labels), "
        f"{n_fixed} corrected ({n_fixed_labels} labels); the rest kept: the label was "
        "right and the model wrong.",
        _table(
            ["round", "items checked", "items corrected", "labels checked", "labels corrected"],
            round_rows,
        ),
        _table(["label", "checked", "corrected", "true → false", "false → true"], label_rows),
    ]
    if kind_rows:
        parts += ["Kinds of error found:", _table(["kind of error", "labels", "items"], kind_rows)]
    return "\n\n".join(parts)
