"""What a model is to the rest of the package: the Classifier protocol, the manifest and
``load_model``, the only way a saved model is consumed (CLI, batch scorer, service)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from .labels import CATEGORY_NAMES, SCHEMA_VERSION, check_schema_version

MANIFEST_FILE = "manifest.json"
DEFAULT_MODEL_NAME = "netral-baseline"
# File suffixes that can execute code when loaded; a model directory holding one is refused.
UNSAFE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".bin", ".pt", ".pth", ".ckpt", ".py", ".skops")


class ModelLoadError(RuntimeError):
    """A model directory is missing, unsafe, corrupted or made for another schema."""


@dataclass
class Span:
    """A character span of the original text, ``text[start:end]``, and why it matters."""

    start: int
    end: int
    kind: str  # e.g. "asn_role", "partisan_act", "candidate", "ngram"
    text: str


@dataclass
class Prediction:
    """One scored item. ``score`` and ``category_scores`` are probabilities in [0, 1]."""

    score: float
    flag: bool
    categories: list[str]
    category_scores: dict[str, float]
    evidence: list[str]
    spans: list[Span] = field(default_factory=list)

    def row(self, item_id: Any, model: str) -> dict[str, Any]:
        """The output row of the contract (CONTRACT.md), plus evidence spans."""
        return {
            "id": item_id,
            "score": round(self.score, 6),
            "flag": self.flag,
            "categories": list(self.categories),
            "category_scores": {k: round(v, 6) for k, v in self.category_scores.items()},
            "evidence": list(self.evidence),
            "evidence_spans": [
                {"start": s.start, "end": s.end, "kind": s.kind, "text": s.text} for s in self.spans
            ],
            "model": model,
        }


def decide(probs: Sequence[float], thresholds: dict[str, float]) -> Prediction:
    """A prediction (without evidence) from head probabilities in HEADS order: flag, then
    CATEGORY_NAMES. Categories only when flagged; a flagged item always gets at least one."""
    score = float(probs[0])
    flag = score >= thresholds.get("flag", 0.5)
    cat_scores = {name: float(probs[i + 1]) for i, name in enumerate(CATEGORY_NAMES)}
    categories: list[str] = []
    if flag:
        categories = [c for c in CATEGORY_NAMES if cat_scores[c] >= thresholds.get(c, 0.5)]
        if not categories:
            categories = [max(cat_scores, key=cat_scores.__getitem__)]
    return Prediction(score, flag, categories, cat_scores, [], [])


@dataclass
class Manifest:
    """Self-description of a saved model: enough to load and audit it without the trainer."""

    name: str
    version: str
    kind: str  # "baseline" or "transformer"
    schema_version: str = SCHEMA_VERSION
    preprocess_version: str = ""
    categories: list[str] = field(default_factory=lambda: list(CATEGORY_NAMES))
    thresholds: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    data_hash: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # file name -> sha256
    netral_version: str = ""

    @property
    def model_id(self) -> str:
        return f"{self.name}@{self.version}"

    def write(self, directory: Path) -> None:
        (directory / MANIFEST_FILE).write_text(
            json.dumps(asdict(self), indent=2, ensure_ascii=False, sort_keys=True) + "\n",
            encoding="utf-8",
        )

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        path = directory / MANIFEST_FILE
        if not path.is_file():
            raise ModelLoadError(
                f"{directory}: no {MANIFEST_FILE}; not a netral-nlp model directory"
            )
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelLoadError(f"{path}: not valid JSON ({exc})") from None
        if not isinstance(raw, dict):
            raise ModelLoadError(f"{path}: expected a JSON object")
        check_schema_version(raw.get("schema_version"), f"model {directory}")
        known = set(cls.__dataclass_fields__)
        try:
            return cls(**{k: v for k, v in raw.items() if k in known})
        except TypeError as exc:
            raise ModelLoadError(f"{path}: {exc}") from None


@runtime_checkable
class Classifier(Protocol):
    """What every model kind offers. ``predict`` keeps input order; len(out) == len(texts)."""

    manifest: Manifest

    def predict(
        self, texts: Sequence[str], author_contexts: Sequence[str | None] | None = None
    ) -> list[Prediction]: ...

    def save(self, directory: str | Path) -> None: ...


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify_model_dir(directory: Path, manifest: Manifest) -> None:
    """Refuse executable formats and files whose hash differs from the manifest."""
    for path in directory.rglob("*"):
        if path.suffix.lower() in UNSAFE_SUFFIXES:
            raise ModelLoadError(
                f"{path}: refusing to load a {path.suffix} file from a model directory "
                "(pickle, joblib, .bin weights and Python files can execute code)"
            )
    for name, digest in manifest.files.items():
        path = directory / name
        if not path.is_file():
            raise ModelLoadError(f"{path}: listed in the manifest but missing")
        if sha256_file(path) != digest:
            raise ModelLoadError(f"{path}: sha256 differs from the manifest (corrupted or altered)")


def default_model_dir() -> Path:
    """``$NETRAL_MODEL`` if set, else the baseline shipped in the repository's models/."""
    env = os.environ.get("NETRAL_MODEL")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "models" / DEFAULT_MODEL_NAME


def load_model(path: str | Path | None = None, runtime: str = "auto") -> Classifier:
    """Load a saved model of any kind; ``None`` loads the shipped default.

    ``runtime`` matters to transformer models only: "torch", "onnx", or "auto" (ONNX when
    the directory holds an exported model and no GPU is present).
    """
    directory = Path(path) if path is not None else default_model_dir()
    if directory.is_file():
        raise ModelLoadError(
            f"{directory}: a model is a directory with {MANIFEST_FILE}, not a file"
        )
    if not directory.is_dir():
        raise ModelLoadError(f"{directory}: model directory not found")
    manifest = Manifest.read(directory)
    verify_model_dir(directory, manifest)
    if manifest.kind == "baseline":
        from .baseline import BaselineClassifier

        return BaselineClassifier.load(directory, manifest)
    if manifest.kind == "transformer":
        from .transformer import TransformerClassifier

        return TransformerClassifier.load(directory, manifest, runtime=runtime)
    raise ModelLoadError(f"{directory}: unknown model kind {manifest.kind!r}")
