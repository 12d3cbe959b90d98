"""One metrics path for every model kind: flag and per-category precision/recall/F1,
macro-F1, PR-AUC, the flag confusion, calibration (Brier, ECE) and bootstrap intervals."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
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


def robust_threshold(
    y: np.ndarray, s: np.ndarray, resamples: int = 200, seed: int = BOOTSTRAP_SEED
) -> float:
    """Threshold on ``s`` that maximises the F1 of ``s >= t`` averaged over bootstrap
    resamples of the items: a dev split of a few hundred items has a flat, jagged F1
    curve, and its single best cut moves a lot between retrainings.

    Candidates are the midpoints between consecutive distinct scores."""
    y = np.asarray(y, dtype=int)
    s = np.asarray(s, dtype=float)
    if y.sum() == 0 or len(np.unique(s)) < 2:
        return 0.5
    distinct = np.unique(s)
    candidates = (distinct[1:] + distinct[:-1]) / 2
    rng = np.random.default_rng(seed)
    total = np.zeros(len(candidates))
    above = s[:, None] >= candidates[None, :]  # (n, candidates)
    for _ in range(resamples):
        i = rng.integers(0, len(y), len(y))
        tp = (above[i] & (y[i, None] == 1)).sum(axis=0)
        total += 2 * tp / np.maximum(above[i].sum(axis=0) + y[i].sum(), 1)
    return float(candidates[int(np.argmax(total))])


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


PREVALENCES = (0.01, 0.05)  # the shares of violations a real feed plausibly holds


def expected_precision(tpr: float, fpr: float, prevalence: float) -> float | None:
    """Precision at ``prevalence`` from the true and false positive rates:
    p*TPR / (p*TPR + (1-p)*FPR); None when nothing would be flagged."""
    flagged = prevalence * tpr + (1 - prevalence) * fpr
    return prevalence * tpr / flagged if flagged > 0 else None


def operating_point(metrics: dict[str, Any], threshold: float | None) -> dict[str, Any]:
    """Precision and recall at the model's flag threshold, its TPR and FPR, and the
    precision to expect at each of PREVALENCES (a test split holds far more violations
    than a feed, so its precision flatters the model)."""
    c = metrics["confusion"]
    tpr = c["tp"] / max(c["tp"] + c["fn"], 1)
    fpr = c["fp"] / max(c["fp"] + c["tn"], 1)
    return {
        "threshold": threshold,
        "precision": metrics["flag"]["precision"],
        "recall": metrics["flag"]["recall"],
        "tpr": tpr,
        "fpr": fpr,
        "expected_precision": {f"{p:g}": expected_precision(tpr, fpr, p) for p in PREVALENCES},
    }


def pr_curve(y: Sequence[int], s: Sequence[float], points: int = 50) -> list[list[float]]:
    """[threshold, precision, recall] at up to ``points`` thresholds spread over the score
    quantiles, descending threshold: what `--min-precision` chooses from."""
    y_arr, s_arr = np.asarray(y, dtype=int), np.asarray(s, dtype=float)
    if not len(y_arr) or y_arr.sum() == 0:
        return []
    qs = np.unique(np.quantile(s_arr, np.linspace(0, 1, points)))[::-1]
    out = []
    for t in qs:
        pred = s_arr >= t
        tp = int((pred & (y_arr == 1)).sum())
        precision = tp / max(int(pred.sum()), 1)
        out.append([round(float(t), 6), round(precision, 6), round(tp / int(y_arr.sum()), 6)])
    return out


def threshold_for_precision(curve: Sequence[Sequence[float]], min_precision: float) -> float:
    """The lowest threshold of ``curve`` (``pr_curve`` rows) whose precision, and that of
    every higher threshold's cut below it, reaches ``min_precision``: the most recall at
    that precision. Raises ValueError when no point reaches it."""
    ok = [t for t, p, _ in curve if p >= min_precision]
    if not ok:
        best = max((p for _, p, _ in curve), default=0.0)
        raise ValueError(
            f"no threshold reaches precision {min_precision:g} on the dev curve (best {best:.3f})"
        )
    return float(min(ok))


def evaluate_items(
    items: Sequence[Any],
    predictions: Sequence[Prediction],
    threshold: float | None = None,
    ambiguous: Sequence[bool] | None = None,
    rationales: Sequence[Sequence[dict[str, Any]] | None] | None = None,
    seed: int = BOOTSTRAP_SEED,
) -> dict[str, Any]:
    """Everything `netral evaluate` reports on labelled items (corpus ``Item``s or any
    object with ``flag``, ``categories`` and ``source_type``): the metrics of
    :func:`evaluate` for all items, for the unambiguous ones when ``ambiguous`` is
    given, by source type, the operating point at ``threshold`` and, with gold
    ``rationales``, the evidence overlap rate."""

    def block(idx: Sequence[int]) -> dict[str, Any]:
        m = evaluate(
            [items[i].flag for i in idx],
            [items[i].categories for i in idx],
            [predictions[i] for i in idx],
            seed=seed,
        )
        m["operating_point"] = operating_point(m, threshold)
        return m

    everything = list(range(len(items)))
    out = block(everything)
    if ambiguous is not None and any(ambiguous):
        clear = [i for i in everything if not ambiguous[i]]
        out["unambiguous"] = block(clear) if clear else None
    by_source: dict[str, list[int]] = {}
    for i in everything:
        by_source.setdefault(str(items[i].source_type), []).append(i)
    out["by_source_type"] = {
        name: {
            "n": len(idx),
            **{
                k: v
                for k, v in evaluate(
                    [items[i].flag for i in idx],
                    [items[i].categories for i in idx],
                    [predictions[i] for i in idx],
                    seed=seed,
                ).items()
                if k in ("flag", "confusion", "category_macro_f1")
            },
        }
        for name, idx in sorted(by_source.items())
    }
    if rationales is not None and any(rationales):
        out["evidence_overlap"] = evidence_overlap(items, predictions, rationales)
    return out


def evidence_overlap(
    items: Sequence[Any],
    predictions: Sequence[Prediction],
    rationales: Sequence[Sequence[dict[str, Any]] | None],
) -> dict[str, Any]:
    """Share of true positives with gold actor/act spans whose top evidence span (the
    first span the model returns) overlaps one of them."""
    hits = total = 0
    for item, pred, spans in zip(items, predictions, rationales, strict=True):
        gold = [(r["start"], r["end"]) for r in spans or () if r.get("role") in ("actor", "act")]
        if not (item.flag and pred.flag and gold):
            continue
        total += 1
        if pred.spans:
            top = pred.spans[0]
            hits += any(top.start < e and s < top.end for s, e in gold)
    return {"rate": hits / total if total else None, "true_positives": total, "hits": hits}


def read_extras(path: str | Path) -> tuple[list[Any], dict[str, dict[str, Any]]]:
    """Corpus items of ``path`` and, by id, the fields evaluation uses beyond the corpus
    schema (``ambiguous`` in the real development set, gold ``rationales``)."""
    from .data import read_annotations, read_records

    items = read_annotations(path)
    extras = {
        str(obj.get("id")): {k: obj[k] for k in ("ambiguous", "rationales") if k in obj}
        for _, _, obj in read_records(path)
    }
    return items, extras
