"""How a model is consumed: the ``Classifier`` protocol and ``load_model``, the only way a
saved model is loaded (CLI, batch scorer, service, notebooks).

Model kinds register a loader in ``_LOADERS``; each loader imports its module when called,
so loading the baseline never imports torch, and no model module imports this one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from .manifest import MANIFEST_FILE, SHIPPED_MODEL_DIR, Manifest, ModelLoadError, verify_model_dir
from .prediction import Prediction


@runtime_checkable
class Classifier(Protocol):
    """What every model kind offers. ``predict`` keeps input order; len(out) == len(texts)."""

    manifest: Manifest

    def predict(
        self, texts: Sequence[str], author_contexts: Sequence[str | None] | None = None
    ) -> list[Prediction]: ...

    def save(self, directory: str | Path) -> None: ...


def _load_baseline(directory: Path, manifest: Manifest, runtime: str) -> Classifier:
    from .baseline import BaselineClassifier

    return BaselineClassifier.load(directory, manifest)


def _load_transformer(directory: Path, manifest: Manifest, runtime: str) -> Classifier:
    from .transformer import TransformerClassifier

    return TransformerClassifier.load(directory, manifest, runtime=runtime)


_LOADERS: dict[str, Callable[[Path, Manifest, str], Classifier]] = {
    "baseline": _load_baseline,
    "transformer": _load_transformer,
}
MODEL_KINDS: tuple[str, ...] = tuple(_LOADERS)


def default_model_dir() -> Path:
    """``$NETRAL_MODEL`` if set, else the baseline shipped in the repository's models/."""
    env = os.environ.get("NETRAL_MODEL")
    if env:
        return Path(env)
    return SHIPPED_MODEL_DIR


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
    loader = _LOADERS.get(manifest.kind)
    if loader is None:
        raise ModelLoadError(
            f"{directory}: unknown model kind {manifest.kind!r} (known: {', '.join(MODEL_KINDS)})"
        )
    verify_model_dir(directory, manifest)
    return loader(directory, manifest, runtime)
