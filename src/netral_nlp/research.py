"""The Python API for notebooks: the functions the CLI calls, in memory, no shelling out.

    from netral_nlp import research as nr
    ds = nr.load_corpus("data/annotations")             # datasets.DatasetDict by split
    model, metrics = nr.train(nr.BaselineTrainConfig(out="out/m"))
    report = nr.evaluate(model, "data/annotations", "test")
    report.to_frame(); report.figures(); report.to_html("report.html")
    nr.compare(model, other, "data/annotations").to_frame()
    nr.cross_validate("data/annotations", folds=5).to_frame()
    nr.score(model, [{"id": 1, "text": "..."}])         # rows in, rows out, no files

Needs the ``report`` extra for tables and plots (pandas, matplotlib)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .data import load_dataset as load_corpus
from .eval_report import EvaluationReport, gold_matrix, prediction_matrices, prf_counts
from .evaluate import BOOTSTRAP_SEED, N_BOOTSTRAP
from .model import Classifier, load_model
from .train import BaselineTrainConfig, TrainConfig, fit_baseline

if TYPE_CHECKING:
    import pandas as pd

    from .transformer_train import TransformerTrainConfig

__all__ = [
    "BaselineTrainConfig",
    "Comparison",
    "CrossValidation",
    "EvaluationReport",
    "TransformerTrainConfig",
    "compare",
    "cross_validate",
    "evaluate",
    "fit_baseline",
    "load_corpus",
    "load_items",
    "load_model",
    "paired_bootstrap",
    "sample_items",
    "score",
    "score_frame",
    "train",
    "write_items",
]

Data = str | Path | Sequence[Any]


def __getattr__(name: str) -> Any:
    if name == "TransformerTrainConfig":  # torch-free until asked for
        from .transformer_train import TransformerTrainConfig

        return TransformerTrainConfig
    raise AttributeError(name)


def load_items(data: Data, split: str | None = None) -> list[Any]:
    """Corpus items of a path (file or directory) or a list of items, keeping ``split``
    (train, dev, test; None or "all": every item). ValueError when none are left."""
    if isinstance(data, str | Path):
        from .data import read_annotations

        items = read_annotations(data)
    else:
        items = list(data)
    if split not in (None, "all"):
        items = [i for i in items if i.split == split]
        if not items:
            raise ValueError(f"no items with split {split!r} in {_name(data)}")
    return items


def sample_items(
    items: Sequence[Any], per_split: Mapping[str, int], seed: int = BOOTSTRAP_SEED
) -> list[Any]:
    """At most ``per_split[split]`` items of each split named, drawn at random (seeded)
    with the split's share of flagged items kept: a small corpus for a quick run."""
    rng = np.random.default_rng(seed)
    out = []
    for split, n in per_split.items():
        part = [i for i in items if i.split == split]
        flagged = [i for i in part if i.flag]
        take_flagged = round(n * len(flagged) / len(part)) if part else 0
        for group, k in (
            (flagged, take_flagged),
            ([i for i in part if not i.flag], n - take_flagged),
        ):
            picked = rng.permutation(len(group))[: max(k, 0)]
            out += [group[j] for j in sorted(picked)]
    return out


def write_items(items: Iterable[Any], path: str | Path) -> Path:
    """Write corpus items (``Item`` or corpus-row dicts) as JSON Lines that
    `netral data validate` and training read; optional fields that are None are left out."""
    import json
    from dataclasses import asdict, is_dataclass

    from .data import OPTIONAL_FIELDS

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for item in items:
            row = asdict(item) if is_dataclass(item) else dict(item)
            row = {k: v for k, v in row.items() if v is not None or k not in OPTIONAL_FIELDS}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def item_rationales(item: Any) -> list[dict[str, Any]] | None:
    """An item's gold rationale spans as dicts (what fitting and evaluation read), None
    when it has none."""
    from dataclasses import asdict

    spans = getattr(item, "rationales", None)
    if not spans:
        return None
    return [s if isinstance(s, dict) else asdict(s) for s in spans]


def _name(data: Data) -> str:
    return str(data) if isinstance(data, str | Path) else f"{len(data)} items"


def _model(model: Classifier | str | Path | None) -> Classifier:
    return model if hasattr(model, "predict") else load_model(model)  # type: ignore[arg-type]


