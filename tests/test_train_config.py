"""Training settings live in one place: the config dataclasses. Each field has a help
line, and the CLI's options fall back to the config instead of repeating its defaults.
The baseline's hyper-parameters are set by ``model_options`` (``--set KEY=VALUE``), checked
before any corpus is read."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netral_nlp import cli, load_model
from netral_nlp.baseline import MAX_HASH_BITS, BaselineConfig
from netral_nlp.features import FeatureConfig, SentenceConfig
from netral_nlp.train import (
    BaselineTrainConfig,
    TrainConfig,
    baseline_config,
    check_model_options,
    model_option_specs,
    parse_model_options,
)
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


# ------------------------------------------------------------------ baseline model options


def test_set_values_are_read_as_json_ranges_as_comma_lists() -> None:
    raw = parse_model_options(
        [
            "sentence_C=1",
            "long_doc_logit=false",
            "features.word_ngrams=1,3",
            "sentences.ngrams=[2, 3]",
            "calibration_folds=3",
        ]
    )
    options = check_model_options(raw)
    assert options == {
        "sentence_C": 1.0,
        "long_doc_logit": False,
        "features.word_ngrams": (1, 3),
        "sentences.ngrams": (2, 3),
        "calibration_folds": 3,
    }
    assert isinstance(options["sentence_C"], float)


def test_nested_options_reach_their_group_and_nothing_else() -> None:
    config = baseline_config(
        check_model_options({"features.signal_weight": 0.25, "sentences.bits": 12}), C=2.0
    )
    assert config.features.signal_weight == 0.25 and config.sentences.bits == 12
    assert config.C == 2.0
    assert config.features.word_bits == FeatureConfig().word_bits
    assert config.sentences.ngrams == SentenceConfig().ngrams


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("sentense_C", "did you mean 'sentence_C'"),
        ("features.signal_weigth", "did you mean 'features.signal_weight'"),
        ("features", "features.signal_weight"),
        ("zzz", "valid: features.word_ngrams"),
    ],
)
def test_an_unknown_key_is_named_with_a_way_out(key: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"unknown model option '{key}'") as err:
        check_model_options({key: 1.0})
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("key", "option"), [("C", "--c"), ("seed", "--seed"), ("long_shift", "--long-shift")]
)
def test_keys_training_sets_point_to_their_own_option(key: str, option: str) -> None:
    with pytest.raises(ValueError, match=f"'{key}' is set by training: use .*{option}"):
        BaselineTrainConfig(model_options={key: 1.0})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("augment", True),  # a bool is not a number
        ("augment", "0.2"),
        ("augment", float("nan")),
        ("long_doc_logit", 1),
        ("features.min_df", 2.5),
        ("features.word_ngrams", [3, 1]),
        ("features.word_ngrams", [1, 2, 3]),
        ("sentences.ngrams", 2),
    ],
)
def test_a_value_of_the_wrong_type_is_refused(key: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"model option '{key}' must be"):
        check_model_options({key: value})


@pytest.mark.parametrize(
    ("key", "bad", "edge"),
    [
        ("sentence_C", 0, 1e-3),
        ("head_C", -1.0, 1e-3),
        ("augment", -0.1, 0),
        ("category_focus", 1.5, 1),
        ("category_focus", -0.5, 0),
        ("evidence_floor", 2, 1),
        ("calibration_folds", 1, 0),
        ("calibration_folds", -3, 2),
        ("features.min_df", 0, 1),
        ("sentences.min_df", 0, 1),
        ("features.signal_weight", -1, 0),
        ("sentences.structure_weight", -0.5, 0),
    ],
)
def test_a_value_out_of_its_range_is_refused_at_its_edge_taken(
    key: str, bad: float, edge: float
) -> None:
    with pytest.raises(ValueError, match=f"model option '{key}' must be .* not {bad!r}"):
        check_model_options({key: bad})
    assert key in check_model_options({key: edge})


def test_hash_sizes_keep_the_bounds_a_loaded_model_keeps() -> None:
    assert check_model_options({"features.word_bits": MAX_HASH_BITS})
    for key, bits in [("features.word_bits", MAX_HASH_BITS + 1), ("sentences.bits", 0)]:
        with pytest.raises(ValueError, match=f"model option {key} is {bits}"):
            BaselineTrainConfig(model_options={key: bits})


def test_cli_set_passes_the_parsed_options(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = {}
    monkeypatch.setattr(
        cli, "train_baseline", lambda config, progress: (seen.setdefault("c", config), {})
    )
    args = ["train", "--out", "x", "--set", "head_C=2", "--set", "features.char_ngrams=2,4"]
    result = CliRunner().invoke(cli.app, [*args, "--long-shift", "-0.5"])
    assert result.exit_code == 0, result.output
    assert seen["c"].model_options == {"head_C": 2.0, "features.char_ngrams": (2, 4)}
    assert seen["c"].long_shift == -0.5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "sentense_C=1"], "'sentense_C'; did you mean 'sentence_C'"),
        (["--set", "seed=3"], "'seed' is set by training"),
        (["--set", "sentence_C"], "expected KEY=VALUE"),
        (["--kind", "transformer", "--set", "augment=0"], "a transformer's are --base"),
    ],
)
def test_cli_set_errors_exit_2_naming_the_key(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli.app, ["train", "--out", "nowhere", *args])
    assert result.exit_code == 2 and message in result.output, result.output


def test_list_options_shows_every_key_and_its_default() -> None:
    result = CliRunner().invoke(cli.app, ["train", "--list-options"])
    assert result.exit_code == 0
    keys = [line.split()[0] for line in result.output.splitlines() if line.strip()][:-1]
    assert keys == list(model_option_specs())
    assert "C" not in keys and "seed" not in keys


def test_set_options_reach_the_saved_model(mini_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "m"
    args = ["train", "--data", str(mini_corpus), "--out", str(out), "--c", "4"]
    args += ["--no-refit-on-dev", "--set", "category_focus=0.25"]
    args += ["--set", "sentences.actor_cross=false", "--set", "features.word_bits=16"]
    result = CliRunner().invoke(cli.app, args)
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "config.json").read_text())
    assert saved["category_focus"] == 0.25 and saved["sentences"]["actor_cross"] is False
    assert saved["features"]["word_bits"] == 16
    assert saved["sentence_C"] == BaselineConfig.__dataclass_fields__["sentence_C"].default
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["model_options"] == {
        "category_focus": 0.25,
        "sentences.actor_cross": False,
        "features.word_bits": 16,
    }
    assert load_model(out).config.features.word_bits == 16
