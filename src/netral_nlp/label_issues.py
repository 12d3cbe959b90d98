"""Find likely label errors in the corpus: out-of-fold baseline probabilities, then
cleanlab's confident learning, so annotators review the likeliest mistakes first.

Every item is scored by a baseline that never saw it (k folds, near-duplicates kept in
one fold so a repost cannot vouch for its twin's label). ``flag`` goes through
``cleanlab.filter.find_label_issues``; the categories of flagged items go through
``cleanlab.multilabel_classification`` (one-vs-rest per category). Issues are ranked by
self-confidence, the out-of-fold probability of the label the item was given: lowest first.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .data import Item, near_duplicates
from .labels import CATEGORY_NAMES
from .prediction import HEADS, sigmoid

# Texts this similar (5-char-shingle Jaccard) share a fold: the split's leakage threshold.
GROUP_NEAR_DUP_THRESHOLD = 0.5


@dataclass
class LabelIssue:
    """One (item, label) pair whose given value disagrees with out-of-fold predictions.

    ``probability`` is the out-of-fold probability that the label is true; ``score`` is
    the self-confidence, the probability of the value the annotator gave, in [0, 1]:
    lower means likelier wrong. ``rank`` is 1 for the likeliest mistake.
    """

    rank: int
    id: str
    label: str  # "flag" or a category name
    given: bool
    probability: float
    score: float
    reason: str
    text: str
    notes: str | None

    def row(self) -> dict[str, Any]:
        return asdict(self)


def _fold_groups(texts: Sequence[str]) -> np.ndarray:
    """Group id per text: connected components of the near-duplicate graph."""
    parent = list(range(len(texts)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j, _ in near_duplicates(texts, GROUP_NEAR_DUP_THRESHOLD):
        parent[find(i)] = find(j)
    return np.array([find(i) for i in range(len(texts))])


def out_of_fold_probabilities(
    items: Sequence[Item],
    folds: int = 5,
    seed: int = 13,
    c: float = 4.0,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """(n_items, len(HEADS)) probabilities, each row from a baseline fit without that item.

    Folds are stratified on ``flag`` and keep near-duplicate groups together. Each fold's
    heads are fit uncalibrated (the inner Platt folds would cost 3-5x the time); every
    head's decision values are then Platt-scaled once on the pooled out-of-fold values,
    so the probabilities of different items are comparable. ``progress(done, folds)`` is
    called after each fold.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold

    from .baseline import BaselineClassifier, BaselineConfig, docs_for
    from .features import FeatureConfig
    from .manifest import Manifest
    from .train import label_matrix

    labels = label_matrix(items)
    n_pos = int(labels[:, 0].sum())
    if folds < 2:
        raise ValueError(f"--folds must be at least 2, not {folds}")
    if min(n_pos, len(items) - n_pos) < folds:
        raise ValueError(
            f"{len(items)} items with {n_pos} flagged: too few of each flag value for {folds} "
            "folds; use fewer --folds or a larger corpus"
        )
    docs = docs_for([i.text for i in items], [i.author_context for i in items])
    groups = _fold_groups([i.text for i in items])
    cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    logits = np.zeros(labels.shape)
    config = BaselineConfig(features=FeatureConfig(), C=c, calibration_folds=0, seed=seed)
    for k, (train_idx, test_idx) in enumerate(cv.split(docs, labels[:, 0], groups), start=1):
        model = BaselineClassifier.fit(
            [docs[i] for i in train_idx],
            labels[train_idx],
            config,
            Manifest(name="oof", version=str(k), kind="baseline"),
        )
        p = np.clip(model.probabilities([docs[i] for i in test_idx]), 1e-12, 1 - 1e-12)
        logits[test_idx] = np.log(p / (1 - p))  # uncalibrated: p = sigmoid(decision value)
        if progress is not None:
            progress(k, folds)
    probs = np.zeros(labels.shape)
    for h in range(len(HEADS)):
        y = labels[:, h]
        if y.min() == y.max():  # a label nobody has: keep the raw (constant-head) values
            probs[:, h] = sigmoid(logits[:, h])
            continue
        platt = LogisticRegression(C=1e4, solver="lbfgs").fit(logits[:, [h]], y)
        probs[:, h] = platt.predict_proba(logits[:, [h]])[:, 1]
    return probs


