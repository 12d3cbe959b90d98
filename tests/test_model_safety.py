"""Model files are data, never code: pickles, foreign schemas and altered files are refused."""

import json
import pickle
import shutil
from pathlib import Path

import pytest

from netral_nlp import ModelLoadError, load_model
from netral_nlp.labels import SchemaMismatchError
from netral_nlp.manifest import sha256_file


class _Trap:
    """Unpickling this object creates a marker file (what a malicious pickle would do)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.fixture
def model_copy(mini_baseline: Path, tmp_path: Path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(mini_baseline, target)
    return target


def _rewrite_manifest(directory: Path, **changes) -> None:
    path = directory / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest.update(changes)
    path.write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    "name", ["model.pkl", "weights.joblib", "pytorch_model.bin", "modeling.py"]
)
def test_executable_files_are_refused_and_never_run(
    model_copy: Path, tmp_path: Path, name: str
) -> None:
    marker = tmp_path / "pwned"
    (model_copy / name).write_bytes(pickle.dumps(_Trap(marker)))
    with pytest.raises(ModelLoadError, match="refusing"):
        load_model(model_copy)
    assert not marker.exists()


def test_pickle_disguised_as_weights_is_refused(model_copy: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    weights = model_copy / "weights.npz"
    weights.write_bytes(pickle.dumps(_Trap(marker)))
    manifest = json.loads((model_copy / "manifest.json").read_text())
    _rewrite_manifest(model_copy, files=manifest["files"] | {"weights.npz": sha256_file(weights)})
    with pytest.raises(ModelLoadError, match="damaged"):
        load_model(model_copy)
    assert not marker.exists()


def test_other_schema_is_refused_with_a_clear_message(model_copy: Path) -> None:
    _rewrite_manifest(model_copy, schema_version="0.1")
    with pytest.raises(SchemaMismatchError, match=r"label schema '0\.1'"):
        load_model(model_copy)


def test_other_preprocessing_is_refused(model_copy: Path) -> None:
    _rewrite_manifest(model_copy, preprocess_version="0.0")
    with pytest.raises(ModelLoadError, match="preprocessing"):
        load_model(model_copy)


def test_altered_weights_fail_the_hash_check(model_copy: Path) -> None:
    with (model_copy / "weights.npz").open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelLoadError, match="sha256"):
        load_model(model_copy)


def test_truncated_weights_are_a_clear_error(model_copy: Path) -> None:
    weights = model_copy / "weights.npz"
    weights.write_bytes(weights.read_bytes()[:200])
    manifest = json.loads((model_copy / "manifest.json").read_text())
    _rewrite_manifest(model_copy, files=manifest["files"] | {"weights.npz": sha256_file(weights)})
    with pytest.raises(ModelLoadError, match="damaged"):
        load_model(model_copy)


def test_missing_directory_and_plain_file(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="not found"):
        load_model(tmp_path / "nope")
    (tmp_path / "f.pkl").write_bytes(b"x")
    with pytest.raises(ModelLoadError, match="not a file"):
        load_model(tmp_path / "f.pkl")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="manifest"):
        load_model(tmp_path / "empty")
