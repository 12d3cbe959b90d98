"""The baseline: hashed TF-IDF + signal features into class-weighted linear heads.

One head for ``flag`` and one per category (one-vs-rest), each a logistic regression
whose decision values are Platt-calibrated on out-of-fold predictions. Saved as arrays
(``.npz`` loaded with ``allow_pickle=False``) plus JSON: nothing in a model directory can
execute code when loaded.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from . import modelcard
from .evidence import build_evidence
from .features import Doc, FeatureConfig, Featurizer, make_doc
from .limits import MAX_SCORED_CHARS
from .manifest import (
    Manifest,
    ModelLoadError,
    check_npz_sizes,
    check_preprocess_version,
    model_file,
    read_json,
    sha256_file,
)
from .prediction import HEADS, Prediction, decide, sigmoid
from .text import PREPROCESS_VERSION

WEIGHTS_FILE = "weights.npz"
CONFIG_FILE = "config.json"


@dataclass
class BaselineConfig:
    """Hyper-parameters of the baseline (written next to the model as config.json)."""

    features: FeatureConfig = field(metadata={"help": "hashed n-gram blocks and signal weight"})
    C: float = field(default=4.0, metadata={"help": "inverse L2 strength of every head"})
    calibration_folds: int = field(
        default=5, metadata={"help": "folds of the out-of-fold Platt calibration (0: none)"}
    )
    seed: int = field(default=13, metadata={"help": "seed of the folds and the solver"})
    evidence_floor: float = field(
        default=0.5, metadata={"help": "evidence for items scoring >= floor x the flag threshold"}
    )


class BaselineClassifier:
    """Implements the :class:`netral_nlp.model.Classifier` protocol."""

    def __init__(
        self,
        config: BaselineConfig,
        featurizer: Featurizer,
        coef: np.ndarray,
        intercept: np.ndarray,
        platt: np.ndarray,
        manifest: Manifest,
    ) -> None:
        self.config = config
        self.featurizer = featurizer
        self.coef = coef  # (n_heads, n_features) float32, rows in HEADS order
        self._coef_t = np.ascontiguousarray(coef.T)  # sparse @ dense wants (n_features, n_heads)
        self.intercept = intercept  # (n_heads,)
        self.platt = platt  # (n_heads, 2): p = sigmoid(a * z + b)
        self.manifest = manifest

    # -- fitting -----------------------------------------------------------------------
    @classmethod
    def fit(
        cls,
        docs: Sequence[Doc],
        labels: np.ndarray,
        config: BaselineConfig,
        manifest: Manifest,
    ) -> BaselineClassifier:
        """Fit every head. ``labels`` is (n_docs, len(HEADS)) of 0/1 in HEADS order."""
        featurizer = Featurizer(config.features).fit(docs)
        x = featurizer.transform(docs)
        # Fit on the columns that occur (tens of thousands of ~2 million hashed slots).
        used = np.unique(x.indices)
        x_used = x[:, used]
        n_heads = len(HEADS)
        coef = np.zeros((n_heads, x.shape[1]), dtype=np.float32)
        intercept = np.zeros(n_heads)
        platt = np.zeros((n_heads, 2))
        for h in range(n_heads):
            coef[h, used], intercept[h], platt[h] = _fit_head(x_used, labels[:, h], config)
        manifest.kind = "baseline"
        manifest.preprocess_version = PREPROCESS_VERSION
        manifest.config = {"C": config.C, "features": asdict(config.features), "seed": config.seed}
        return cls(config, featurizer, coef, intercept, platt, manifest)

    # -- scoring -----------------------------------------------------------------------
    def docs(self, texts: Sequence[str], author_contexts: Sequence[str | None] | None) -> list[Doc]:
        contexts = author_contexts if author_contexts is not None else [None] * len(texts)
        if len(contexts) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(contexts)} author contexts")
        return [
            make_doc(t[:MAX_SCORED_CHARS], (c or "")[:MAX_SCORED_CHARS] or None)
            for t, c in zip(texts, contexts, strict=False)
        ]

    def probabilities(self, docs: Sequence[Doc]) -> np.ndarray:
        """(n_docs, len(HEADS)) calibrated probabilities in [0, 1]."""
        if not docs:
            return np.zeros((0, len(HEADS)))
        x = self.featurizer.transform(docs)
        z = np.asarray(x @ self._coef_t) + self.intercept
        return sigmoid(z * self.platt[:, 0] + self.platt[:, 1])

    def predict(
        self, texts: Sequence[str], author_contexts: Sequence[str | None] | None = None
    ) -> list[Prediction]:
        docs = self.docs(texts, author_contexts)
        probs = self.probabilities(docs)
        t_flag = self.manifest.thresholds.get("flag", 0.5)
        out = []
        for doc, p in zip(docs, probs, strict=True):
            pred = decide(p, self.manifest.thresholds)
            if pred.score >= self.config.evidence_floor * t_flag:
                pred.evidence, pred.spans = build_evidence(doc, self.featurizer, self.coef[0])
            out.append(pred)
        return out

    # -- persistence -------------------------------------------------------------------
    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {
            "intercept": self.intercept,
            "platt": self.platt,
            "signal_mean": self.featurizer.signal_mean,
            "signal_std": self.featurizer.signal_std,
        }
        for name, idf in self.featurizer.idf.items():
            keep = np.flatnonzero(idf).astype(np.int32)
            arrays[f"idf_{name}_index"], arrays[f"idf_{name}_value"] = keep, idf[keep]
        coef = sp.csr_matrix(self.coef)
        arrays.update(coef_data=coef.data, coef_indices=coef.indices, coef_indptr=coef.indptr)
        np.savez_compressed(directory / WEIGHTS_FILE, **arrays)
        config = asdict(self.config)
        (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        self.manifest.files = {
            name: sha256_file(directory / name) for name in (WEIGHTS_FILE, CONFIG_FILE)
        }
        self.manifest.write(directory)
        (directory / "README.md").write_text(modelcard.render(self.manifest), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, manifest: Manifest) -> BaselineClassifier:
        """Load a verified directory; only files its manifest lists are opened."""
        check_preprocess_version(directory, manifest)
        config_path = model_file(directory, manifest, CONFIG_FILE)
        weights_path = model_file(directory, manifest, WEIGHTS_FILE)
        raw = read_json(config_path)
        try:
            raw["features"] = FeatureConfig(
                **{k: tuple(v) if isinstance(v, list) else v for k, v in raw["features"].items()}
            )
            config = BaselineConfig(**raw)
            _check_hash_bits(config.features)
            featurizer = Featurizer(config.features)
            check_npz_sizes(weights_path, _npz_budget(featurizer.n_features))
            with np.load(weights_path, allow_pickle=False) as w:
                for name, size in featurizer.sizes.items():
                    idf = np.zeros(size, dtype=np.float32)
                    idf[w[f"idf_{name}_index"]] = w[f"idf_{name}_value"]
                    featurizer.idf[name] = idf
                featurizer.signal_mean, featurizer.signal_std = w["signal_mean"], w["signal_std"]
                coef = sp.csr_matrix(
                    (w["coef_data"], w["coef_indices"], w["coef_indptr"]),
                    shape=(len(HEADS), featurizer.n_features),
                ).toarray()
                intercept, platt = w["intercept"], w["platt"]
        except (
            OSError,
            KeyError,
            ValueError,
            TypeError,
            AttributeError,
            zipfile.BadZipFile,
        ) as exc:
            raise ModelLoadError(f"{directory}: damaged baseline model ({exc})") from None
        return cls(config, featurizer, coef, intercept, platt, manifest)


# The shipped model uses 20 bits per hashed block; 2**22 slots per block bounds a loaded
# model at 6 heads x (4 x 2**22) features x 4 bytes = 400 MB of dense weights.
MAX_HASH_BITS = 22


def _check_hash_bits(features: FeatureConfig) -> None:
    """Bound the hashed blocks before any array of their size is made."""
    for name, value in asdict(features).items():
        if name.endswith("_bits") and (
            isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_HASH_BITS
        ):
            raise ValueError(
                f"config.json: features.{name} is {value!r}; expected 1..{MAX_HASH_BITS}"
            )


def _npz_budget(n_features: int) -> int:
    """Bytes an honest weights.npz can expand to: the coefficients' data and indices
    (n_heads x n_features, 4 bytes each at most), the idf index and value per slot (8 bytes)
    and 1 MiB for the small arrays."""
    return 2 * len(HEADS) * n_features * 4 + n_features * 8 + (1 << 20)


def _fit_head(
    x: sp.csr_matrix, y: np.ndarray, config: BaselineConfig
) -> tuple[np.ndarray, float, np.ndarray]:
    """Fit one logistic head and its Platt scaling on out-of-fold decision values."""
    from sklearn.linear_model import LogisticRegression  # fitting only: scorers start faster
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    if y.min() == y.max():  # a class absent from training: a constant, honest head
        return (
            np.zeros(x.shape[1], dtype=np.float32),
            -10.0 if y.max() == 0 else 10.0,
            np.array([1.0, 0.0]),
        )

    def make() -> LogisticRegression:
        return LogisticRegression(
            C=config.C,
            class_weight="balanced",
            solver="liblinear",
            dual=True,  # far fewer samples than features: the dual is ~10x faster
            max_iter=10_000,
            random_state=config.seed,
        )

    folds = min(config.calibration_folds, int(min(y.sum(), len(y) - y.sum())))
    if folds >= 2:
        cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=config.seed)
        z = cross_val_predict(make(), x, y, cv=cv, method="decision_function")
        calibrator = LogisticRegression(C=1e4, solver="lbfgs").fit(z.reshape(-1, 1), y)
        platt = np.array([calibrator.coef_[0, 0], calibrator.intercept_[0]])
    else:
        platt = np.array([1.0, 0.0])
    head = make().fit(x, y)
    return head.coef_[0].astype(np.float32), float(head.intercept_[0]), platt


def docs_for(texts: Sequence[str], contexts: Sequence[str | None]) -> list[Doc]:
    """Prepare training documents (same path as scoring)."""
    return [make_doc(t, c) for t, c in zip(texts, contexts, strict=False)]