def train(
    config: TrainConfig, progress: Callable[[str], None] | None = None
) -> tuple[Classifier, dict[str, Any]]:
    """Train, tune, test and save a model of the config's kind (``BaselineTrainConfig`` or
    ``TransformerTrainConfig``), as `netral train` does. Returns (model, metrics)."""
    say = progress or (lambda _m: None)
    if isinstance(config, BaselineTrainConfig):
        from .train import train_baseline

        return train_baseline(config, progress=say)
    from .transformer_train import TransformerTrainConfig, train_transformer

    if isinstance(config, TransformerTrainConfig):
        return train_transformer(config, progress=say)
    raise TypeError(f"expected a BaselineTrainConfig or TransformerTrainConfig, not {config!r}")


def evaluate(
    model: Classifier | str | Path | None,
    data: Data = Path("data/annotations"),
    split: str | None = None,
    *,
    resamples: int = N_BOOTSTRAP,
    seed: int = BOOTSTRAP_SEED,
) -> EvaluationReport:
    """The evaluation `netral evaluate` prints and reports, as an object with tables
    (``to_frame``), plots (``figures``) and documents (``to_html``, ``to_markdown``).
    ``model`` is a loaded model or a model directory (None: the shipped one); ``data`` a
    corpus path or a list of items; ``split`` defaults to test when the items have splits
    and to all of them when they have none ("all": every item)."""
    if isinstance(data, str | Path):
        from .evaluate import read_extras

        all_items, extras = read_extras(data)
    else:
        all_items, extras = list(data), {}
    if any(i.split for i in all_items):
        split = split or "test"
    elif split not in (None, "all"):
        raise ValueError(f"{_name(data)}: the items have no split field; leave out the split")
    items = load_items(all_items, split)
    if not items:
        raise ValueError(f"no items in {_name(data)}")
    marked = [extras.get(i.id, {}) for i in items]
    ambiguous = (
        [bool(e.get("ambiguous")) for e in marked]
        if any("ambiguous" in e for e in marked)
        else None
    )
    clf = _model(model)
    preds = clf.predict([i.text for i in items], [i.author_context for i in items])
    return EvaluationReport(
        items=items,
        predictions=list(preds),
        thresholds=dict(clf.manifest.thresholds),
        model_id=clf.manifest.model_id,
        split=split or "all",
        data=_name(data),
        ambiguous=ambiguous,
        rationales=[item_rationales(i) for i in items],
        resamples=resamples,
        seed=seed,
    )


@dataclass
class Comparison:
    """A paired bootstrap of two models on the same items: for each metric, the observed
    difference (a - b), its 95% interval and ``p``, twice the smaller share of resamples
    on either side of 0 (1.0 when every resample gives exactly 0)."""

    model_a: str
    model_b: str
    n: int
    rows: list[dict[str, Any]]

    def to_frame(self) -> pd.DataFrame:
        """One row per metric: a, b, difference, ci_lo, ci_hi, p."""
        import pandas as pd

        return pd.DataFrame(self.rows).set_index("metric")


def _flag_f1_and_macro(gold: np.ndarray, decided: np.ndarray) -> tuple[float, float]:
    f1 = prf_counts(gold, decided)[2]
    return float(f1[0]), float(f1[1:].mean())


def paired_bootstrap(
    gold: np.ndarray,
    decided_a: np.ndarray,
    decided_b: np.ndarray,
    resamples: int = N_BOOTSTRAP,
    seed: int = BOOTSTRAP_SEED,
) -> list[dict[str, Any]]:
    """Flag F1 and category macro-F1 of two decision matrices (``gold_matrix`` layout) on
    the same items, and their difference over the same resamples of the items."""
    observed_a = _flag_f1_and_macro(gold, decided_a)
    observed_b = _flag_f1_and_macro(gold, decided_b)
    rng = np.random.default_rng(seed)
    n = len(gold)
    diffs = np.zeros((resamples if n else 0, 2))
    for r in range(len(diffs)):
        i = rng.integers(0, n, n)
        a = _flag_f1_and_macro(gold[i], decided_a[i])
        b = _flag_f1_and_macro(gold[i], decided_b[i])
        diffs[r] = (a[0] - b[0], a[1] - b[1])
    rows = []
    for j, metric in enumerate(("flag_f1", "category_macro_f1")):
        d = diffs[:, j]
        below, above = float((d < 0).mean()) if n else 0.0, float((d > 0).mean()) if n else 0.0
        p = min(1.0, 2 * min(1.0 - above, 1.0 - below)) if n else 1.0
        lo, hi = np.percentile(d, [2.5, 97.5]) if n else (0.0, 0.0)
        rows.append(
            {
                "metric": metric,
                "a": observed_a[j],
                "b": observed_b[j],
                "difference": observed_a[j] - observed_b[j],
                "ci_lo": float(lo),
                "ci_hi": float(hi),
                "p": p,
            }
        )
    return rows


