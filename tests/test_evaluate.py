"""`netral evaluate` on any labelled file: no split needed, figures for unambiguous items
and by source type, operating points at real prevalence, evidence overlap."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from netral_nlp.cli import app
from netral_nlp.evaluate import (
    evaluate_items,
    expected_precision,
    pr_curve,
    threshold_for_precision,
)
from netral_nlp.labels import CATEGORY_NAMES
from netral_nlp.prediction import Prediction, Span

runner = CliRunner()


def test_expected_precision_follows_prevalence():
    # TPR 0.8, FPR 0.1: at 50% prevalence 0.889, at 1% only 0.075
    assert expected_precision(0.8, 0.1, 0.5) == pytest.approx(0.8 / 0.9)
    assert expected_precision(0.8, 0.1, 0.01) == pytest.approx(0.008 / (0.008 + 0.099))
    assert expected_precision(0.0, 0.0, 0.01) is None


def test_threshold_for_precision_takes_the_most_recall():
    curve = pr_curve([1, 1, 0, 1, 0, 0], [0.9, 0.8, 0.7, 0.6, 0.3, 0.1], points=6)
    assert threshold_for_precision(curve, 1.0) == pytest.approx(0.8)
    assert threshold_for_precision(curve, 0.75) == pytest.approx(0.6)
    with pytest.raises(ValueError, match=r"no threshold reaches precision 1\.1"):
        threshold_for_precision(curve, 1.1)


class _It:
    def __init__(self, flag: bool, source_type: str) -> None:
        self.flag, self.categories, self.source_type = flag, [], source_type


def _pred(score: float, spans: list[Span] | None = None) -> Prediction:
    cats = dict.fromkeys(CATEGORY_NAMES, 0.0)
    return Prediction(score, score >= 0.5, [], cats, [], spans or [])


def test_evaluate_items_splits_by_ambiguity_and_source_and_measures_evidence(monkeypatch):
    monkeypatch.setattr("netral_nlp.evaluate.N_BOOTSTRAP", 20)
    items = [_It(True, "news"), _It(False, "news"), _It(True, "post"), _It(False, "post")]
    preds = [
        _pred(0.9, [Span(0, 5, "actor_act", "camat")]),
        _pred(0.8),
        _pred(0.7, [Span(20, 30, "actor_act", "x")]),
        _pred(0.1),
    ]
    gold = [
        [{"start": 2, "end": 4, "role": "actor"}],
        None,
        [{"start": 0, "end": 3, "role": "act"}],
        None,
    ]
    m = evaluate_items(
        items, preds, threshold=0.5, ambiguous=[False, False, False, True], rationales=gold
    )
    assert m["confusion"] == {"tp": 2, "fp": 1, "fn": 0, "tn": 1}
    assert m["unambiguous"]["n"] == 3
    assert m["by_source_type"]["post"]["n"] == 2
    assert m["operating_point"]["fpr"] == pytest.approx(0.5)
    assert m["evidence_overlap"] == {"rate": 0.5, "true_positives": 2, "hits": 1}


def test_evaluate_command_needs_no_split(tiny_model, write_jsonl, make_item, monkeypatch):
    monkeypatch.setattr("netral_nlp.evaluate.N_BOOTSTRAP", 20)
    rows = []
    for k in range(6):
        row = make_item(flag=k % 2 == 0)
        row["id"] = f"x-{k}"
        row.pop("split", None)
        row["ambiguous"] = k == 5
        rows.append(row)
    path = write_jsonl("real.jsonl", rows)
    result = runner.invoke(
        app, ["evaluate", "--model", str(tiny_model), "--data", str(path), "--json"]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["n"] == 6 and metrics["unambiguous"]["n"] == 5
    assert set(metrics["operating_point"]["expected_precision"]) == {"0.01", "0.05"}
    plain = runner.invoke(app, ["evaluate", "--model", str(tiny_model), "--data", str(path)])
    assert "expected precision at 1% prevalence" in plain.stdout
    assert "unambiguous items" in plain.stdout
    wrong = runner.invoke(
        app, ["evaluate", "--model", str(tiny_model), "--data", str(path), "--split", "dev"]
    )
    assert wrong.exit_code == 2 and "no split field" in wrong.stderr


def test_score_min_precision_uses_the_dev_curve(mini_baseline, write_jsonl, feed_rows, tmp_path):
    from netral_nlp.manifest import Manifest

    curve = Manifest.read(mini_baseline).metrics["dev_curve"]
    assert curve and all(len(point) == 3 for point in curve)
    path = write_jsonl("in.jsonl", feed_rows(6))
    out = tmp_path / "out.jsonl"
    lowest = min(p for _, p, _ in curve)
    result = runner.invoke(
        app,
        ["score", str(path), "-o", str(out), "--model", str(mini_baseline),
         "--min-precision", str(lowest), "--workers", "1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "flag threshold" in result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    t = threshold_for_precision(curve, lowest)
    assert all(r["flag"] == (r["score"] >= t) for r in rows)


def test_score_min_precision_without_a_curve_is_one_line(tiny_model, write_jsonl, feed_rows):
    path = write_jsonl("in.jsonl", feed_rows(2))
    result = runner.invoke(
        app, ["score", str(path), "--model", str(tiny_model), "--min-precision", "0.9"]
    )
    assert result.exit_code == 2
    assert "no dev curve" in result.stderr and "Traceback" not in result.output


def test_model_card_shows_the_operating_point(mini_baseline):
    card = (mini_baseline / "README.md").read_text()
    assert "## Operating point" in card and "1% prevalence" in card


def test_training_records_threshold_data(mini_corpus, tmp_path):
    """--threshold-data is read (unambiguous items only) and recorded in the manifest."""
    from netral_nlp.data import read_records
    from netral_nlp.manifest import Manifest
    from netral_nlp.train import BaselineTrainConfig, train_baseline

    rows = [
        obj | {"ambiguous": k % 5 == 0} for k, (_, _, obj) in enumerate(read_records(mini_corpus))
    ]
    ref = tmp_path / "real.jsonl"
    ref.write_text(
        "".join(json.dumps({k: v for k, v in r.items() if k != "split"}) + "\n" for r in rows)
    )
    out = tmp_path / "m"
    messages: list[str] = []
    train_baseline(
        BaselineTrainConfig(data=mini_corpus, out=out, c_grid=(4.0,), threshold_data=ref),
        progress=messages.append,
    )
    config = Manifest.read(out).config
    assert config["threshold_data"] == str(ref)
    assert config["long_shift"] == 0.0  # the mini corpus has too few long texts to move it
    assert any(f"{len(rows) - len(rows[::5])} items" in m for m in messages)


def test_a_given_long_shift_is_used_and_recorded(mini_corpus, tmp_path):
    """--long-shift reproduces a recorded model without the texts that chose the shift."""
    from netral_nlp.manifest import Manifest
    from netral_nlp.train import BaselineTrainConfig, train_baseline

    out = tmp_path / "m"
    model, _ = train_baseline(
        BaselineTrainConfig(data=mini_corpus, out=out, c_grid=(4.0,), long_shift=1.25),
        progress=lambda _m: None,
    )
    assert Manifest.read(out).config["long_shift"] == 1.25
    assert model.config.long_shift == 1.25


def test_a_recorded_pair_of_shifts_reproduces_a_refitted_model(mini_corpus, tmp_path):
    """A refitted model's shift is chosen again on the real texts; the dev thresholds were
    chosen with the first one, so reproducing it takes both."""
    from netral_nlp.manifest import Manifest
    from netral_nlp.train import BaselineTrainConfig, train_baseline

    def run(name: str, **shifts: float) -> Manifest:
        train_baseline(
            BaselineTrainConfig(data=mini_corpus, out=tmp_path / name, c_grid=(4.0,), **shifts),
            progress=lambda _m: None,
        )
        return Manifest.read(tmp_path / name)

    one = run("one", long_shift=0.0)
    two = run("two", long_shift=0.0, dev_long_shift=3.0)
    assert (two.config["long_shift"], two.config["dev_long_shift"]) == (0.0, 3.0)
    assert one.config["dev_long_shift"] == 0.0
    # the saved model scores with the final shift, whatever the dev one was
    from netral_nlp.model import load_model

    assert load_model(tmp_path / "two").config.long_shift == 0.0
    assert two.metrics["test"]["flag"]["pr_auc"] == one.metrics["test"]["flag"]["pr_auc"]


def test_a_dev_shift_needs_the_final_shift(tmp_path):
    from netral_nlp.train import BaselineTrainConfig

    with pytest.raises(ValueError, match="only read with long_shift"):
        BaselineTrainConfig(out=tmp_path / "m", dev_long_shift=1.0)
