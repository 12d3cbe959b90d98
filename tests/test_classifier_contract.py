"""The contract every model kind passes (netral_nlp.model.Classifier), run on a tiny model
of each kind fitted once per session: shapes and ranges, input order, empty and
whitespace input, save and load with identical scores, a self-describing folder."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tiny_bert import FILLER, incident

from netral_nlp import CATEGORY_NAMES, load_model
from netral_nlp.model import Classifier
from netral_nlp.prediction import HEADS, SpanKind

KINDS = ["baseline", pytest.param("transformer", marks=pytest.mark.torch)]


@pytest.fixture(params=KINDS)
def model_dir(request: pytest.FixtureRequest) -> Path:
    """The saved tiny model of each kind (conftest's session fixtures)."""
    if request.param == "baseline":
        return request.getfixturevalue("tiny_model")
    return request.getfixturevalue("tiny_transformer")["dir"]


@pytest.fixture
def clf(model_dir: Path) -> Classifier:
    return load_model(model_dir, runtime="torch")  # runtime matters to transformers only


def _kind(directory: Path) -> str:
    return json.loads((directory / "manifest.json").read_text())["kind"]


def _texts() -> list[str]:
    rng = random.Random(5)
    return [
        "camat ikut kampanye paslon nomor dua di lapangan 0",
        incident(rng, "ajakan_dukungan"),
        "Harga cabai naik lagi di pasar pagi ini.",
        " ".join(FILLER[:3]),
        "gas pol paslon 3 🤟 #MenangBersama",
        incident(rng, "kegiatan_kampanye") + " " + FILLER[0],
    ]


def _scores(predictions: list[Any]) -> np.ndarray:
    return np.array([[p.score, *p.category_scores.values()] for p in predictions])


def test_predictions_have_the_contract_shape(clf: Classifier) -> None:
    texts = _texts()
    contexts = [None, "Guru SDN 2 | PNS", None, None, "ASN Pemkab", None]
    preds = clf.predict(texts, contexts)
    assert isinstance(clf, Classifier)
    assert len(preds) == len(texts)
    kinds = {k.value for k in SpanKind}
    for text, p in zip(texts, preds, strict=True):
        assert 0.0 <= p.score <= 1.0
        assert p.flag == (p.score >= clf.manifest.thresholds.get("flag", 0.5))
        assert list(p.category_scores) == list(CATEGORY_NAMES)
        assert all(0.0 <= v <= 1.0 for v in p.category_scores.values())
        assert set(p.categories) <= set(CATEGORY_NAMES)
        assert p.flag or not p.categories
        assert all(ev in text for ev in p.evidence)
        for span in p.spans:
            assert text[span.start : span.end] == span.text and span.kind in kinds
        row = p.row("x", clf.manifest.model_id)
        assert json.loads(json.dumps(row))["model"] == clf.manifest.model_id


def test_input_order_is_kept_and_batches_equal_single_calls(clf: Classifier) -> None:
    texts = _texts()
    batch = _scores(clf.predict(texts))
    single = np.vstack([_scores(clf.predict([t])) for t in texts])
    np.testing.assert_allclose(batch, single, rtol=0, atol=1e-5)
    reversed_batch = _scores(clf.predict(texts[::-1]))
    np.testing.assert_allclose(reversed_batch[::-1], batch, rtol=0, atol=1e-5)


def test_empty_and_whitespace_input(clf: Classifier) -> None:
    assert clf.predict([]) == []
    preds = clf.predict(["", "   \n"], [None, "guru PNS"])
    assert len(preds) == 2
    for p in preds:
        assert 0.0 <= p.score <= 1.0 and set(p.category_scores) == set(HEADS[1:])
        assert p.evidence == [] and p.spans == []
    with pytest.raises(ValueError, match="author contexts"):
        clf.predict(["a", "b"], [None])


def test_save_then_load_gives_identical_scores(clf: Classifier, tmp_path: Path) -> None:
    texts = _texts()
    clf.save(tmp_path / "copy")
    again = load_model(tmp_path / "copy", runtime="torch")
    before, after = clf.predict(texts), again.predict(texts)
    np.testing.assert_allclose(_scores(after), _scores(before), rtol=0, atol=1e-7)
    assert [p.evidence for p in after] == [p.evidence for p in before]
    assert again.manifest.model_id == clf.manifest.model_id


def test_the_folder_describes_the_model(model_dir: Path) -> None:
    manifest = json.loads((model_dir / "manifest.json").read_text())
    assert manifest["kind"] == _kind(model_dir)
    assert manifest["categories"] == list(CATEGORY_NAMES)
    assert manifest["preprocess_version"] and manifest["schema_version"]
    assert manifest["files"] and all(len(d) == 64 for d in manifest["files"].values())
    assert (model_dir / "README.md").is_file()
