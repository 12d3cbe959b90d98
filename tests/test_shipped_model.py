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
        # the long-text shift as recorded: it may come from real texts kept outside the
        # repository (--threshold-data), which this test must not need
        long_shift=manifest.config["long_shift"],
        dev_long_shift=manifest.config.get("dev_long_shift"),
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


# Everyday Indonesian words and a few that brush against politics without an act.
_NEUTRAL_WORDS = (
    "macet hujan banjir makan siang pagi kantor rapat anggaran laporan jalan pasar harga cabai "
    "beras sekolah anak libur lebaran mudik kopi warung motor bensin masjid arisan keluarga "
    "teman kemarin besok semoga terima kasih selamat panen sawah kebun sapi nasi goreng bakso "
    "deras jembatan puskesmas posyandu imunisasi yang di ke dari dan ini itu untuk dengan "
    "sudah belum akan juga ada tidak kita saya kami mereka sangat lagi mau bisa harus warga "
    "kecamatan dinas pegawai guru pemilu jadwal"
).split()


def _neutral_text(words: int, seed: int, sentences: bool) -> str:
    import random

    rng = random.Random(seed)
    bag = [rng.choice(_NEUTRAL_WORDS) for _ in range(words)]
    if not sentences:
        return " ".join(bag)
    return " ".join(" ".join(bag[i : i + 12]).capitalize() + "." for i in range(0, words, 12))


@pytest.mark.parametrize("words", [50, 200, 1000, 5000])
@pytest.mark.parametrize("sentences", [True, False])
def test_neutral_text_of_any_length_stays_unflagged(shipped, words: int, sentences: bool) -> None:
    """Issue 9 item 7: before, every bag of 200 or more neutral words was flagged."""
    for seed in range(3):
        assert not shipped.predict([_neutral_text(words, seed, sentences)])[0].flag


def test_repeated_and_joined_neutral_texts_stay_unflagged(shipped) -> None:
    """Before: a neutral sentence repeated 100 times scored 0.90, six joined news items 0.94."""
    from netral_nlp.data import read_annotations

    repeated = "Harga cabai di pasar naik lagi pagi ini. " * 100
    assert not shipped.predict([repeated])[0].flag
    neutral = [
        i.text
        for i in read_annotations(CORPUS)
        if not i.flag and i.split == "test" and len(i.text) > 300
    ][:6]
    assert len(neutral) == 6
    single = max(p.score for p in shipped.predict(neutral))
    joined = shipped.predict(["\n\n".join(neutral), "\n\n".join(neutral * 5)])
    assert not any(p.flag for p in joined)
    assert max(p.score for p in joined) <= max(single, shipped.manifest.thresholds["flag"])


def test_evidence_is_the_act_sentence_with_its_actor_and_act(shipped) -> None:
    text = (
        "Bawaslu Kabupaten Maju memanggil sejumlah pejabat untuk klarifikasi pekan ini. "
        "Menurut Ketua Bawaslu, laporan warga masuk sejak awal bulan. "
        "Camat Sukamaju diduga ikut berkampanye untuk paslon nomor urut 2 di lapangan desa. "
        "Rekomendasi akan diteruskan ke BKN setelah kajian selesai."
    )
    p = shipped.predict([text])[0]
    assert p.spans and p.spans[0].kind == "actor_act"
    assert "Camat Sukamaju" in p.spans[0].text and "berkampanye" in p.spans[0].text
    kinds = {s.kind for s in p.spans[1:]}
    assert {"asn_role", "partisan_act"} <= kinds


def test_repeating_a_text_does_not_raise_its_score(shipped) -> None:
    """Before: a text with a weak ASN act repeated five times crossed into the long-text
    calibration and scored 0.46 instead of 0.22."""
    text = "Camat Sukamaju hadir di acara warga. Harga cabai naik, kata pedagang. "
    once = shipped.predict([text])[0].score
    for n in (2, 5, 50, 300):
        assert shipped.predict([text * n])[0].score <= once + 0.05
