"""Assign train/dev/test splits and write corpus updates (splits, adjudicated labels).

The corpus files are rewritten in place, atomically and byte for byte except for the
changed fields; reading and validating them is :mod:`netral_nlp.data`'s job.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .data import SPLITS, AnnotationError, Item, corpus_files, near_duplicates, read_records
from .labels import CATEGORY_NAMES

# Looser than validate's default: a pair this close in different splits already leaks.
SPLIT_NEAR_DUP_THRESHOLD = 0.5


def _check_ratios(ratios: Sequence[float]) -> None:
    if len(ratios) != len(SPLITS) or any(r < 0 for r in ratios) or abs(sum(ratios) - 1) > 1e-6:
        raise ValueError(f"ratios must be {len(SPLITS)} non-negative numbers summing to 1")


def _near_dup_groups(items: Sequence[Item], threshold: float) -> list[list[int]]:
    """Indices of items grouped by near-duplicate links (union-find), in index order."""
    parent = list(range(len(items)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j, _ in near_duplicates([it.text for it in items], threshold):
        parent[find(j)] = find(i)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(items)):
        groups[find(i)].append(i)
    return list(groups.values())


def _strata(item: Item) -> list[str]:
    return ["flag" if item.flag else "no_flag", *sorted(set(item.categories))]


def assign_splits(
    items: Sequence[Item],
    seed: int = 13,
    ratios: tuple[float, float, float] = (0.70, 0.15, 0.15),
    reassign: bool = False,
    near_dup_threshold: float = SPLIT_NEAR_DUP_THRESHOLD,
) -> dict[str, str]:
    """Map every item id to train/dev/test.

    Groups of near-duplicates (Jaccard >= ``near_dup_threshold``) go to one split. Groups
    are placed by a simplified iterative stratification over [flag, no_flag, *categories]:
    rarest label first, each group to the split lacking most of its rarest label, then
    most items. Items that already have a valid split keep it (so new items never
    reshuffle old ones) unless ``reassign``; the new members of a group that already has
    a split join that split. Same items and seed give the same mapping, whatever the order.
    """
    _check_ratios(ratios)
    items = sorted(items, key=lambda it: it.id)
    rng = random.Random(seed)
    label_totals = Counter(label for it in items for label in _strata(it))
    want = {
        s: {lab: r * n for lab, n in label_totals.items()}
        for s, r in zip(SPLITS, ratios, strict=True)
    }
    want_n = {s: r * len(items) for s, r in zip(SPLITS, ratios, strict=True)}
    have: dict[str, Counter[str]] = {s: Counter() for s in SPLITS}
    have_n: Counter[str] = Counter()
    mapping: dict[str, str] = {}

    def place(idx: list[int], split: str) -> None:
        for i in idx:
            mapping[items[i].id] = split
            have[split].update(_strata(items[i]))
            have_n[split] += 1

    pending = []
    for group in _near_dup_groups(items, near_dup_threshold):
        kept = [i for i in group if not reassign and items[i].split in SPLITS]
        for i in kept:
            place([i], items[i].split)  # type: ignore[arg-type]
        new = [i for i in group if i not in kept]
        if kept and new:
            counts = Counter(items[i].split for i in kept)
            place(new, max(SPLITS, key=lambda s: (counts[s], -SPLITS.index(s))))
        elif new:
            pending.append(new)

    def rarest(group: list[int]) -> str:
        return min(
            {lab for i in group for lab in _strata(items[i])},
            key=lambda lab: (label_totals[lab], lab),
        )

    rng.shuffle(pending)
    pending.sort(key=lambda g: (label_totals[rarest(g)], -len(g)))
    for group in pending:
        label = rarest(group)
        best = max(
            SPLITS,
            key=lambda s: (want[s][label] - have[s][label], want_n[s] - have_n[s], rng.random()),
        )
        place(group, best)
    return mapping


def write_splits(path: str | Path, mapping: Mapping[str, str]) -> int:
    """Set ``split`` on every line whose id is in ``mapping``; return how many lines changed.

    Rewrites the corpus files in place (see :func:`update_items`). Do not run while
    others append to them.
    """
    bad = sorted({s for s in mapping.values() if s not in SPLITS})
    if bad:
        raise ValueError(f"unknown split values {bad}; expected {', '.join(SPLITS)}")
    return update_items(path, {item_id: {"split": split} for item_id, split in mapping.items()})


def update_items(path: str | Path, updates: Mapping[str, Mapping[str, Any]]) -> int:
    """Set the given fields on every line whose id is in ``updates``; return lines changed.

    Files are rewritten atomically, one by one. Other fields, their order, line order,
    line endings and untouched lines stay byte for byte; new keys go at the end.
    """
    changed = 0
    for file in corpus_files(path):
        lines = file.read_bytes().split(b"\n")  # the same line numbering as validate
        n_before = changed
        for k, raw in enumerate(lines):
            body = raw.rstrip(b"\r")
            try:
                obj = json.loads(body.decode("utf-8")) if body.strip() else None
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
                obj = None
            if not (isinstance(obj, dict) and isinstance(obj.get("id"), str)):
                continue
            fields_ = updates.get(obj["id"])
            if fields_ and any(obj.get(key) != value for key, value in fields_.items()):
                obj.update(fields_)
                lines[k] = json.dumps(obj, ensure_ascii=False).encode("utf-8") + raw[len(body) :]
                changed += 1
        if changed != n_before:
            _atomic_write(file, b"\n".join(lines))
    return changed


LABEL_FIELDS = ("partisan", "asn", "flag", "categories")


def apply_adjudication(path: str | Path, adjudication: str | Path) -> int:
    """Write the ``final`` labels of an adjudication file into the corpus; return lines changed.

    Idempotent: the adjudication file is the record, the corpus follows it.
    """
    updates: dict[str, dict[str, Any]] = {}
    for file, line, obj in read_records(adjudication):
        final = obj.get("final")
        if not isinstance(final, dict) or any(k not in final for k in LABEL_FIELDS):
            raise AnnotationError(f"{file}:{line}: final: needs {', '.join(LABEL_FIELDS)}")
        cats = [c for c in CATEGORY_NAMES if c in final["categories"]]  # schema order
        updates[obj["id"]] = {k: final[k] for k in LABEL_FIELDS[:3]} | {"categories": cats}
    return update_items(path, updates)


def _atomic_write(file: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, file.stat().st_mode)  # mkstemp makes it 0600
        os.replace(tmp, file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
