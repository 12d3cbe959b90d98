"""Fit a model of either kind from the annotated corpus, tune its thresholds on the dev
split, measure it on the test split and save it with its manifest and resolved config.

``fit_baseline`` is the one recipe that fits a baseline on labelled items; training,
the test fixtures and the benchmarks all use it."""

from __future__ import annotations

import difflib
import json
import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from numbers import Integral, Real
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, get_type_hints

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
    threshold_data: Path | None = field(
        default=None,
        metadata={
            "help": "labelled real long texts on which the long-text flag threshold is chosen "
            "(unambiguous items when marked); one number, never trained on"
        },
    )
    long_shift: float | None = field(
        default=None,
        metadata={
            "help": "flag logit shift of long texts, given instead of chosen on dev or "
            "--threshold-data (e.g. a recorded model's, to reproduce it)"
        },
    )
    dev_long_shift: float | None = field(
        default=None,
        metadata={
            "help": "with --long-shift: the shift the dev thresholds were chosen with, when "
            "the model was refitted and its shift chosen again (a recorded model's)"
        },
    )
    model_options: dict[str, Any] = field(
        default_factory=dict,
        metadata={
            "help": "overrides of BaselineConfig fields, dotted for nested ones "
            "(e.g. {'sentence_C': 1.0, 'features.signal_weight': 0.5})"
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        self.c_grid = tuple(float(c) for c in self.c_grid)
        if not self.c_grid or any(c <= 0 for c in self.c_grid):
            raise ValueError(f"c_grid must hold positive numbers, not {self.c_grid}")
        if self.dev_long_shift is not None and self.long_shift is None:
            raise ValueError("dev_long_shift is only read with long_shift (--long-shift)")
        self.model_options = check_model_options(self.model_options)


# BaselineConfig fields a training run sets itself, and the setting that does it.
_SET_BY_TRAINING = {
    "C": "c_grid (netral train --c), the values tried on dev",
    "seed": "seed (netral train --seed)",
    "long_shift": "long_shift (netral train --long-shift), else chosen on dev",
}


@dataclass(frozen=True)
class ModelOption:
    """A BaselineConfig field a training run may override."""

    type: Any  # the resolved annotation: bool, int, float or tuple[int, int]
    default: Any
    help: str


def model_option_specs() -> dict[str, ModelOption]:
    """The BaselineConfig fields ``model_options`` may set, by key: a field's name, or
    ``group.name`` for a field of a nested config (``features.signal_weight``)."""
    from .baseline import BaselineConfig

    def options(config: type, prefix: str = "") -> dict[str, ModelOption]:
        hints = get_type_hints(config)
        out: dict[str, ModelOption] = {}
        for f in fields(config):
            if f.name in _SET_BY_TRAINING and not prefix:
                continue
            if is_dataclass(hints[f.name]):
                out |= options(hints[f.name], f"{prefix}{f.name}.")
                continue
            default = f.default if f.default is not MISSING else f.default_factory()
            out[prefix + f.name] = ModelOption(hints[f.name], default, f.metadata.get("help", ""))
        return out

    return options(BaselineConfig)


def check_model_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` checked and converted (ints to float where the field is a float, lists
    to tuples). ValueError naming the key for an unknown key, one training sets itself, a
    value of the wrong type, an n-gram range out of order or a hash size out of bounds."""
    known = model_option_specs()
    out: dict[str, Any] = {}
    for key, value in options.items():
        if key in _SET_BY_TRAINING:
            raise ValueError(
                f"model option {key!r} is set by training: use {_SET_BY_TRAINING[key]}"
            )
        if key not in known:
            group = [k for k in known if k.startswith(f"{key}.")]
            close = difflib.get_close_matches(key, known, n=1)
            if group:
                hint = f"set the fields of the group one by one: {', '.join(group)}"
            else:
                hint = f"did you mean {close[0]!r}?" if close else f"valid: {', '.join(known)}"
            raise ValueError(f"unknown model option {key!r}; {hint}")
        out[key] = _converted(key, value, known[key].type)
        if key in _BOUNDS and not _BOUNDS[key][0](out[key]):
            raise ValueError(f"model option {key!r} must be {_BOUNDS[key][1]}, not {value!r}")
    baseline_config(out)  # the hash sizes' bounds
    return out


# What the numeric options must hold beyond their type (the hash sizes are bounded by
# baseline._check_hash_bits): without it a bad value fails deep in scikit-learn, after the
# corpus has been read, or trains a model that cannot work.
_BOUNDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "sentence_C": (lambda v: v > 0, "a positive number"),
    "head_C": (lambda v: v > 0, "a positive number"),
    "augment": (lambda v: v >= 0, "a share of the training set >= 0"),
    "category_focus": (lambda v: 0 <= v <= 1, "a share between 0 and 1"),
    "evidence_floor": (lambda v: 0 <= v <= 1, "a share of the flag threshold between 0 and 1"),
    "calibration_folds": (lambda v: v == 0 or v >= 2, "0 (no calibration) or 2 folds or more"),
    "features.min_df": (lambda v: v >= 1, "a count of documents >= 1"),
    "sentences.min_df": (lambda v: v >= 1, "a count of sentences >= 1"),
    "features.signal_weight": (lambda v: v >= 0, "a weight >= 0"),
    "sentences.structure_weight": (lambda v: v >= 0, "a weight >= 0"),
}

_RANGE = tuple[int, int]  # an n-gram range: low, high, both included
_EXPECTED = {
    bool: "true or false",
    int: "an integer",
    float: "a finite number",
    _RANGE: "a range of two integers 1 <= low <= high, e.g. [1, 3] (1,3 with --set)",
}


def _converted(key: str, value: Any, kind: Any) -> Any:
    """``value`` as a field of type ``kind`` takes it; ValueError naming ``key`` if it
    cannot be (a bool is never a number, a float never an int)."""

    def integer(v: Any) -> bool:
        return isinstance(v, Integral) and not isinstance(v, bool)

    if kind is bool and isinstance(value, bool):
        return value
    if kind is int and integer(value):
        return int(value)
    if kind is float and isinstance(value, Real) and not isinstance(value, bool):
        if math.isfinite(value):
            return float(value)
    if (
        kind == _RANGE
        and isinstance(value, list | tuple)
        and len(value) == 2
        and all(integer(v) for v in value)
        and 1 <= value[0] <= value[1]
    ):
        return (int(value[0]), int(value[1]))
    raise ValueError(f"model option {key!r} must be {_EXPECTED.get(kind, kind)}, not {value!r}")


def parse_model_options(assignments: Iterable[str]) -> dict[str, Any]:
    """``KEY=VALUE`` strings as `netral train --set` takes them, as a dict (not yet
    checked): VALUE is read as JSON when it parses (numbers, true/false, lists), else as
    text; a range field also takes comma-separated numbers (``features.word_ngrams=1,3``)."""
    known = model_option_specs()
    out: dict[str, Any] = {}
    for text in assignments:
        key, sep, raw = text.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"--set {text!r}: expected KEY=VALUE, e.g. sentence_C=1.0")
        value = _json_or_text(raw)
        if isinstance(value, str) and key in known and known[key].type == _RANGE:
            value = [_json_or_text(part) for part in value.split(",")]
        out[key] = value
    return out


def _json_or_text(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def baseline_config(options: Mapping[str, Any], **fixed: Any) -> BaselineConfig:
    """The BaselineConfig of a run: the defaults, overridden by the checked ``options``
    (dotted keys for nested fields) and by ``fixed`` (the fields training sets: C, seed,
    long_shift). ValueError when a hash size is out of bounds."""
    from .baseline import BaselineConfig, _check_hash_bits

    hints = get_type_hints(BaselineConfig)
    top: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {
        f.name: {} for f in fields(BaselineConfig) if is_dataclass(hints[f.name])
    }
    for key, value in options.items():
        group, _, name = key.rpartition(".")
        (nested[group] if group else top)[name] = value
    groups = {group: hints[group](**values) for group, values in nested.items()}
    config = BaselineConfig(**groups, **top, **fixed)
    try:
        _check_hash_bits(config.features)
        _check_hash_bits(config.sentences, "sentences")
    except ValueError as exc:
        raise ValueError("model option " + str(exc).removeprefix("config.json: ")) from None
    return config


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
    rationales: Sequence[Sequence[dict[str, Any]] | None] | None = None,
) -> BaselineClassifier:
    """Fit a baseline on labelled items with fixed thresholds (0.5 for every head unless
    given); no tuning, no evaluation, nothing written. ``config`` defaults to the
    BaselineConfig defaults; ``docs`` are the items already prepared by ``docs_for``, for
    callers that fit several times on the same items; ``rationales`` (same order) the gold
    spans the sentence scorer learns from."""
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
    model = BaselineClassifier.fit(docs, label_matrix(items), config, manifest, rationales)
    model.manifest.thresholds = dict(thresholds) if thresholds else dict.fromkeys(HEADS, 0.5)
    return model


def tune_thresholds(gold: np.ndarray, probs: np.ndarray) -> dict[str, float]:
    """Per-head threshold maximising dev F1; ``gold`` and ``probs`` are (n, heads)."""
    from .evaluate import best_threshold

    heads = ("flag", *CATEGORY_NAMES)
    return {h: round(best_threshold(gold[:, j], probs[:, j]), 6) for j, h in enumerate(heads)}


def choose_thresholds(gold: np.ndarray, probs: np.ndarray) -> dict[str, float]:
    """The thresholds every model kind ships, from dev labels and probabilities (both
    (n, heads)): the flag's by :func:`evaluate.robust_threshold`, each category's the best
    F1 on the flagged dev items (categories are decided only for flagged items)."""
    from .evaluate import robust_threshold

    thresholds = tune_thresholds(gold, probs)
    thresholds["flag"] = round(robust_threshold(gold[:, 0], probs[:, 0]), 6)
    flagged = gold[:, 0] == 1
    if flagged.any():
        for name, t in tune_thresholds(gold[flagged], probs[flagged]).items():
            if name != "flag":
                thresholds[name] = t
    return thresholds


def held_out_metrics(
    items: Sequence[Any],
    predictions: Sequence[Any],
    threshold: float,
    rationales: Sequence[Sequence[dict[str, Any]] | None],
) -> dict[str, Any]:
    """``{"test": ..., "operating_point": ...}`` as the manifest records them for every
    model kind: evaluate_items on the test split (with the evidence overlap when gold
    rationales exist) and the operating point at the flag threshold."""
    from .evaluate import evaluate_items, operating_point

    test = evaluate_items(items, predictions, threshold=threshold, rationales=rationales)
    test.pop("by_source_type", None)
    return {"test": test, "operating_point": operating_point(test, threshold)}


def _long_shift(
    docs: Sequence[Any],
    y: np.ndarray,
    p: np.ndarray,
    model: Any,
    reference: tuple[Sequence[Any], np.ndarray] | None = None,
    t_all: float | None = None,
) -> float:
    """Logit shift that moves the best threshold of long texts (news, reports) onto that of
    all dev texts, so one flag threshold serves posts and articles: a real report hides its
    act among procedure sentences and scores lower than a post of the same strength.

    The long texts are those of ``reference`` (documents, flags: real texts kept for this
    one number) when given, else the dev split's; 0 when they hold fewer than 10 of either
    class. ``t_all``, when given, is the threshold to move onto (else the dev texts')."""
    from .baseline import LONG_SENTENCES
    from .evaluate import robust_threshold

    def logit(t: float) -> float:
        t = min(max(t, 1e-6), 1 - 1e-6)
        return float(np.log(t / (1 - t)))

    long_docs, long_y = docs, y
    long_p = p
    if reference is not None:
        long_docs, long_y = reference
        long_p = model.probabilities(long_docs)[:, 0] if len(long_docs) else np.zeros(0)
    long = np.array([len(d.analysis.sentences) >= LONG_SENTENCES for d in long_docs], dtype=bool)
    if min(int(long_y[long].sum()), int((1 - long_y[long]).sum())) < 10:
        return 0.0
    t_long = robust_threshold(long_y[long], long_p[long])
    if t_all is None:
        t_all = robust_threshold(y, p)
    return round(float(logit(t_all) - logit(t_long)), 6)


def train_baseline(
    config: BaselineTrainConfig, progress: Callable[[str], None] = log.info
) -> tuple[BaselineClassifier, dict[str, Any]]:
    """Train, tune, evaluate and save the baseline. Returns (model, metrics)."""
    from sklearn.metrics import average_precision_score

    from .baseline import docs_for
    from .data import data_hash, read_annotations, read_records
    from .evaluate import pr_curve

    check_model_destination(config.out, "baseline", force=config.force)
    items = read_annotations(config.data)
    gold_spans = {
        str(obj.get("id")): obj.get("rationales") for _, _, obj in read_records(config.data)
    }
    parts = items_by_split(items)
    progress(
        f"corpus: {len(items)} items; train {len(parts['train'])}, dev {len(parts['dev'])}, test {len(parts['test'])}"
    )
    docs = {
        k: docs_for([i.text for i in v], [i.author_context for i in v]) for k, v in parts.items()
    }
    labels = {k: label_matrix(v) for k, v in parts.items()}
    spans = {k: [gold_spans.get(i.id) for i in v] for k, v in parts.items()}
    progress("rationales: " + ", ".join(f"{k} {sum(1 for r in v if r)}" for k, v in spans.items()))

    def fit(
        c: float,
        part_docs: list[Any],
        part_labels: np.ndarray,
        part_spans: list[Any],
        long_shift: float = 0.0,
    ) -> BaselineClassifier:
        from .baseline import BaselineClassifier

        cfg = baseline_config(config.model_options, C=c, seed=config.seed, long_shift=long_shift)
        manifest = Manifest(
            name=config.name or "",
            version=config.version,
            kind="baseline",
            data_hash=data_hash(items),
            netral_version=__version__,
        )
        return BaselineClassifier.fit(part_docs, part_labels, cfg, manifest, part_spans)

    best_ap, c_best, model = -1.0, config.c_grid[0], None
    for c in config.c_grid:
        candidate = fit(c, docs["train"], labels["train"], spans["train"])
        dev_probs = candidate.probabilities(docs["dev"])
        ap = float(average_precision_score(labels["dev"][:, 0], dev_probs[:, 0]))
        progress(f"C={c:g}: dev flag PR-AUC {ap:.4f}")
        if ap > best_ap + 1e-9:
            best_ap, c_best, model = ap, c, candidate
    dev_probs = model.probabilities(docs["dev"])
    reference = None
    if config.threshold_data is not None:
        from .evaluate import read_extras

        ref_items, ref_extras = read_extras(config.threshold_data)
        ref_items = [i for i in ref_items if not ref_extras[i.id].get("ambiguous")]
        reference = (
            docs_for([i.text for i in ref_items], [i.author_context for i in ref_items]),
            np.array([int(i.flag) for i in ref_items]),
        )
        progress(f"long-text threshold from {config.threshold_data}: {len(ref_items)} items")
    if config.long_shift is not None:
        long_shift = (
            config.dev_long_shift if config.dev_long_shift is not None else config.long_shift
        )
    else:
        long_shift = _long_shift(
            docs["dev"], labels["dev"][:, 0], dev_probs[:, 0], model, reference
        )
    if long_shift:
        progress(f"long texts: flag logit shift {long_shift:+.3f}")
        model.config.long_shift = long_shift
        dev_probs = model.probabilities(docs["dev"])
    thresholds = choose_thresholds(labels["dev"], dev_probs)
    dev_curve = pr_curve(labels["dev"][:, 0], dev_probs[:, 0])
    progress(f"chosen C={c_best:g}; thresholds {thresholds}")
    dev_long_shift = long_shift
    if config.refit_on_dev:
        progress("refitting on train+dev")
        model = fit(
            c_best,
            docs["train"] + docs["dev"],
            np.vstack([labels["train"], labels["dev"]]),
            spans["train"] + spans["dev"],
            long_shift,
        )
        if config.long_shift is not None:
            long_shift = config.long_shift
        elif reference is not None:
            # the refitted model scores long texts with more confidence than the one tuned
            # on dev: the real texts choose its shift again, onto the same threshold
            model.config.long_shift = 0.0
            long_shift = _long_shift(
                docs["dev"], labels["dev"][:, 0], dev_probs[:, 0], model, reference,
                t_all=thresholds["flag"],
            )  # fmt: skip
            progress(f"refitted model: long-text flag logit shift {long_shift:+.3f}")
        model.config.long_shift = long_shift
    model.manifest.thresholds = thresholds
    model.manifest.config |= {
        "refit_on_dev": config.refit_on_dev,
        "c_grid": list(config.c_grid),
        "train_items": len(parts["train"]) + (len(parts["dev"]) if config.refit_on_dev else 0),
        "long_shift": long_shift,
        "dev_long_shift": dev_long_shift,
        "threshold_data": str(config.threshold_data) if config.threshold_data else None,
        "model_options": dict(config.model_options),
    }

    metrics: dict[str, Any] = {"dev_curve": dev_curve}
    if parts["test"]:
        test = parts["test"]
        preds = model.predict([i.text for i in test], [i.author_context for i in test])
        metrics |= held_out_metrics(test, preds, thresholds["flag"], spans["test"])
    model.manifest.metrics = metrics
    model.save(config.out)
    progress(f"saved {model.manifest.model_id} to {config.out}")
    return model, metrics
