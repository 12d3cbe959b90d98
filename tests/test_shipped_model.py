"""The default model shipped in models/: its card matches its manifest, retraining from the
corpus reproduces its metrics, and it behaves on the cases the guidelines call hard."""

import json
from pathlib import Path

import pytest

from netral_nlp import load_model, modelcard
from netral_nlp.manifest import Manifest
from netral_nlp.model import default_model_dir
from netral_nlp.train import BaselineTrainConfig, train_baseline

SHIPPED = default_model_dir()
CORPUS = Path(__file__).parents[1] / "data" / "annotations"

pytestmark = pytest.mark.skipif(not SHIPPED.is_dir(), reason="no shipped model yet")


@pytest.fixture(scope="module")
def shipped():
    return load_model(SHIPPED)


def test_card_is_rendered_from_the_manifest() -> None:
    manifest = Manifest.read(SHIPPED)
    assert (SHIPPED / "README.md").read_text(encoding="utf-8") == modelcard.render(manifest)


def test_model_is_small() -> None:
    size = sum(p.stat().st_size for p in SHIPPED.iterdir())
    assert size < 15 * 2**20


@pytest.mark.slow
def test_retraining_from_the_corpus_reproduces_the_card(tmp_path: Path) -> None:
    manifest = Manifest.read(SHIPPED)
    config = BaselineTrainConfig(
        data=CORPUS,
        out=tmp_path / "retrained",
        name=manifest.name,
        version=manifest.version,
        seed=manifest.config["seed"],
        c_grid=tuple(manifest.config["c_grid"]),
    )
    _, metrics = train_baseline(config, progress=lambda _m: None)
    retrained = Manifest.read(tmp_path / "retrained")
    assert retrained.data_hash == manifest.data_hash, (
        "the corpus changed since the model was trained"
    )
    # equal up to float rounding (a BLAS on another CPU may sum in another order)
    assert _leaves(json.loads(json.dumps(metrics))) == pytest.approx(
        _leaves(manifest.metrics), rel=1e-6
    )
    assert retrained.thresholds == pytest.approx(manifest.thresholds, rel=1e-6)


def _leaves(tree, prefix: str = "") -> dict[str, float]:
    """{"test.flag.f1": 0.89, ...}: nested metrics as one flat dict of numbers."""
    if isinstance(tree, dict):
        return {
            k: v for key, sub in tree.items() for k, v in _leaves(sub, f"{prefix}.{key}").items()
        }
    if isinstance(tree, list):
        return {
            k: v for i, sub in enumerate(tree) for k, v in _leaves(sub, f"{prefix}[{i}]").items()
        }
    return {prefix: float(tree)}


@pytest.mark.parametrize(
    ("text", "author", "flag"),
    [
        (
            "Camat Sukamaju ikut naik panggung kampanye paslon 02 dan pose dua jari bareng tim sukses.",
            None,
            True,
        ),
        (
            "Kepala desa kami ikut kampanye paslon 02 dan pose dua jari bareng tim sukses.",
            None,
            False,
        ),
        (
            "ASN dilarang ikut kampanye, memberi like atau pose jari paslon; pelanggar dikenai sanksi.",
            None,
            False,
        ),
        (
            "Ayo semua coblos nomor 2, pemimpin yang merakyat! #Menang2",
            "Guru SDN 4 Sleman | PNS",
            True,
        ),
        (
            "Ayo semua coblos nomor 2, pemimpin yang merakyat! #Menang2",
            "Pedagang pasar | Ayah dua anak",
            False,
        ),
        (
            "Hari ini rapat persiapan logistik TPS di kantor kecamatan bersama PPK.",
            "ASN Pemkab Klaten",
            False,
        ),
    ],
)
def test_hard_cases(shipped, text: str, author: str | None, flag: bool) -> None:
    assert shipped.predict([text], [author])[0].flag is flag


def test_evaluate_command_prints_the_cards_figures() -> None:
    from typer.testing import CliRunner

    from netral_nlp.cli import app

    result = CliRunner().invoke(
        app,
        ["evaluate", "--model", str(SHIPPED), "--data", str(CORPUS), "--split", "test", "--json"],
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    card = Manifest.read(SHIPPED).metrics["test"]
    assert printed["flag"] == card["flag"]
    assert printed["category_macro_f1"] == card["category_macro_f1"]
    assert printed["confusion"] == card["confusion"]
