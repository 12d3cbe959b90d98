"""What is particular to the baseline: training on the corpus (manifest, determinism,
splits), its evidence and threshold tuning; the shared contract is test_classifier_contract."""

import json
from pathlib import Path

import numpy as np
import pytest

from netral_nlp import CATEGORY_NAMES, load_model
from netral_nlp.baseline import WEIGHTS_FILE
from netral_nlp.prediction import HEADS
from netral_nlp.train import BaselineTrainConfig, train_baseline

TEXTS = [
    "Camat Sukamaju hadir di kampanye akbar paslon 02 sambil pose dua jari.",
    "Harga cabai naik lagi di pasar pagi ini.",
    "ASN dilarang ikut kampanye, kata sekda dalam sosialisasi netralitas.",
    "gas pol paslon 3 🤟 #MenangBersama",
]


def test_flagged_item_gets_evidence_from_its_text(mini_baseline: Path) -> None:
    clf = load_model(mini_baseline)
    p = clf.predict([TEXTS[0]])[0]
    assert p.flag
    assert p.evidence and all(ev in TEXTS[0] for ev in p.evidence)


def test_manifest_describes_the_model(mini_baseline: Path) -> None:
    manifest = json.loads((mini_baseline / "manifest.json").read_text())
    assert manifest["kind"] == "baseline"
    assert manifest["categories"] == list(CATEGORY_NAMES)
    assert set(manifest["thresholds"]) == set(HEADS)
    assert len(manifest["data_hash"]) == 64
    assert manifest["preprocess_version"] and manifest["schema_version"]
    assert "test" in manifest["metrics"]


def test_training_is_deterministic(mini_corpus: Path, mini_baseline: Path, tmp_path: Path) -> None:
    config = BaselineTrainConfig(
        data=mini_corpus, out=tmp_path / "again", name="mini-baseline", c_grid=(4.0,)
    )
    train_baseline(config, progress=lambda _m: None)
    first = json.loads((mini_baseline / "manifest.json").read_text())
    second = json.loads((tmp_path / "again" / "manifest.json").read_text())
    assert first["metrics"] == second["metrics"] and first["thresholds"] == second["thresholds"]
    with (
        np.load(mini_baseline / WEIGHTS_FILE) as a,
        np.load(tmp_path / "again" / WEIGHTS_FILE) as b,
    ):
        assert set(a.files) == set(b.files)
        for key in a.files:
            assert np.array_equal(a[key], b[key]), key


def test_training_needs_splits(tmp_path: Path, make_item, write_jsonl) -> None:
    path = write_jsonl("nosplit.jsonl", [make_item(), make_item(flag=True)])
    with pytest.raises(ValueError, match="netral data split"):
        train_baseline(BaselineTrainConfig(data=path, out=tmp_path / "m"), progress=lambda _m: None)


def test_best_threshold_maximises_f1() -> None:
    from netral_nlp.evaluate import _prf, best_threshold

    rng = np.random.default_rng(0)
    for _ in range(100):
        n = int(rng.integers(5, 60))
        y, s = rng.integers(0, 2, n), np.round(rng.random(n), 2)
        if y.sum() == 0:
            continue
        t = best_threshold(y, s)
        best = max(_prf(y, (s >= c).astype(int))["f1"] for c in np.unique(s))
        assert _prf(y, (s >= t).astype(int))["f1"] == pytest.approx(best)


def test_sentence_labels_follow_rationales_then_signals() -> None:
    from netral_nlp.baseline import sentence_labels
    from netral_nlp.features import make_doc

    flagged = "Bawaslu memanggil pejabat. Camat ikut kampanye paslon 2. Kajian selesai."
    act = flagged.index("ikut kampanye")
    docs = [make_doc(flagged), make_doc(flagged), make_doc("Kades ikut kampanye paslon 2.")]
    offsets = np.array([0, 3, 6, 7])
    y = sentence_labels(
        docs,
        np.array([1, 1, 0]),
        [[{"start": act, "end": act + 13, "role": "act"}], None, None],
        offsets,
    )
    # gold act sentence positive, others left out; fallback: the ASN-act link; negatives 0
    assert y.tolist() == [-1, 1, -1, -1, 1, -1, 0]


def test_synthetic_neutral_texts_are_deterministic_and_long() -> None:
    from netral_nlp.baseline import neutral_texts
    from netral_nlp.features import make_doc

    docs = [
        make_doc("Hujan deras di pasar pagi ini. Harga cabai naik."),
        make_doc("Camat kampanye."),
    ]
    a = neutral_texts(docs, np.array([0, 1]), 5.0, seed=1)
    assert a == neutral_texts(docs, np.array([0, 1]), 5.0, seed=1)
    assert len(a) == 10 and all("Camat" not in t for t in a)
    assert max(len(t.split()) for t in a) >= 50


def test_sentence_ngrams_are_crossed_with_who_acts() -> None:
    """The same campaign words get their own slots when an ASN says or does them and when
    a kepala desa does; a sentence with no actor keeps the plain n-grams only."""
    from netral_nlp.features import SentenceConfig, SentenceFeaturizer, make_doc

    words = "mengajak mencoblos paslon nomor 2 di balai pertemuan."
    docs = [make_doc(f"{who} {words}") for who in ("Camat Sukamaju", "Kepala desa Sukamaju")]
    docs.append(make_doc(f"Spanduk {words}"))

    def columns(cross: bool) -> list[set[int]]:
        featurizer = SentenceFeaturizer(SentenceConfig(actor_cross=cross)).fit(docs * 2)
        x, _ = featurizer.transform(docs)
        n_grams = 1 << featurizer.config.bits
        return [{c for c in x[i].indices if c < n_grams} for i in range(x.shape[0])]

    asn, village_head, nobody = columns(cross=True)
    plain = columns(cross=False)
    assert plain[0] < asn and plain[1] < village_head and plain[2] == nobody
    assert (asn - plain[0]).isdisjoint(village_head - plain[1])
    assert len(asn - plain[0]) >= len(words.split())
