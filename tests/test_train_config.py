"""Training settings live in one place: the config dataclasses. Each field has a help
line, and the CLI's options fall back to the config instead of repeating its defaults."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netral_nlp import cli
from netral_nlp.baseline import BaselineConfig
from netral_nlp.train import BaselineTrainConfig, TrainConfig
from netral_nlp.transformer import WindowConfig
from netral_nlp.transformer_train import TransformerTrainConfig

CONFIGS = [TrainConfig, BaselineTrainConfig, TransformerTrainConfig, BaselineConfig, WindowConfig]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.__name__)
def test_every_config_field_has_a_help_line(config: type) -> None:
    missing = [f.name for f in fields(config) if not f.metadata.get("help")]
    assert not missing, f"{config.__name__}: no help for {missing}"


def test_the_cli_passes_only_what_was_given(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = {}

    def fake_train(config: BaselineTrainConfig, progress) -> tuple[None, dict]:
        seen["c"] = config
        return None, {}

    monkeypatch.setattr(cli, "train_baseline", fake_train)
    result = CliRunner().invoke(cli.app, ["train", "--out", "somewhere", "--c", "2", "--c", "8"])
    assert result.exit_code == 0, result.output
    assert seen["c"] == BaselineTrainConfig(out=Path("somewhere"), c_grid=(2.0, 8.0))
    assert seen["c"].name == "somewhere" and seen["c"].refit_on_dev is True


def test_help_shows_the_config_defaults() -> None:
    result = CliRunner().invoke(cli.app, ["train", "--help"], env={"COLUMNS": "200"})
    seed = BaselineTrainConfig.__dataclass_fields__["seed"].default
    epochs = TransformerTrainConfig.__dataclass_fields__["epochs"].default
    assert f"(default: {seed})" in result.output and f"(default: {epochs})" in result.output


def test_baseline_config_checks_its_grid() -> None:
    with pytest.raises(ValueError, match="c_grid"):
        BaselineTrainConfig(c_grid=())
    with pytest.raises(ValueError, match="c_grid"):
        BaselineTrainConfig(c_grid=(4.0, -1.0))


def test_span_loss_weight_is_a_transformer_option() -> None:
    result = CliRunner().invoke(cli.app, ["train", "--span-loss-weight", "0"])
    assert result.exit_code != 0 and "--span-loss-weight applies to --kind transformer" in (
        result.output
    )