def compare(
    model_a: Classifier | str | Path | None,
    model_b: Classifier | str | Path | None,
    data: Data = Path("data/annotations"),
    split: str | None = "test",
    *,
    resamples: int = N_BOOTSTRAP,
    seed: int = BOOTSTRAP_SEED,
) -> Comparison:
    """Whether model a beats model b on the same items: a paired bootstrap of the
    difference of flag F1 and category macro-F1, each model at its own thresholds."""
    a, b = _model(model_a), _model(model_b)
    items = load_items(data, split)
    texts, contexts = [i.text for i in items], [i.author_context for i in items]
    gold = gold_matrix(items)
    decided_a = prediction_matrices(a.predict(texts, contexts))[0]
    decided_b = prediction_matrices(b.predict(texts, contexts))[0]
    return Comparison(
        model_a=a.manifest.model_id,
        model_b=b.manifest.model_id,
        n=len(items),
        rows=paired_bootstrap(gold, decided_a, decided_b, resamples, seed),
    )


@dataclass
class CrossValidation:
    """Per-fold test metrics of a k-fold cross-validation of the baseline."""

    folds: list[dict[str, Any]]

    def to_frame(self) -> pd.DataFrame:
        """One row per fold, then ``mean`` and ``std`` rows."""
        import pandas as pd

        frame = pd.DataFrame(self.folds).set_index("fold")
        numeric = frame.select_dtypes("number")
        return pd.concat(
            [frame, numeric.mean().to_frame("mean").T, numeric.std().to_frame("std").T]
        )


def cross_validate(
    data: Data = Path("data/annotations"),
    folds: int = 5,
    config: Any = None,
    *,
    split: str | None = None,
    thresholds: Mapping[str, float] | None = None,
    seed: int = BOOTSTRAP_SEED,
    progress: Callable[[str], None] | None = None,
) -> CrossValidation:
    """k-fold cross-validation of the baseline on the items of ``data`` (all splits unless
    ``split``): folds stratified by flag, each fitted by ``fit_baseline`` with ``config``
    (a BaselineConfig; default its defaults) and fixed ``thresholds`` (0.5 unless given),
    and scored on the held-out fold."""
    from sklearn.model_selection import StratifiedKFold

    from .evaluate import evaluate as metrics_of

    items = load_items(data, split)
    y = np.array([int(i.flag) for i in items])
    if folds < 2 or min(int(y.sum()), int(len(y) - y.sum())) < folds:
        raise ValueError(f"{len(items)} items ({int(y.sum())} flagged): too few for {folds} folds")
    out = []
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for k, (train_idx, test_idx) in enumerate(cv.split(np.zeros(len(y)), y), start=1):
        part = [items[i] for i in train_idx]
        model = fit_baseline(
            part,
            config,
            name="cv",
            version=str(k),
            thresholds=thresholds,
            rationales=[item_rationales(i) for i in part],
        )
        test = [items[i] for i in test_idx]
        preds = model.predict([i.text for i in test], [i.author_context for i in test])
        m = metrics_of([i.flag for i in test], [i.categories for i in test], preds, seed=seed)
        out.append(
            {
                "fold": k,
                "n_train": len(train_idx),
                "n_test": len(test_idx),
                **{
                    f"flag_{key}": m["flag"][key] for key in ("precision", "recall", "f1", "pr_auc")
                },
                "category_macro_f1": m["category_macro_f1"],
            }
        )
        if progress is not None:
            progress(f"fold {k}/{folds}: flag F1 {m['flag']['f1']:.3f}")
    return CrossValidation(out)


def score(
    model: Classifier | str | Path | None, rows: Iterable[Mapping[str, Any] | str]
) -> list[dict[str, Any]]:
    """Output rows (the contract's fields) of input rows, in memory: each a dict with
    ``text`` and optionally ``id`` and ``author_context``, or a plain string."""
    from .batch import score_rows

    clf = _model(model)
    dicts = ({"text": r} if isinstance(r, str) else r for r in rows)
    return list(score_rows(dicts, clf))


def score_frame(
    model: Classifier | str | Path | None, rows: Iterable[Mapping[str, Any] | str]
) -> pd.DataFrame:
    """``score`` as a pandas DataFrame, one row per input."""
    import pandas as pd

    return pd.DataFrame(score(model, rows))
