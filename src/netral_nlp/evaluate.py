"""One metrics path for every model kind: flag and per-category precision/recall/F1,
macro-F1, PR-AUC, the flag confusion, calibration (Brier, ECE) and bootstrap intervals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    precision_recall_fscore_support,
)

from .labels import CATEGORY_NAMES
from .prediction import Prediction

N_BOOTSTRAP = 1000
BOOTSTRAP_SEED = 13  # fixed, so `netral evaluate` reprints the figures training recorded


def _prf(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    precision, recall, f1, _ = precision_recall_fscore_support(
        y, p, average="binary", zero_division=0
    )
    return {
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "support": int(y.sum()),
    }


def _pr_auc(y: np.ndarray, s: np.ndarray) -> float | None:
    return float(average_precision_score(y, s)) if 0 < y.sum() < len(y) else None


def expected_calibration_error(y: np.ndarray, s: np.ndarray, bins: int = 10) -> float:
    """Weighted mean |accuracy - confidence| over equal-width score bins."""
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(s, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mask = idx == b
        if mask.any():
            ece += mask.mean() * abs(y[mask].mean() - s[mask].mean())
    return float(ece)


def best_threshold(y: np.ndarray, s: np.ndarray) -> float:
    """Threshold on ``s`` that maximises F1 of ``s >= t`` against ``y``.

    Vectorised over the sorted scores; the threshold sits midway between the lowest score
    of the best cut and the next score below it, so it generalises a little better than
    the score itself.
    """
    y = np.asarray(y, dtype=int)
    if y.sum() == 0:
        return 0.5
    candidates = np.unique(s)[::-1]  # descending: predicting positive for s >= candidates[k]
    order = np.argsort(-s, kind="stable")
    tp_at = np.cumsum(y[order])
    sorted_s = s[order]
    # number of items with s >= t for each candidate t
    n_pos = np.searchsorted(-sorted_s, -candidates, side="right")
    tp = tp_at[n_pos - 1]
    f1 = 2 * tp / (n_pos + y.sum())
    k = int(np.flatnonzero(f1 >= f1.max() - 1e-12)[-1])  # lowest threshold among the ties
    lo = candidates[k]
    below = candidates[k + 1] if k + 1 < len(candidates) else None
    return float((lo + below) / 2) if below is not None else float(lo)


def _f1(gold: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """F1 of each column (0 where there is neither a gold nor a predicted positive)."""
    tp = (gold & pred).sum(axis=0)
    denominator = gold.sum(axis=0) + pred.sum(axis=0)
    return np.divide(2 * tp, denominator, out=np.zeros(denominator.shape), where=denominator > 0)


def _macro_f1(gold: np.ndarray, pred: np.ndarray) -> float:
    return float(np.mean(_f1(gold, pred)))


def evaluate(
    gold_flags: Sequence[bool],
    gold_categories: Sequence[Sequence[str]],
    predictions: Sequence[Prediction],
    seed: int = BOOTSTRAP_SEED,
) -> dict[str, Any]:
    """Metrics of ``predictions`` against gold labels (same order). JSON-serialisable."""
    y = np.asarray(gold_flags, dtype=int)
    s = np.array([p.score for p in predictions])
    yhat = np.array([p.flag for p in predictions], dtype=int)
    gold_c = np.array(
        [[c in cats for c in CATEGORY_NAMES] for cats in gold_categories], dtype=int
    ).reshape(-1, len(CATEGORY_NAMES))
    pred_c = np.array(
        [[c in p.categories for c in CATEGORY_NAMES] for p in predictions], dtype=int
    ).reshape(-1, len(CATEGORY_NAMES))
    score_c = np.array(
        [[p.category_scores[c] for c in CATEGORY_NAMES] for p in predictions]
    ).reshape(-1, len(CATEGORY_NAMES))

    tp = int(((y == 1) & (yhat == 1)).sum())
    fp = int(((y == 0) & (yhat == 1)).sum())
    fn = int(((y == 1) & (yhat == 0)).sum())
    tn = int(((y == 0) & (yhat == 0)).sum())
    flag = _prf(y, yhat) | {"pr_auc": _pr_auc(y, s)}
    categories = {
        name: _prf(gold_c[:, j], pred_c[:, j]) | {"pr_auc": _pr_auc(gold_c[:, j], score_c[:, j])}
        for j, name in enumerate(CATEGORY_NAMES)
    }
    macro = _macro_f1(gold_c, pred_c)

    rng = np.random.default_rng(seed)
    boot_flag, boot_macro = [], []
    n = len(y)
    for _ in range(N_BOOTSTRAP if n else 0):
        i = rng.integers(0, n, n)
        boot_flag.append(float(_f1(y[i, None], yhat[i, None])[0]))
        boot_macro.append(_macro_f1(gold_c[i], pred_c[i]))

    def ci(values: list[float]) -> list[float] | None:
        return (
            [float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))]
            if values
            else None
        )

    return {
        "n": n,
        "flag": flag | {"f1_ci95": ci(boot_flag)},
        "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
        "categories": categories,
        "category_macro_f1": macro,
        "category_macro_f1_ci95": ci(boot_macro),
        "calibration": {
            "brier": float(brier_score_loss(y, s)) if n else None,
            "ece": expected_calibration_error(y, s) if n else None,
        },
    }
