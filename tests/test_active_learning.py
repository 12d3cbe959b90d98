"""`netral select`: uncertainty first, no near-duplicates in a batch, the pool when k is large."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netral_nlp.active_learning import NEAR_DUP_THRESHOLD, select
from netral_nlp.cli import app
from netral_nlp.data import jaccard, shingles

THRESHOLD = 0.4


def _words(seed: int, n: int = 14) -> str:
    rng = random.Random(seed)
    return " ".join("".join(rng.choices(string.ascii_lowercase, k=6)) for _ in range(n))


def _pool() -> tuple[list[str], list[float]]:
    """40 distinct texts plus 10 reposts of text 0; the reposts sit right at the threshold."""
    texts = [_words(k) for k in range(40)]
    scores = [round(random.Random(100 + k).random(), 3) for k in range(40)]
    for k in range(10):
        texts.append(texts[0] + f" repost {k}")
        scores.append(THRESHOLD + 0.001 * (k + 1))
    scores[0] = THRESHOLD  # the original is the most uncertain of all
    return texts, scores


def _max_similarity(texts: list[str]) -> float:
    sets = [shingles(t) for t in texts]
    return max(jaccard(a, b) for i, a in enumerate(sets) for b in sets[i + 1 :])


def test_uncertainty_puts_the_closest_to_the_threshold_first() -> None:
    texts, scores = _pool()
    picks = select(texts, scores, THRESHOLD, k=12, strategy="uncertainty")
    distances = [abs(scores[p.index] - THRESHOLD) for p in picks]
    assert distances == sorted(distances)
    assert distances[-1] <= min(
        abs(s - THRESHOLD) for i, s in enumerate(scores) if i not in {p.index for p in picks}
    )
    assert picks[0].index == 0 and "from the flag threshold" in picks[0].reason


@pytest.mark.parametrize("strategy", ["diversity", "mixed"])
def test_no_two_near_duplicates_in_one_batch(strategy: str) -> None:
    texts, scores = _pool()
    picks = select(texts, scores, THRESHOLD, k=8, strategy=strategy)
    assert len(picks) == 8
    chosen = [texts[p.index] for p in picks]
    assert _max_similarity(chosen) < NEAR_DUP_THRESHOLD
    assert all(p.cluster is not None for p in picks)


def test_mixed_keeps_the_most_uncertain_and_orders_by_distance() -> None:
    texts, scores = _pool()
    picks = select(texts, scores, THRESHOLD, k=5, strategy="mixed")
    assert picks[0].index == 0  # the original, not one of its reposts
    assert [p.distance for p in picks] == sorted(p.distance for p in picks)


@pytest.mark.parametrize("strategy", ["uncertainty", "diversity", "mixed"])
def test_k_larger_than_the_pool_returns_the_pool(strategy: str) -> None:
    texts = [_words(k) for k in range(6)]
    scores = [0.1, 0.9, 0.5, 0.3, 0.7, 0.45]
    picks = select(texts, scores, THRESHOLD, k=50, strategy=strategy)
    assert sorted(p.index for p in picks) == list(range(6))
    assert [p.rank for p in picks] == list(range(1, 7))


def _scored_files(tmp_path: Path) -> tuple[Path, Path]:
    texts, scores = _pool()
    scored = tmp_path / "scored.jsonl"
    feed = tmp_path / "feed.jsonl"
    scored.write_text(
        "".join(
            json.dumps({"id": f"x{k}", "score": s, "flag": s >= THRESHOLD, "model": "m@1"}) + "\n"
            for k, s in enumerate(scores)
        ),
        encoding="utf-8",
    )
    feed.write_text(
        "".join(json.dumps({"id": f"x{k}", "text": t}) + "\n" for k, t in enumerate(texts)),
        encoding="utf-8",
    )
    return scored, feed


def test_cli_joins_texts_and_says_why(tmp_path: Path) -> None:
    scored, feed = _scored_files(tmp_path)
    out = tmp_path / "batch.jsonl"
    args = ["select", str(scored), "--input", str(feed), "--k", "5", "-o", str(out)]
    result = CliRunner().invoke(app, [*args, "--threshold", str(THRESHOLD)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 5 and rows[0]["id"] == "x0" and rows[0]["text"]
    why = rows[0]["selection"]
    assert why["strategy"] == "mixed" and why["threshold"] == THRESHOLD
    assert why["distance"] == 0.0 and isinstance(why["cluster"], int) and why["reason"]


def test_cli_without_texts_is_one_error_line(tmp_path: Path) -> None:
    scored, _ = _scored_files(tmp_path)
    result = CliRunner().invoke(app, ["select", str(scored), "-o", str(tmp_path / "b.jsonl")])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"error: {scored}: row 1 (id 'x0'): text: missing; pass --input with the scored input file"
    )


def test_threshold_comes_from_the_model_that_scored_the_rows(tmp_path: Path) -> None:
    from netral_nlp.manifest import Manifest
    from netral_nlp.model import default_model_dir

    scored, feed = _scored_files(tmp_path)  # rows name model "m@1", not the shipped one
    out = tmp_path / "batch.jsonl"
    result = CliRunner().invoke(app, ["select", str(scored), "--input", str(feed), "-o", str(out)])
    assert result.exit_code == 2
    assert "the rows were scored by m@1, not by netral-baseline@" in result.output
    shipped = Manifest.read(default_model_dir())
    text = scored.read_text(encoding="utf-8").replace('"m@1"', json.dumps(shipped.model_id))
    scored.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["select", str(scored), "--input", str(feed), "-o", str(out)])
    assert result.exit_code == 0, result.output
    threshold = json.loads(out.read_text(encoding="utf-8").splitlines()[0])["selection"][
        "threshold"
    ]
    assert threshold == shipped.thresholds["flag"]


def test_select_reads_a_sharded_run_directory(tmp_path: Path) -> None:
    texts, _ = _pool()
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        "".join(json.dumps({"id": f"x{k}", "text": t}) + "\n" for k, t in enumerate(texts[:8])),
        encoding="utf-8",
    )
    run = tmp_path / "run"
    score = ["score", str(feed), "-o", str(run), "--shard-rows", "3", "--workers", "1", "-q"]
    result = CliRunner().invoke(app, score)
    assert result.exit_code == 0, result.output
    out = tmp_path / "batch.jsonl"
    args = ["select", str(run), "--input", str(feed), "--k", "20", "--strategy", "uncertainty"]
    result = CliRunner().invoke(app, [*args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["id"] for r in rows) == [f"x{k}" for k in range(8)]


def test_reposts_fill_one_slot_and_fewer_distinct_texts_than_k_is_quiet(
    recwarn: pytest.WarningsRecorder,
) -> None:
    texts = [_words(1)] * 10 + [_words(2)] * 2
    picks = select(texts, [THRESHOLD] * 12, THRESHOLD, k=5, strategy="diversity")
    assert sorted(p.index for p in picks) == [0, 10]
    assert not [w for w in recwarn if "distinct clusters" in str(w.message)]
