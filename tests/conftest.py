"""Shared fixtures: valid annotation items and a writer for small .jsonl files."""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable
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
    from netral_nlp.train import TrainConfig, train_baseline

    out = tmp_path_factory.mktemp("models") / "mini-baseline"
    config = TrainConfig(data=MINI_CORPUS, out=out, name="mini-baseline", c_grid=(4.0,))
    train_baseline(config, progress=lambda _msg: None)
    return out
