"""The monitors' report: the HTML page has every section, escapes the data and embeds
PNG plots; the XLSX opens with its sheets; the CSVs exist; spreadsheet cells never run
as formulas."""

from __future__ import annotations

import base64
import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from netral_nlp.cli import app
from netral_nlp.monitor_report import write_reports

pytest.importorskip("matplotlib")
openpyxl = pytest.importorskip("openpyxl")

FIXTURE = Path(__file__).parent / "fixtures" / "scored_monitor.jsonl"
TABLES = ("provinsi", "kabupaten_kota", "instansi", "jabatan", "instansi_jabatan", "kategori",
          "minggu", "status", "akun", "bukti")  # fmt: skip
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "report",
            str(FIXTURE),
            "--top",
            "1",
            "--html",
            str(out / "r.html"),
            "--xlsx",
            str(out / "r.xlsx"),
            "--csv-dir",
            str(out / "csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def test_html_has_every_section(report: Path) -> None:
    page = (report / "r.html").read_text(encoding="utf-8")
    for name in TABLES:
        assert f"<section id='{name}'>" in page
    assert "Kabupaten Grobogan" in page and "33.15" in page
    assert "<mark class='actor'>Camat</mark>" in page


def test_html_escapes_data(report: Path) -> None:
    page = (report / "r.html").read_text(encoding="utf-8")
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    # a javascript: URL is shown, never linked
    assert "javascript:alert(1)" in page and "href='javascript:" not in page
    assert "href='https://x.com/budi_camat_wrs/status/1'" in page


def test_html_images_are_png(report: Path) -> None:
    page = (report / "r.html").read_text(encoding="utf-8")
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    assert len(images) == 5  # province, instansi, jabatan, category, week
    import matplotlib.image

    for encoded in images:
        data = base64.b64decode(encoded, validate=True)
        assert data.startswith(PNG_SIGNATURE)
        pixels = matplotlib.image.imread(io.BytesIO(data), format="png")
        assert pixels.shape[0] > 100 and pixels.shape[1] > 100


def test_xlsx_has_the_sheets(report: Path) -> None:
    book = openpyxl.load_workbook(report / "r.xlsx")
    assert book.sheetnames == ["ringkasan", *TABLES]
    rows = list(book["provinsi"].iter_rows(values_only=True))
    assert rows[1][:4] == ("32", "Jawa Barat", 2, 2)
    evidence = list(book["bukti"].iter_rows(values_only=True))
    assert evidence[0][-1] == "status" and evidence[1][-1] is None
    assert book["bukti"].data_validations.dataValidation[0].formula1 == (
        '"temuan,kajian,rekomendasi,selesai"'
    )


def test_csvs_exist(report: Path) -> None:
    for name in TABLES:
        assert (report / "csv" / f"{name}.csv").is_file()
    with (report / "csv" / "minggu.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[1][:2] == ["2024-W05", "2"]
    assert "minggu: 1 findings" in (report / "csv" / "notes.txt").read_text(encoding="utf-8")


def test_formula_cells_are_text(tmp_path: Path) -> None:
    scored = tmp_path / "s.jsonl"
    scored.write_text(
        '{"id": "f1", "score": 0.9, "flag": true, "categories": ["ajakan_dukungan"],'
        ' "evidence": ["=HYPERLINK(\\"http://evil\\") camat\\u000b ajak coblos"],'
        ' "author_handle": "@cmd", "text": "=1+1 camat ajak coblos"}\n',
        encoding="utf-8",
    )
    write_reports(scored, xlsx_path=tmp_path / "s.xlsx", csv_dir=tmp_path / "csv")
    sheet = openpyxl.load_workbook(tmp_path / "s.xlsx")["bukti"]
    cell = sheet.cell(row=2, column=12)  # bukti
    assert cell.data_type == "s" and cell.value.startswith("'=HYPERLINK")
    assert "\x0b" not in cell.value  # a control character XLSX cannot hold is dropped
    text = (tmp_path / "csv" / "bukti.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text and "'@cmd" in text


def test_no_format_asked_writes_nothing(tmp_path: Path) -> None:
    written = write_reports(FIXTURE)
    assert (written.rows, written.flagged, written.paths) == (9, 6, [])


@pytest.mark.parametrize("shard_format", ["jsonl", "parquet"])
def test_report_of_a_run_directory(
    tmp_path: Path, tiny_model: Path, feed_rows: Any, shard_format: str
) -> None:
    """What `netral score` writes (shards of either format) reads back: every row once."""
    import json

    from netral_nlp.batch import ScoreOptions, score_file

    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(r) + "\n" for r in feed_rows(30)), encoding="utf-8")
    run = tmp_path / "run"
    options = ScoreOptions(
        input=feed, output=run, model=tiny_model, workers=1,
        batch_size=10, shard_rows=10, shard_format=shard_format,
    )  # fmt: skip
    score_file(options)
    written = write_reports(run, csv_dir=tmp_path / "csv")
    assert written.rows == 30
    with (tmp_path / "csv" / "bukti.csv").open(encoding="utf-8-sig", newline="") as fh:
        assert len(list(csv.reader(fh))) == written.flagged + 1
    assert written.flagged == 15  # the tiny model flags the even (partisan) posts


def test_html_shows_at_most_the_row_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import netral_nlp.monitor_report as monitor_report

    monkeypatch.setattr(monitor_report, "HTML_MAX_ROWS", 2)
    write_reports(FIXTURE, html_path=tmp_path / "r.html", xlsx_path=tmp_path / "r.xlsx")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    evidence = page.split("<section id='bukti'>")[1]
    assert evidence.count("<tr>") == 3  # header and two rows
    assert "the first 2 of 6 rows" in evidence
    assert openpyxl.load_workbook(tmp_path / "r.xlsx")["bukti"].max_row == 7


def test_missing_extra_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import now raises ImportError
    with pytest.raises(ValueError, match=r"pip install 'netral-nlp\[report\]'"):
        write_reports(FIXTURE, html_path=tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()
