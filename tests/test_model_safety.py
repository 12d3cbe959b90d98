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


# --------------------------------------------------------------------------- hostile folders

DEEP = "[" * 200_000 + "]" * 200_000


def _manifest(directory: Path) -> dict:
    return json.loads((directory / "manifest.json").read_text())


def _rehash(directory: Path, name: str) -> None:
    _rewrite_manifest(
        directory, files=_manifest(directory)["files"] | {name: sha256_file(directory / name)}
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"files": ["weights.npz"]}, "files"),
        ({"files": {"weights.npz": "abc"}}, "files.weights.npz"),
        ({"thresholds": "0.5"}, "thresholds"),
        ({"thresholds": {"flag": 1.5}}, "thresholds.flag"),
        ({"thresholds": {"flag": "high"}}, "thresholds.flag"),
        ({"metrics": []}, "metrics"),
        ({"config": "C=4"}, "config"),
        ({"name": 7}, "name"),
        ({"kind": ["baseline"]}, "kind"),
    ],
)
def test_manifest_fields_of_the_wrong_type_are_named(
    model_copy: Path, changes: dict, field: str
) -> None:
    _rewrite_manifest(model_copy, **changes)
    with pytest.raises(ModelLoadError, match=rf"manifest\.json: {field}: "):
        load_model(model_copy)


def test_deeply_nested_manifest_is_a_load_error(model_copy: Path) -> None:
    (model_copy / "manifest.json").write_text(DEEP)
    with pytest.raises(ModelLoadError, match="nested too deeply"):
        load_model(model_copy)


def test_deeply_nested_config_is_a_load_error(model_copy: Path) -> None:
    (model_copy / "config.json").write_text(DEEP)
    _rehash(model_copy, "config.json")
    with pytest.raises(ModelLoadError, match=r"config\.json: JSON nested too deeply"):
        load_model(model_copy)


@pytest.mark.parametrize("command", ["predict", "score"])
def test_deep_nesting_through_the_cli_is_one_error_line(
    model_copy: Path, tmp_path: Path, command: str
) -> None:
    from typer.testing import CliRunner

    from netral_nlp.cli import app

    (model_copy / "manifest.json").write_text(DEEP)
    feed = tmp_path / "feed.jsonl"
    feed.write_text('{"id": "a", "text": "camat ikut kampanye"}\n')
    target = "camat ikut kampanye" if command == "predict" else str(feed)
    args = [command, target, "--model", str(model_copy)]
    if command == "score":
        args += ["-o", str(tmp_path / "out.jsonl")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "nested" in lines[0]


@pytest.mark.parametrize("entry", ["../outside.json", "/tmp/outside.json", "sub/../../x.json"])
def test_manifest_entries_outside_the_folder_are_refused(
    model_copy: Path, tmp_path: Path, entry: str
) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text("{}")
    files = _manifest(model_copy)["files"] | {entry: sha256_file(outside)}
    _rewrite_manifest(model_copy, files=files)
    with pytest.raises(ModelLoadError, match="outside the model directory"):
        load_model(model_copy)


def test_unlisted_doctored_weights_never_load(model_copy: Path) -> None:
    """An empty ``files`` used to skip verification entirely: doctored weights scored 1.0."""
    import numpy as np

    weights = model_copy / "weights.npz"
    with np.load(weights) as w:
        arrays = {k: w[k] for k in w.files}
    arrays["intercept"] = np.full_like(arrays["intercept"], 50.0)
    np.savez_compressed(weights, **arrays)
    _rewrite_manifest(model_copy, files={})
    with pytest.raises(ModelLoadError, match="not listed in the manifest"):
        load_model(model_copy)


def test_symlinks_out_of_the_folder_are_refused(model_copy: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.npz"
    shutil.move(model_copy / "weights.npz", outside)
    (model_copy / "weights.npz").symlink_to(outside)
    with pytest.raises(ModelLoadError, match="symlink"):
        load_model(model_copy)


def test_an_unlisted_symlink_out_of_the_folder_is_refused(model_copy: Path) -> None:
    (model_copy / "notes.txt").symlink_to("/etc/hostname")
    with pytest.raises(ModelLoadError, match="symlink out of the model directory"):
        load_model(model_copy)


def test_a_linked_model_directory_still_loads(mini_baseline: Path, tmp_path: Path) -> None:
    (tmp_path / "current").symlink_to(mini_baseline, target_is_directory=True)
    assert load_model(tmp_path / "current").manifest.kind == "baseline"


def _npy_header(shape: tuple[int, ...]) -> bytes:
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f4", "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue()


def test_weights_that_would_expand_to_gigabytes_are_refused_unread(model_copy: Path) -> None:
    """A few MB of compressed zeros declaring a 2 GB array: refused from the header."""
    import zipfile

    import numpy as np

    weights = model_copy / "weights.npz"
    with np.load(weights) as w:
        arrays = {k: w[k] for k in w.files if k != "coef_data"}
    np.savez_compressed(weights, **arrays)
    with zipfile.ZipFile(weights, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("coef_data.npy", "w", force_zip64=True) as fh:
            fh.write(_npy_header((2**29,)))  # 2**29 float32 = 2 GiB
            fh.write(bytes(1 << 24))  # the rest is never read
    _rehash(model_copy, "weights.npz")
    assert weights.stat().st_size < 3 * 2**20
    with pytest.raises(ModelLoadError, match="expand past"):
        load_model(model_copy)


def test_hashed_blocks_past_the_cap_are_refused(model_copy: Path) -> None:
    config = json.loads((model_copy / "config.json").read_text())
    config["features"]["word_bits"] = 40
    (model_copy / "config.json").write_text(json.dumps(config))
    _rehash(model_copy, "config.json")
    with pytest.raises(ModelLoadError, match="word_bits"):
        load_model(model_copy)


@pytest.mark.torch
@pytest.mark.parametrize("name", ["adapter_config.json", "model.safetensors.index.json"])
def test_a_transformer_folder_with_unlisted_files_transformers_would_read_is_refused(
    tiny_transformer: dict, tmp_path: Path, name: str
) -> None:
    target = tmp_path / "model"
    shutil.copytree(tiny_transformer["dir"], target)
    (target / name).write_text("{}")
    with pytest.raises(ModelLoadError, match=f"{name} is not listed"):
        load_model(target, runtime="torch")


def test_a_symlink_loop_is_refused(model_copy: Path) -> None:
    (model_copy / "a").symlink_to(model_copy / "b")
    (model_copy / "b").symlink_to(model_copy / "a")
    with pytest.raises(ModelLoadError, match="symlink"):
        load_model(model_copy)
