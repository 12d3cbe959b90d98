"""No command writes a model over another kind's folder, a folder of other files, or the
shipped model unless told to (issue 8, defect 1)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netral_nlp import cli
from netral_nlp.manifest import (
    SHIPPED_MODEL_DIR,
    Manifest,
    ModelDestinationError,
    check_model_destination,
)

ROOT = Path(__file__).resolve().parents[1]


def _invoke(*args: str):
    return CliRunner().invoke(cli.app, list(args))


def _error_line(result) -> str:
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


def test_transformer_training_without_out_keeps_its_own_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mini_corpus: Path
) -> None:
    """The CLI's --out default used to flow into the transformer config: models/netral-baseline."""
    import netral_nlp.transformer_train as tt

    seen = {}

    def fake_train(config, progress):
        seen["config"] = config
        return None, {}

    monkeypatch.setattr(tt, "train_transformer", fake_train)
    monkeypatch.chdir(tmp_path)
    result = _invoke("train", "--kind", "transformer", "--data", str(mini_corpus))
    assert result.exit_code == 0, result.output
    assert seen["config"].out == Path("models/netral-indobert")
    assert seen["config"].name == "netral-indobert"
    assert seen["config"].base == tt.TransformerTrainConfig.__dataclass_fields__["base"].default


def test_training_without_out_refuses_the_shipped_model(monkeypatch: pytest.MonkeyPatch) -> None:
    before = {p.name: p.read_bytes() for p in SHIPPED_MODEL_DIR.iterdir()}
    monkeypatch.chdir(ROOT)
    result = _invoke("train", "--data", "no-such-corpus")
    assert result.exit_code == 2
    assert "shipped model" in _error_line(result)
    assert {p.name: p.read_bytes() for p in SHIPPED_MODEL_DIR.iterdir()} == before


def test_transformer_into_a_baseline_folder_is_refused(mini_baseline: Path, tmp_path: Path) -> None:
    target = tmp_path / "model"
    shutil.copytree(mini_baseline, target)
    before = (target / "manifest.json").read_text()
    result = _invoke(
        "train", "--kind", "transformer", "--out", str(target), "--base", str(tmp_path / "none")
    )
    assert result.exit_code == 2
    assert "holds a baseline model" in _error_line(result)
    assert (target / "manifest.json").read_text() == before


def test_baseline_into_a_transformer_folder_needs_force(mini_corpus: Path, tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.mkdir()
    Manifest(name="x", version="1", kind="transformer").write(target)
    args = ["train", "--data", str(mini_corpus), "--out", str(target), "--c", "4"]
    result = _invoke(*args)
    assert result.exit_code == 2
    assert "holds a transformer model" in _error_line(result)
    result = _invoke(*args, "--force")
    assert result.exit_code == 0, result.output
    assert json.loads((target / "manifest.json").read_text())["kind"] == "baseline"


def test_a_folder_of_other_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("my notes")
    with pytest.raises(ModelDestinationError, match="not a model directory"):
        check_model_destination(tmp_path, "baseline")
    check_model_destination(tmp_path, "baseline", force=True)


def test_destinations_that_are_fine(mini_baseline: Path, tmp_path: Path) -> None:
    check_model_destination(tmp_path / "new", "baseline", explicit=False)
    (tmp_path / "empty").mkdir()
    check_model_destination(tmp_path / "empty", "transformer")
    check_model_destination(mini_baseline, "baseline")  # retraining the same kind
    check_model_destination(SHIPPED_MODEL_DIR, "baseline", explicit=True)  # named on purpose


def test_options_of_the_other_kind_are_refused() -> None:
    result = _invoke("train", "--epochs", "3", "--out", "x")
    assert result.exit_code == 2
    assert "--epochs applies to --kind transformer only" in _error_line(result)
    result = _invoke("train", "--kind", "transformer", "--c", "4", "--out", "x")
    assert "--c applies to --kind baseline only" in _error_line(result)


def test_onnx_export_refuses_a_baseline_folder(mini_baseline: Path) -> None:
    pytest.importorskip("onnx")
    from netral_nlp.manifest import ModelLoadError
    from netral_nlp.onnx_export import export_onnx

    with pytest.raises(ModelLoadError, match="only transformer"):
        export_onnx(mini_baseline)
