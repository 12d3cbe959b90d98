"""Fit a model of either kind from the annotated corpus, tune its thresholds on the dev
split, measure it on the test split and save it with its manifest and resolved config.

``fit_baseline`` is the one recipe that fits a baseline on labelled items; training,
the test fixtures and the benchmarks all use it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from . import __version__
from .labels import CATEGORY_NAMES
from .manifest import Manifest, check_model_destination

if TYPE_CHECKING:
    from .baseline import BaselineClassifier, BaselineConfig
    from .features import Doc

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    """Settings shared by both model kinds; each kind's config adds its own and the default
    output directory. The resolved values are saved with the model."""

    out: Path = field(metadata={"help": "output model directory"})
    data: Path = field(
        default=Path("data/annotations"),
        metadata={"help": "annotated corpus: a .jsonl file or a directory of them, with splits"},
    )
    name: str | None = field(
        default=None,
        metadata={"help": "model name in the manifest (default: the output directory's name)"},
    )
    version: str = field(default="1.0.0", metadata={"help": "model version in the manifest"})
    seed: int = field(default=13, metadata={"help": "seed for every random step"})
    force: bool = field(
        default=False,
        metadata={"help": "write even into a folder holding another kind of model or other files"},
    )

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        self.data = Path(self.data)
        if self.name is None:
            self.name = self.out.name


@dataclass
class BaselineTrainConfig(TrainConfig):
    """Settings of a baseline training run (TrainConfig's plus these)."""

    out: Path = field(
        default=Path("models/netral-baseline"), metadata={"help": "output model directory"}
    )
    c_grid: tuple[float, ...] = field(
        default=(4.0, 8.0, 16.0),
        metadata={"help": "inverse L2 strengths C tried on dev (the best flag PR-AUC wins)"},
    )
    refit_on_dev: bool = field(
        default=True, metadata={"help": "after tuning on dev, refit on train+dev"}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        self.c_grid = tuple(float(c) for c in self.c_grid)
        if not self.c_grid or any(c <= 0 for c in self.c_grid):
            raise ValueError(f"c_grid must hold positive numbers, not {self.c_grid}")


def field_help(config: type, name: str) -> str:
    """The help line of a config dataclass field (what the CLI shows for its option)."""
    return config.__dataclass_fields__[name].metadata.get("help", "")


def items_by_split(items: Sequence[Any]) -> dict[str, list[Any]]:
    """Items grouped into train/dev/test; ValueError unless every item has a split and
    train and dev are non-empty (test may be empty)."""
    out: dict[str, list[Any]] = {"train": [], "dev": [], "test": []}
    for item in items:
        if item.split not in out:
            raise ValueError(
                f"item {item.id!r} has split {item.split!r}; run `netral data split` first"
            )
        out[item.split].append(item)
    for name in ("train", "dev"):
        if not out[name]:
            raise ValueError(f"the corpus has no {name!r} items; run `netral data split` first")
    return out


def label_matrix(items: Sequence[Any]) -> np.ndarray:
    """(n, 1 + n_categories) 0/1 matrix: flag, then categories in CATEGORY_NAMES order."""
    return np.array(
        [[int(it.flag), *(int(c in it.categories) for c in CATEGORY_NAMES)] for it in items],
        dtype=int,
    )


class Labelled(Protocol):
    """What fitting needs of an item: a corpus Item, or any object with these attributes
    (``author_context`` is optional)."""

    text: str
    flag: bool
    categories: Sequence[str]


def fit_baseline(
    items: Sequence[Labelled],
    config: BaselineConfig | None = None,
    *,
    name: str = "baseline",
    version: str = "0.0.0",
    thresholds: Mapping[str, float] | None = None,
    docs: Sequence[Doc] | None = None,
) -> BaselineClassifier:
    """Fit a baseline on labelled items with fixed thresholds (0.5 for every head unless
    given); no tuning, no evaluation, nothing written. ``config`` defaults to the
    BaselineConfig defaults; ``docs`` are the items already prepared by ``docs_for``, for
    callers that fit several times on the same items."""
    from .baseline import BaselineClassifier, BaselineConfig, docs_for
    from .features import FeatureConfig
    from .prediction import HEADS

    if config is None:
        config = BaselineConfig(features=FeatureConfig())
    if docs is None:
        docs = docs_for(
            [i.text for i in items], [getattr(i, "author_context", None) for i in items]
        )
    manifest = Manifest(name=name, version=version, kind="baseline", netral_version=__version__)
    model = BaselineClassifier.fit(docs, label_matrix(items), config, manifest)
    model.manifest.thresholds = dict(thresholds) if thresholds else dict.fromkeys(HEADS, 0.5)
    return model


def tune_thresholds(gold: np.ndarray, probs: np.ndarray) -> dict[str, float]:
    """Per-head threshold maximising dev F1; ``gold`` and ``probs`` are (n, heads)."""
    from .evaluate import best_threshold

    heads = ("flag", *CATEGORY_NAMES)
    return {h: round(best_threshold(gold[:, j], probs[:, j]), 6) for j, h in enumerate(heads)}


def train_baseline(
    config: BaselineTrainConfig, progress: Callable[[str], None] = log.info
) -> tuple[BaselineClassifier, dict[str, Any]]:
    """Train, tune, evaluate and save the baseline. Returns (model, metrics)."""
    from sklearn.metrics import average_precision_score

    from .baseline import BaselineConfig, docs_for
    from .data import data_hash, read_annotations
    from .evaluate import evaluate
    from .features import FeatureConfig

    check_model_destination(config.out, "baseline", force=config.force)
    items = read_annotations(config.data)
    parts = items_by_split(items)
    progress(
        f"corpus: {len(items)} items; train {len(parts['train'])}, dev {len(parts['dev'])}, test {len(parts['test'])}"
    )
    docs = {
        k: docs_for([i.text for i in v], [i.author_context for i in v]) for k, v in parts.items()
    }
    labels = {k: label_matrix(v) for k, v in parts.items()}

    def fit(c: float, calibrate: bool, *names: str) -> BaselineClassifier:
        cfg = BaselineConfig(
            features=FeatureConfig(), C=c, seed=config.seed, calibration_folds=5 if calibrate else 0
        )
        part = [i for n in names for i in parts[n]]
        part_docs = [d for n in names for d in docs[n]]
        model = fit_baseline(
            part, cfg, name=config.name or "", version=config.version, docs=part_docs
        )
        model.manifest.data_hash = data_hash(items)
        return model

    # PR-AUC ranks scores, and Platt scaling is monotonic: choose C without calibrating.
    best_ap, c_best = -1.0, config.c_grid[0]
    for c in config.c_grid:
        dev_probs = fit(c, False, "train").probabilities(docs["dev"])
        ap = float(average_precision_score(labels["dev"][:, 0], dev_probs[:, 0]))
        progress(f"C={c:g}: dev flag PR-AUC {ap:.4f}")
        if ap > best_ap + 1e-9:
            best_ap, c_best = ap, c
    model = fit(c_best, True, "train")
    thresholds = tune_thresholds(labels["dev"], model.probabilities(docs["dev"]))
    progress(f"chosen C={c_best:g}; thresholds {thresholds}")
    if config.refit_on_dev:
        progress("refitting on train+dev")
        model = fit(c_best, True, "train", "dev")
    model.manifest.thresholds = thresholds
    model.manifest.config |= {
        "refit_on_dev": config.refit_on_dev,
        "c_grid": list(config.c_grid),
        "train_items": len(parts["train"]) + (len(parts["dev"]) if config.refit_on_dev else 0),
    }

    metrics: dict[str, Any] = {}
    if parts["test"]:
        test = parts["test"]
        preds = model.predict([i.text for i in test], [i.author_context for i in test])
        metrics["test"] = evaluate([i.flag for i in test], [i.categories for i in test], preds)
    model.manifest.metrics = metrics
    model.save(config.out)
    progress(f"saved {model.manifest.model_id} to {config.out}")
    return model, metrics
