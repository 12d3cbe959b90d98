"""`netral score` and `netral report` end to end: exit codes, the summary, one-line
errors, sharded runs from the command line, and the printed reports."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netral_nlp.cli import app
from netral_nlp.evaluate import evaluate
from netral_nlp.labels import CATEGORY_NAMES
from netral_nlp.model import load_model
from netral_nlp.report import print_metrics

runner = CliRunner()
CONTRACT_FIELDS = {"id", "score", "flag", "categories", "category_scores", "evidence", "model"}


def netral(*args: object, input: str | bytes | None = None):
    return runner.invoke(app, [str(a) for a in args], input=input)


def test_score_writes_contract_rows_and_prints_a_summary(
    tmp_path, write_jsonl, feed_rows, tiny_model
):
    path = write_jsonl("in.jsonl", feed_rows(20))
    out = tmp_path / "out.jsonl"
    result = netral("score", path, "-o", out, "--model", tiny_model)

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [f"r-{k}" for k in range(20)]
    for row in rows:
        assert CONTRACT_FIELDS <= set(row)
        assert 0.0 <= row["score"] <= 1.0 and isinstance(row["flag"], bool)
        assert row["model"] == "tiny@0.0.1"
        assert bool(row["categories"]) == row["flag"]
    assert sum(r["flag"] for r in rows) == 10
    summary = result.stderr
    assert "20 rows read: 20 scored, 0 rejected, 10 flagged (50.0%)" in summary
    assert "rows/s" in summary
    assert all(name in summary for name in CATEGORY_NAMES)
    assert "Kampanye di media sosial" in summary
    assert not Path(f"{out}.errors.jsonl").exists()


def test_stdin_to_stdout_quiet(write_jsonl, feed_rows, tiny_model):
    lines = "".join(json.dumps(r) + "\n" for r in feed_rows(3))
    result = netral("score", "-", "--model", tiny_model, "--quiet", input=lines)
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["r-0", "r-1", "r-2"]
    assert result.stderr == ""


def test_bad_rows_still_exit_0_and_name_the_error_file(
    tmp_path, write_jsonl, feed_rows, tiny_model
):
    path = write_jsonl("in.jsonl", [*feed_rows(2), "{oops", {"id": "e", "text": ""}])
    out = tmp_path / "out.jsonl"
    result = netral("score", path, "-o", out, "--model", tiny_model)
    assert result.exit_code == 0, result.output
    assert "4 rows read: 2 scored, 2 rejected" in result.stderr
    assert f"2 rows rejected; see {out}.errors.jsonl" in result.stderr


def test_field_mapping_options(tmp_path, feed_rows, tiny_model):
    path = tmp_path / "in.csv"
    path.write_text("uid,body,bio\n7,camat ikut kampanye paslon nomor dua,PNS\n8,hujan deras,\n")
    result = netral(
        "score", path, "--model", tiny_model, "-q",
        "--text-field", "body", "--id-field", "uid", "--author-field", "bio",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["7", "8"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.jsonl", b"", "has no rows"),
        ("binary.jsonl", bytes(range(256)) * 40, "looks binary, not JSON Lines/CSV/Parquet"),
        ("nocol.csv", b"id,body\n1,x\n", "has no 'text' column (columns: id, body)"),
        ("feed.txt", b"x\n", "unknown input format"),
        ("missing.jsonl", None, "no such file"),
    ],
)
def test_whole_file_errors_exit_2_with_one_error_line(tmp_path, tiny_model, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = netral("score", path, "-o", tmp_path / "out.jsonl", "--model", tiny_model)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}") and result.stderr.count("\n") == 1
    assert message in result.stderr
    assert not (tmp_path / "out.jsonl").exists()


def test_a_10_mb_row_is_rejected_and_nothing_scored_exits_2(tmp_path, write_jsonl, tiny_model):
    path = write_jsonl("in.jsonl", [{"id": "huge", "text": "ASN " * 2_500_000}])
    out = tmp_path / "out.jsonl"
    result = netral("score", path, "-o", out, "--model", tiny_model)
    assert result.exit_code == 2
    assert f"error: no row could be scored: 1 rejected, see {out}.errors.jsonl" in result.stderr
    assert "1 rows read: 0 scored, 1 rejected" in result.stderr
    assert "Traceback" not in result.output


def test_missing_model_is_one_error_line(tmp_path, write_jsonl, feed_rows):
    path = write_jsonl("in.jsonl", feed_rows(2))
    result = netral("score", path, "--model", tmp_path / "nope")
    assert result.exit_code == 2
    assert result.stderr == f"error: {tmp_path / 'nope'}: model directory not found\n"


def test_sharded_run_from_the_command_line(tmp_path, write_jsonl, feed_rows, tiny_model):
    path = write_jsonl("in.jsonl", feed_rows(30))
    run = tmp_path / "run"
    first = netral(
        "score", path, "-o", run, "--model", tiny_model, "--batch-size", "10", "--workers", "1"
    )
    assert first.exit_code == 0, first.output
    assert (run / "manifest.json").exists() and (run / "part-00000.jsonl").exists()

    again = netral("score", path, "-o", run, "--model", tiny_model)
    assert again.exit_code == 2
    assert "already holds a scoring run" in again.stderr and "--resume" in again.stderr

    resumed = netral("score", path, "-o", run, "--model", tiny_model, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert "30 rows read: 30 scored" in resumed.stderr

    report = netral("report", run)
    assert report.exit_code == 0, report.output
    assert "30 rows, 15 flagged (50.0%)" in report.stdout


def test_a_second_scorer_process_is_refused(tmp_path, feed_rows, tiny_model):
    run = tmp_path / "run"
    first = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "netral_nlp.cli",
            "score",
            "-",
            "-o",
            str(run),
            "--model",
            str(tiny_model),
            "-q",
        ],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert first.stdin is not None
    first.stdin.write(b"".join(json.dumps(r).encode() + b"\n" for r in feed_rows(5)))
    first.stdin.flush()  # stdin stays open: the first scorer holds the directory
    deadline = time.monotonic() + 30
    while not (run / "manifest.json").exists():
        assert first.poll() is None and time.monotonic() < deadline, first.stderr.read().decode()
        time.sleep(0.02)

    second = netral("score", "-", "-o", run, "--model", tiny_model, input="{}\n")
    assert second.exit_code == 2
    assert "another `netral score` is writing to this directory" in second.stderr

    first.stdin.close()
    assert first.wait(timeout=30) == 0, first.stderr.read().decode()


# --------------------------------------------------------------------------- report


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_report_of_a_scored_file(tmp_path, write_jsonl, feed_rows, tiny_model, suffix):
    path = write_jsonl("in.jsonl", feed_rows(12))
    out = tmp_path / f"scored{suffix}"
    assert netral("score", path, "-o", out, "--model", tiny_model, "-q").exit_code == 0

    result = netral("report", out, "--top", "3")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "12 rows, 6 flagged (50.0%); model tiny@0.0.1" in text
    assert "Kampanye di media sosial (kampanye_medsos)" in text
    assert "Top 3 flagged items by score" in text
    assert text.count("  score ") == 3 and "»" in text
    assert "\x1b[" not in text  # plain text when not a terminal
    english = netral("report", out, "--lang", "en")
    assert "Campaigning on social media" in english.stdout


def test_report_shows_text_when_the_file_has_it(tmp_path, write_jsonl):
    row = {
        "id": "x[1]",
        "score": 0.9,
        "flag": True,
        "categories": ["ajakan_dukungan"],
        "evidence": ["ajak [bold]pilih[/bold]"],
        "text": "Pak camat   ajak warga pilih " + "panjang " * 100,
    }
    path = write_jsonl("scored.jsonl", [row, "{not json"])
    result = netral("report", path)
    assert result.exit_code == 0, result.output
    assert "x[1]" in result.stdout and "ajak [bold]pilih[/bold]" in result.stdout  # no markup
    assert "text: Pak camat ajak warga pilih panjang" in result.stdout and "…" in result.stdout
    assert "1 unreadable rows skipped" in result.stdout


def test_report_errors(tmp_path, write_jsonl):
    assert netral("report", tmp_path / "none.jsonl").exit_code == 2
    path = write_jsonl("foreign.jsonl", [{"a": 1}])
    result = netral("report", path)
    assert result.exit_code == 2 and "no scored rows" in result.stderr


def test_print_metrics_is_readable_plain_text(tiny_model, capsys, monkeypatch):
    monkeypatch.setattr("netral_nlp.evaluate.N_BOOTSTRAP", 50)
    clf = load_model(tiny_model)
    texts = [
        "camat ikut kampanye paslon nomor dua",
        "hujan deras",
        "lurah jadi tim sukses",
        "resep rendang",
    ]
    preds = clf.predict(texts)
    metrics = evaluate(
        [True, False, True, False], [["kampanye_medsos"], [], ["keterlibatan_parpol"], []], preds
    )
    print_metrics(metrics, title="tiny on synthetic [test]")
    out = capsys.readouterr().out
    assert "tiny on synthetic [test]" in out
    for needle in (
        "precision",
        "recall",
        "F1 [95% CI]",
        "PR-AUC",
        "tp ",
        "Brier",
        "ECE",
        "category macro-F1",
    ):
        assert needle in out
    assert all(name in out for name in CATEGORY_NAMES)
    assert "\x1b[" not in out