def _reason(label: str, given: bool, probability: float) -> str:
    held_out = f"held-out models give P({label}) = {probability:.2f}"
    if label == "flag":
        doubt = "possibly not a violation" if given else "possibly a missed violation"
        return f"labelled {'flag' if given else 'not flag'}, but {held_out}: {doubt}"
    if given:
        return f"labelled {label}, but {held_out}: possibly the wrong category"
    return f"not labelled {label}, but {held_out}: possibly a missing category"


def find_issues(items: Sequence[Item], probs: np.ndarray) -> list[LabelIssue]:
    """Label issues of ``items`` given out-of-fold ``probs`` (n, len(HEADS)), ranked.

    The flag is checked on every item, the categories only on flagged items whose flag
    is not in doubt (an unflagged item has none by definition; a wrong flag is already
    the flag's issue).
    """
    if probs.shape != (len(items), len(HEADS)):
        raise ValueError(
            f"probabilities have shape {probs.shape}, expected ({len(items)}, {len(HEADS)})"
        )
    with warnings.catch_warnings():  # "too few examples in class k": rare categories, expected
        warnings.filterwarnings("ignore", message="May not flag all label issues")
        found = _issues(items, probs)

    def confidence(given: bool, p: float) -> float:
        return p if given else 1.0 - p

    found.sort(key=lambda f: (confidence(f[2], f[3]), items[f[0]].id, f[1]))
    return [
        LabelIssue(
            rank=r,
            id=items[i].id,
            label=label,
            given=given,
            probability=round(p, 6),
            score=round(confidence(given, p), 6),
            reason=_reason(label, given, p),
            text=items[i].text,
            notes=items[i].notes,
        )
        for r, (i, label, given, p) in enumerate(found, start=1)
    ]


def _issues(items: Sequence[Item], probs: np.ndarray) -> list[tuple[int, str, bool, float]]:
    """(item index, label, given value, probability) of every pair cleanlab doubts."""
    from cleanlab.filter import find_label_issues
    from cleanlab.multilabel_classification.filter import find_multilabel_issues_per_class

    found: list[tuple[int, str, bool, float]] = []
    flag = np.array([it.flag for it in items], dtype=int)
    if 0 < flag.sum() < len(flag):
        p = probs[:, 0]
        mask = find_label_issues(labels=flag, pred_probs=np.c_[1 - p, p], n_jobs=1)
        found.extend((int(i), "flag", bool(flag[i]), float(p[i])) for i in np.flatnonzero(mask))

    # A flagged item whose flag is itself in doubt: its categories' doubts add nothing.
    doubted = {i for i, *_ in found}
    flagged = np.array([i for i in np.flatnonzero(flag) if i not in doubted], dtype=int)
    if len(flagged) >= 2:
        given = np.array(
            [[c in items[i].categories for c in CATEGORY_NAMES] for i in flagged], dtype=int
        )
        # A category every flagged item has (or none has) gives cleanlab one class: skip it.
        cols = [k for k in range(len(CATEGORY_NAMES)) if 0 < given[:, k].sum() < len(flagged)]
        if cols:
            mask = find_multilabel_issues_per_class(
                labels=[[j for j, k in enumerate(cols) if row[k]] for row in given],
                pred_probs=probs[np.ix_(flagged, [1 + k for k in cols])],
                n_jobs=1,
            )
            for r, j in zip(*np.nonzero(mask), strict=True):
                k = cols[j]
                found.append(
                    (
                        int(flagged[r]),
                        CATEGORY_NAMES[k],
                        bool(given[r, k]),
                        float(probs[flagged[r], 1 + k]),
                    )
                )
    return found


def write_issues(issues: Sequence[LabelIssue], path: str | Path) -> None:
    """Write issues as JSON Lines, rank order."""
    with open(path, "w", encoding="utf-8") as fh:
        for issue in issues:
            fh.write(json.dumps(issue.row(), ensure_ascii=False) + "\n")
