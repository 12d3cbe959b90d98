"""The notebook API (netral_nlp.research) and the evaluation report it shares with
`netral evaluate --report`: every section, images that decode, escaped texts, a paired
bootstrap that finds no difference between a model and itself."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from typer.testing import CliRunner

pytest.importorskip("matplotlib")
pytest.importorskip("pandas")

from netral_nlp import research as nr
from netral_nlp.cli import app
from netral_nlp.eval_report import SECTIONS, EvaluationReport
from netral_nlp.labels import CATEGORY_NAMES
from netral_nlp.prediction import Prediction, Span

XSS = "<script>alert('x')</script> hujan deras di kampung sebelah sejak pagi"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def report_data(tmp_path_factory: pytest.TempPathFactory, mini_corpus: Path) -> Path:
    """The mini corpus plus a flagged test item whose text holds a <script> and nothing
    partisan: the model misses it, so it is among the worst errors."""
    rows = [json.loads(line) for line in mini_corpus.read_text(encoding="utf-8").splitlines()]
    rows.append(
        {
            "id": "xss-1",
            "text": XSS,
            "source_type": "post",
            "author_context": None,
            "partisan": True,
            "asn": True,
            "flag": True,
            "categories": ["kampanye_medsos"],
            "split": "test",
            "tags": ["probe"],
        }
    )
    path = tmp_path_factory.mktemp("report") / "items.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _decodes_as_png(data: bytes) -> bool:
    import matplotlib.image

    return data.startswith(PNG_MAGIC) and matplotlib.image.imread(io.BytesIO(data)).ndim == 3


def test_html_report_has_every_section_decodable_images_and_escaped_text(
    mini_baseline: Path, report_data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            "--model",
            str(mini_baseline),
            "--data",
            str(report_data),
            "--split",
            "test",
            "--report",
            str(out),
            "--report-md",
            str(tmp_path / "md"),
        ],
    )
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    for key, title in SECTIONS:
        assert f"<section id='{key}'><h2>{title}</h2>" in page
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    assert len(images) == 4
    assert all(_decodes_as_png(base64.b64decode(i)) for i in images)
    assert "<script>" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "xss-1" in page.split("<section id='errors'>")[1]  # the missed item is listed
    assert ">probe<" in page  # its tag is a slice
    md = (tmp_path / "md" / "report.md").read_text(encoding="utf-8")
    for _, title in SECTIONS:
        assert f"## {title}" in md
    for name in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md):
        assert _decodes_as_png((tmp_path / "md" / name).read_bytes())


def _report(texts: list[str], spans: list[list[Span]]) -> EvaluationReport:
    items = [
        SimpleNamespace(
            id=f"i{k}", text=t, flag=True, categories=[], source_type="post", tags=[], split=None
        )
        for k, t in enumerate(texts)
    ]
    preds = [
        Prediction(
            score=0.1,
            flag=False,
            categories=[],
            category_scores=dict.fromkeys(CATEGORY_NAMES, 0.0),
            evidence=[],
            spans=s,
        )
        for s in spans
    ]
    return EvaluationReport(items=items, predictions=preds, thresholds={"flag": 0.5}, resamples=20)


def test_evidence_is_highlighted_inside_escaped_text() -> None:
    text = "a <b>camat</b> & paslon"
    report = _report([text], [[Span(2, 5, "asn_role", "<b>"), Span(17, 23, "candidate", "paslon")]])
    assert (
        report.highlighted(0) == "a <mark>&lt;b&gt;</mark>camat&lt;/b&gt; &amp; <mark>paslon</mark>"
    )
    assert report.worst_errors() == [("FN", 0)]


def test_to_frame_tables_and_intervals(mini_baseline: Path, report_data: Path) -> None:
    report = nr.evaluate(mini_baseline, report_data, "test", resamples=50)
    frame = report.to_frame()
    assert list(frame.index) == ["flag", *CATEGORY_NAMES]
    assert (frame["f1_lo"] <= frame["f1"] + 1e-9).all() and (
        frame["f1"] <= frame["f1_hi"] + 1e-9
    ).all()
    assert frame.loc["flag", "f1"] == pytest.approx(report.metrics["flag"]["f1"])
    slices = report.to_frame("slices")
    assert {"source_type", "tag"} <= set(slices["slice"])
    assert len(report.to_frame("predictions")) == report.metrics["n"]
    with pytest.raises(ValueError, match="unknown table"):
        report.to_frame("nope")


def test_a_model_compared_with_itself_differs_by_exactly_zero(
    mini_baseline: Path, report_data: Path
) -> None:
    frame = nr.compare(mini_baseline, mini_baseline, report_data, "test", resamples=200).to_frame()
    assert (frame["difference"] == 0).all()
    assert (frame["ci_lo"] <= 0).all() and (frame["ci_hi"] >= 0).all()
    assert (frame["p"] == 1.0).all()


def test_paired_bootstrap_sees_a_real_difference() -> None:
    gold = np.zeros((200, 1 + len(CATEGORY_NAMES)), dtype=int)
    gold[:100, 0] = gold[:100, 1] = 1
    worse = np.zeros_like(gold)
    worse[:30, 0] = worse[:30, 1] = 1
    rows = nr.paired_bootstrap(gold, gold.copy(), worse, resamples=300)
    flag = rows[0]
    assert flag["difference"] == pytest.approx(1.0 - 2 * 30 / 130)
    assert flag["ci_lo"] > 0 and flag["p"] < 0.01


def test_cross_validation_fits_every_fold(mini_corpus: Path) -> None:
    frame = nr.cross_validate(mini_corpus, folds=2).to_frame()
    assert list(frame.index) == [1, 2, "mean", "std"]
    assert frame.loc[[1, 2], "n_test"].sum() == 40
    with pytest.raises(ValueError, match="too few"):
        nr.cross_validate(mini_corpus, folds=50)


def test_score_in_memory_matches_the_model(tiny_model: Path) -> None:
    from netral_nlp import load_model

    model = load_model(tiny_model)
    rows = nr.score(model, ["camat ikut kampanye paslon nomor dua", {"id": 7, "text": "hujan"}])
    assert [r["id"] for r in rows] == ["line-1", 7]
    assert rows[0]["score"] == pytest.approx(
        model.predict(["camat ikut kampanye paslon nomor dua"])[0].score, abs=1e-6
    )
    assert list(nr.score_frame(model, ["hujan"])["id"]) == ["line-1"]


def test_evaluate_refuses_a_split_the_items_lack(mini_baseline: Path, tmp_path: Path) -> None:
    row = json.loads(
        Path(__file__).parent.joinpath("fixtures", "mini_corpus.jsonl").read_text().splitlines()[0]
    )
    row.pop("split")
    path = tmp_path / "nosplit.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no split field"):
        nr.evaluate(mini_baseline, path, "test")
    assert nr.evaluate(mini_baseline, path).metrics["n"] == 1
