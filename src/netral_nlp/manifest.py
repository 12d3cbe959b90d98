"""What a saved model is: the manifest that describes a model directory, the checks a
directory passes before anything in it is read, and the error every loading failure raises.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .labels import CATEGORY_NAMES, SCHEMA_VERSION, check_schema_version
from .text import PREPROCESS_VERSION

MANIFEST_FILE = "manifest.json"
# File suffixes that can execute code when loaded; a model directory holding one is refused.
UNSAFE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".bin", ".pt", ".pth", ".ckpt", ".py", ".skops")


class ModelLoadError(RuntimeError):
    """A model directory is missing, unsafe, corrupted or made for another schema."""


@dataclass
class Manifest:
    """Self-description of a saved model: enough to load and audit it without the trainer."""

    name: str
    version: str
    kind: str  # a kind registered in netral_nlp.model
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


def check_preprocess_version(directory: Path, manifest: Manifest) -> None:
    """A model reads text through the preprocessing it was trained with, or not at all."""
    if manifest.preprocess_version != PREPROCESS_VERSION:
        raise ModelLoadError(
            f"{directory}: made with text preprocessing {manifest.preprocess_version!r}, "
            f"this netral-nlp has {PREPROCESS_VERSION!r}; retrain the model"
        )
