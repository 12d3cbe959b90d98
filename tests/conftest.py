"""Shared fixtures: valid annotation items and a writer for small .jsonl files."""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


def _distinct_text(seed: int) -> str:
    """Random-letter words: two such texts share almost no 5-char shingles."""
    rng = random.Random(seed)
    return " ".join("".join(rng.choices(string.ascii_lowercase, k=6)) for _ in range(12))


@pytest.fixture
def make_item() -> Callable[..., dict[str, Any]]:
    """Factory of valid, mutually distinct items: ``make_item(flag=True, ...)``.

    A flagged item gets partisan, asn and one category unless given.
    """
    counter = iter(range(1, 10_000))

    def make(**overrides: Any) -> dict[str, Any]:
        k = next(counter)
        flag = overrides.get("flag", False)
        item = {
            "id": f"t-{k:04d}",
            "text": _distinct_text(k),
            "source_type": "post",
            "author_context": None,
            "partisan": flag,
            "asn": flag,
            "flag": flag,
            "categories": ["kampanye_medsos"] if flag else [],
        }
        item.update(overrides)
        return item

    return make


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[[str, list[Any]], Path]:
    """Write rows to ``tmp_path/name``: dicts as JSON lines, str and bytes as raw lines."""

    def write(name: str, rows: list[Any]) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = []
        for row in rows:
            if isinstance(row, bytes):
                lines.append(row)
            elif isinstance(row, str):
                lines.append(row.encode("utf-8"))
            else:
                lines.append(json.dumps(row, ensure_ascii=False).encode("utf-8"))
        path.write_bytes(b"\n".join(lines) + b"\n")
        return path

    return write


FIXTURES = Path(__file__).parent / "fixtures"
MINI_CORPUS = FIXTURES / "mini_corpus.jsonl"


@pytest.fixture(scope="session")
def mini_corpus() -> Path:
    """40 hand-written items with train/dev/test splits (all label kinds present)."""
    return MINI_CORPUS


@pytest.fixture(scope="session")
def mini_baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory of a baseline trained on the mini corpus (a few seconds, once per session)."""
    from netral_nlp.train import BaselineTrainConfig, train_baseline

    out = tmp_path_factory.mktemp("models") / "mini-baseline"
    config = BaselineTrainConfig(data=MINI_CORPUS, out=out, name="mini-baseline", c_grid=(4.0,))
    train_baseline(config, progress=lambda _msg: None)
    return out


# --------------------------------------------------------------------------- batch scoring

_PARTISAN_POSTS = (
    "camat ikut kampanye paslon nomor dua di lapangan",
    "ASN pose dua jari bersama caleg partai saat apel",
    "kepala dinas ajak warga pilih calon bupati nomor satu",
    "lurah jadi tim sukses relawan paslon gubernur",
)
_EVERYDAY_POSTS = (
    "macet parah di jalan pulang kerja sore ini",
    "apel pagi lanjut rapat anggaran triwulan empat",
    "hujan deras bikin banjir di kampung sebelah",
    "resep rendang padang enak sekali buat lebaran",
)


def feed_text(k: int) -> str:
    """A short post: even ``k`` partisan, odd ``k`` everyday; distinct for each ``k``."""
    posts = _PARTISAN_POSTS if k % 2 == 0 else _EVERYDAY_POSTS
    return f"{posts[(k // 2) % len(posts)]} {k}"


@pytest.fixture
def feed_rows() -> Callable[..., list[dict[str, Any]]]:
    """``feed_rows(n, start=0)``: ``n`` input rows with ids ``r-<k>`` and synthetic posts."""

    def make(n: int, start: int = 0) -> list[dict[str, Any]]:
        return [{"id": f"r-{k}", "text": feed_text(k)} for k in range(start, start + n)]

    return make


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny baseline: fitted in about a second on 80 synthetic posts (not the real
    corpus); it flags the partisan ones, so scored files have flagged and unflagged rows."""
    from types import SimpleNamespace

    from netral_nlp.baseline import BaselineConfig
    from netral_nlp.features import FeatureConfig
    from netral_nlp.train import fit_baseline

    items = [
        SimpleNamespace(
            text=feed_text(k), flag=k % 2 == 0, categories=["kampanye_medsos"] if k % 2 == 0 else []
        )
        for k in range(80)
    ]
    config = BaselineConfig(features=FeatureConfig(), calibration_folds=2)
    directory = tmp_path_factory.mktemp("models") / "tiny"
    fit_baseline(items, config, name="tiny", version="0.0.1").save(directory)
    return directory


@pytest.fixture(scope="session")
def tiny_transformer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The tiny transformer: a hidden-64 BERT fine-tuned once per session on a synthetic
    corpus (about 10 s on 2 cores). Yields config, clf, metrics, items and dir."""
    torch = pytest.importorskip("torch")
    from tiny_bert import build_tiny_bert, write_corpus

    from netral_nlp import evaluate
    from netral_nlp.data import read_annotations
    from netral_nlp.transformer_train import TransformerTrainConfig, train_transformer

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a hidden-64 model gains nothing from threads, and loses under load
    work = tmp_path_factory.mktemp("tiny")
    corpus = write_corpus(work / "corpus" / "items.jsonl", n_train=200, n_dev=60, n_test=40)
    items = read_annotations(corpus)
    base = build_tiny_bert(work / "base", [i.text for i in items if i.split == "train"])
    config = TransformerTrainConfig(
        data=corpus.parent, out=work / "model", name="tiny", base=str(base), epochs=12, learning_rate=2e-3,
        batch_size=16, max_length=64, seed=13, log_steps=50, patience=4,
    )  # fmt: skip
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(evaluate, "N_BOOTSTRAP", 20)  # the intervals are not under test
        clf, metrics = train_transformer(config, progress=lambda m: None)
    yield {"config": config, "clf": clf, "metrics": metrics, "items": items, "dir": config.out}
    torch.set_num_threads(threads)
