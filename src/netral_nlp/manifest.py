"""What a saved model is: the manifest that describes a model directory, the checks a
directory passes before anything in it is read, the error every loading failure raises,
and the check every writer of a model directory passes first.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from .labels import CATEGORY_NAMES, SCHEMA_VERSION, check_schema_version
from .text import PREPROCESS_VERSION

MANIFEST_FILE = "manifest.json"
# File suffixes that can execute code when loaded; a model directory holding one is refused.
UNSAFE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".bin", ".pt", ".pth", ".ckpt", ".py", ".skops")
# The model shipped in the repository: written only when a command names it explicitly.
SHIPPED_MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "netral-baseline"
_SHA256_RE = re.compile(r"[0-9a-f]{64}")


class ModelLoadError(RuntimeError):
    """A model directory is missing, unsafe, corrupted or made for another schema."""


class ModelDestinationError(ValueError):
    """A model would be written where it must not be (another kind's folder, the shipped model)."""


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
        """Parse and type-check ``directory/manifest.json``; ModelLoadError names the field."""
        path = directory / MANIFEST_FILE
        if path.is_symlink():
            raise ModelLoadError(f"{path}: a symlink; a model directory holds its own files")
        if not path.is_file():
            raise ModelLoadError(
                f"{directory}: no {MANIFEST_FILE}; not a netral-nlp model directory"
            )
        raw = read_json(path)
        if not isinstance(raw, dict):
            raise ModelLoadError(f"{path}: expected a JSON object")
        check_schema_version(raw.get("schema_version"), f"model {directory}")
        known = set(cls.__dataclass_fields__)
        try:
            manifest = cls(**{k: v for k, v in raw.items() if k in known})
        except TypeError as exc:
            raise ModelLoadError(f"{path}: {exc}") from None
        problem = manifest.type_problem()
        if problem:
            raise ModelLoadError(f"{path}: {problem}")
        return manifest

    def type_problem(self) -> str | None:
        """The first field whose JSON type or range is wrong, as "field: why", or None."""
        for name in ("name", "version", "kind", "schema_version", "preprocess_version"):
            if not isinstance(getattr(self, name), str):
                return f"{name}: expected a string"
        for name in ("data_hash", "netral_version"):
            if not isinstance(getattr(self, name), str):
                return f"{name}: expected a string"
        if not isinstance(self.categories, list) or not all(
            isinstance(c, str) for c in self.categories
        ):
            return "categories: expected a list of strings"
        for name in ("metrics", "config", "thresholds", "files"):
            if not isinstance(getattr(self, name), dict):
                return f"{name}: expected an object"
        for head, value in self.thresholds.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                return f"thresholds.{head}: expected a number"
            if not 0.0 <= value <= 1.0:
                return f"thresholds.{head}: {value} is outside [0, 1]"
        for name, digest in self.files.items():
            if not isinstance(digest, str) or not _SHA256_RE.fullmatch(digest):
                return f"files.{name}: expected a sha256 as 64 lowercase hex digits"
        return None


def read_json(path: Path) -> Any:
    """A JSON file of a model directory; any parse failure, deep nesting included, is a
    ModelLoadError naming the file."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{path}: not valid JSON ({exc})") from None
    except RecursionError:
        raise ModelLoadError(f"{path}: JSON nested too deeply") from None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _listed_path(directory: Path, name: str) -> Path:
    """``directory/name`` for a manifest entry that stays inside the folder, through no link."""
    pure = PurePosixPath(name)
    if not name or pure.is_absolute() or "\\" in name or ".." in pure.parts:
        raise ModelLoadError(
            f"{directory}: manifest files entry {name!r} points outside the model directory"
        )
    path = directory
    for part in pure.parts:
        path = path / part
        if path.is_symlink():
            raise ModelLoadError(f"{path}: a symlink; a model directory holds its own files")
    if not _inside(path, directory.resolve()):
        raise ModelLoadError(
            f"{directory}: manifest files entry {name!r} points outside the model directory"
        )
    return path


def _inside(path: Path, root: Path) -> bool:
    """Whether ``path`` resolves inside ``root``; a symlink loop resolves nowhere."""
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):
        return False


def verify_model_dir(directory: Path, manifest: Manifest) -> None:
    """Refuse executable formats, links out of the folder, manifest entries outside it and
    files whose hash differs from the manifest."""
    root = directory.resolve()
    for path in directory.rglob("*"):
        if path.is_symlink() and not _inside(path, root):
            raise ModelLoadError(f"{path}: a symlink out of the model directory")
        if path.suffix.lower() in UNSAFE_SUFFIXES:
            raise ModelLoadError(
                f"{path}: refusing to load a {path.suffix} file from a model directory "
                "(pickle, joblib, .bin weights and Python files can execute code)"
            )
    for name, digest in manifest.files.items():
        path = _listed_path(directory, name)
        if not path.is_file():
            raise ModelLoadError(f"{path}: listed in the manifest but missing")
        if sha256_file(path) != digest:
            raise ModelLoadError(f"{path}: sha256 differs from the manifest (corrupted or altered)")


def model_file(directory: Path, manifest: Manifest, name: str) -> Path:
    """The path of a file a loader reads: only files the manifest lists (and so hashed by
    :func:`verify_model_dir`) may be opened; an unlisted one is a ModelLoadError."""
    if name not in manifest.files:
        raise ModelLoadError(
            f"{directory}: {name} is not listed in the manifest's files, so it cannot be "
            "verified; refusing to load it"
        )
    return _listed_path(directory, name)


def check_npz_sizes(path: Path, budget: int) -> None:
    """Refuse an .npz whose arrays would expand past ``budget`` bytes, reading only each
    array's header (shape and dtype), before any array is loaded: a few MB of zeros
    compress a thousandfold. Object arrays are refused (they would need pickle)."""
    import zipfile

    import numpy as np

    total = 0
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            with archive.open(info) as fh:
                version = np.lib.format.read_magic(fh)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
                elif version in ((2, 0), (3, 0)):
                    shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
                else:
                    raise ModelLoadError(f"{path}: {info.filename}: unknown .npy version {version}")
            if dtype.hasobject:
                raise ModelLoadError(f"{path}: {info.filename}: object arrays are not allowed")
            total += int(np.prod(shape, dtype=object)) * dtype.itemsize
            if total > budget:
                raise ModelLoadError(
                    f"{path}: {info.filename}: the arrays expand past {budget:,} bytes, more than "
                    "this model's config allows"
                )


def check_preprocess_version(directory: Path, manifest: Manifest) -> None:
    """A model reads text through the preprocessing it was trained with, or not at all."""
    if manifest.preprocess_version != PREPROCESS_VERSION:
        raise ModelLoadError(
            f"{directory}: made with text preprocessing {manifest.preprocess_version!r}, "
            f"this netral-nlp has {PREPROCESS_VERSION!r}; retrain the model"
        )


def check_model_destination(
    directory: str | Path, kind: str, force: bool = False, explicit: bool = True
) -> None:
    """Refuse to write a ``kind`` model into ``directory`` when that would destroy something.

    Every writer of model folders calls this before it starts work. Refused unless
    ``force``: a folder holding a model of another kind (or an unreadable manifest), a
    non-empty folder that is not a model folder, and, when the destination was not named
    by the user (``explicit`` False: a default), the model shipped in the repository.
    Raises ModelDestinationError with one line that says how to proceed.
    """
    directory = Path(directory)
    if force:
        return
    if directory.exists() and not directory.is_dir():
        raise ModelDestinationError(f"{directory}: exists and is not a directory")
    if not explicit and directory.resolve() == SHIPPED_MODEL_DIR:
        raise ModelDestinationError(
            f"{directory} is the shipped model; name it with --out to replace it, "
            "or choose another --out"
        )
    if not directory.is_dir() or not any(directory.iterdir()):
        return
    if not (directory / MANIFEST_FILE).is_file():
        raise ModelDestinationError(
            f"{directory}: not empty and not a model directory; choose another --out "
            "or pass --force"
        )
    try:
        found = Manifest.read(directory).kind
    except (ModelLoadError, ValueError):
        found = None
    if found != kind:
        what = f"a {found} model" if found else "a model with an unreadable manifest"
        raise ModelDestinationError(
            f"{directory} holds {what}; refusing to write a {kind} model over it "
            "(choose another --out, or pass --force)"
        )
