"""Streaming readers and writers: formats, gzip, stdin, field mapping, bad rows and
whole-file errors. No model needed."""

from __future__ import annotations

import csv
import gzip
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from netral_nlp import io as nio
from netral_nlp.io import FieldMap, InputError, looks_binary, read_chunks
from netral_nlp.labels import CATEGORY_NAMES
from netral_nlp.limits import MAX_TEXT_CHARS
from netral_nlp.output import RowWriter, read_scored
from netral_nlp.prediction import OUTPUT_FIELDS, Prediction, Span, parquet_schema

ROWS = [
    {"id": "a", "text": "camat ikut kampanye", "author_context": "PNS"},
    {"id": "b", "text": "hujan deras", "author_context": None},
    {"id": "c", "text": "apel pagi", "author_context": "guru"},
]


def write_input(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Write ``rows`` in the format named by ``path`` (gzip when it ends in .gz)."""
    fmt, gz = nio.file_format(path)
    buf = io.BytesIO()
    if fmt == "jsonl":
        buf.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode())
    elif fmt == "csv":
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        buf.write(text.getvalue().encode())
    else:
        pq.write_table(pa.Table.from_pylist(rows), buf)
    data = buf.getvalue()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def read_all(source: Any, **kwargs: Any) -> tuple[list[nio.Row], list[nio.Rejection]]:
    rows, rejections = [], []
    for chunk in read_chunks(source, **kwargs):
        rows += chunk.rows
        rejections += chunk.rejections
    return rows, rejections


@pytest.mark.parametrize(
    "name",
    ["in.jsonl", "in.jsonl.gz", "in.ndjson", "in.csv", "in.csv.gz", "in.parquet", "in.parquet.gz"],
)
def test_every_format_reads_the_same_rows(tmp_path, name):
    path = write_input(tmp_path / name, ROWS)
    rows, rejections = read_all(path)
    assert not rejections
    assert [(r.id, r.text) for r in rows] == [(r["id"], r["text"]) for r in ROWS]
    assert [r.author_context for r in rows] == ["PNS", None, "guru"]
    # JSON Lines and CSV count lines (CSV's header is line 1); Parquet counts rows
    first = {"jsonl": 1, "csv": 2, "parquet": 1}[nio.file_format(name)[0]]
    assert [r.line for r in rows] == [first, first + 1, first + 2]


def test_stdin_is_json_lines(monkeypatch):
    data = "".join(json.dumps(r) + "\n" for r in ROWS).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    rows, _ = read_all("-")
    assert [r.id for r in rows] == ["a", "b", "c"]


def test_chunks_have_batch_size_records_and_running_starts(tmp_path, feed_rows):
    path = write_input(tmp_path / "in.jsonl", feed_rows(10))
    chunks = list(read_chunks(path, batch_size=4))
    assert [(c.start, c.size, c.first_line, c.last_line) for c in chunks] == [
        (0, 4, 1, 4),
        (4, 4, 5, 8),
        (8, 2, 9, 10),
    ]


@pytest.mark.parametrize("name", ["in.jsonl", "in.csv", "in.parquet"])
def test_skip_resumes_after_n_records(tmp_path, feed_rows, name):
    path = write_input(tmp_path / name, feed_rows(10))
    chunks = list(read_chunks(path, batch_size=3, skip=7))
    assert chunks[0].start == 7
    assert [r.id for c in chunks for r in c.rows] == ["r-7", "r-8", "r-9"]


def test_field_mapping_and_generated_ids(tmp_path):
    path = write_input(
        tmp_path / "in.jsonl",
        [{"uid": 7, "body": "kampanye", "bio": "camat"}, {"body": "hujan", "bio": ""}],
    )
    rows, _ = read_all(path, fields=FieldMap(text="body", id="uid", author="bio"))
    assert [(r.id, r.text, r.author_context) for r in rows] == [
        (7, "kampanye", "camat"),
        ("line-2", "hujan", None),
    ]


def test_bom_and_blank_lines(tmp_path, write_jsonl):
    path = write_jsonl(
        "in.jsonl", [b"\xef\xbb\xbf" + json.dumps(ROWS[0]).encode(), "", "   ", ROWS[1]]
    )
    rows, rejections = read_all(path)
    assert not rejections
    assert [(r.id, r.line) for r in rows] == [("a", 1), ("b", 4)]


BAD_JSONL = [
    ("{broken", "broken JSON"),
    ('["a list"]', "expected a JSON object, got list"),
    ('{"id": "x"}', "missing field 'text'"),
    ('{"id": "x", "text": null}', "missing field 'text'"),
    ('{"id": "x", "text": ""}', "'text' is empty"),
    ('{"id": "x", "text": " \\n\\t "}', "'text' is empty"),
    ('{"id": "x", "text": 42}', "'text' must be a string, got number"),
    ('{"id": "x", "text": "nul \\u0000 here"}', "NUL bytes"),
    ('{"id": "x", "text": "lone \\ud800 surrogate"}', "invalid UTF-8"),
    ('{"id": "x", "text": "ok", "author_context": 5}', "'author_context' must be a string"),
    ('{"id": [1], "text": "ok"}', "'id' must be a string or integer, got list"),
    ('{"id": true, "text": "ok"}', "'id' must be a string or integer, got boolean"),
    ("[" * 100_000 + "]" * 100_000, "broken JSON"),
    (b'{"id": "x", "text": "caf\xe9"}', "invalid UTF-8 at character 3"),
    (b'{"id": "x", "text": "raw \x00 nul"}', "broken JSON"),
    (b'\xef\xbb\xbf{"id": "x", "text": "a BOM not at the start"}', "Unexpected UTF-8 BOM"),
]


@pytest.mark.parametrize(("raw", "reason"), BAD_JSONL)
def test_bad_json_lines_are_rejected_with_line_and_reason(write_jsonl, raw, reason):
    path = write_jsonl("in.jsonl", [ROWS[0], raw, ROWS[1]])
    rows, rejections = read_all(path)
    assert [r.id for r in rows] == ["a", "b"]
    [rejection] = rejections
    assert rejection.line == 2
    assert reason in rejection.reason
    if isinstance(raw, str) and raw.startswith('{"id": "x"'):
        assert rejection.record() == {"line": 2, "id": "x", "reason": rejection.reason}


def test_text_over_the_limit_is_rejected(write_jsonl):
    path = write_jsonl("in.jsonl", [{"id": "big", "text": "x" * (MAX_TEXT_CHARS + 1)}, ROWS[0]])
    rows, [rejection] = read_all(path)
    assert [r.id for r in rows] == ["a"]
    assert (rejection.id, rejection.line) == ("big", 1)
    assert "over the text limit of 100,000" in rejection.reason


def test_line_over_the_byte_limit_is_skipped_unread(write_jsonl, monkeypatch):
    monkeypatch.setattr(nio, "MAX_LINE_BYTES", 100)
    path = write_jsonl("in.jsonl", [ROWS[0], {"id": "long", "text": "y" * 500}, ROWS[1]])
    rows, [rejection] = read_all(path)
    assert [r.id for r in rows] == ["a", "b"]
    assert rejection.line == 2 and "longer than 100 bytes" in rejection.reason


def test_bad_csv_rows_are_rejected(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(
        b"\xef\xbb\xbfid,text\n"  # BOM before the header
        b"a,camat ikut kampanye\n"
        b"b,too,many\n"
        b"c\n"
        b"d,caf\xe9 latte\n"
        b"e,nul \x00 byte\n"
        b'f,"quoted, with comma\nand a newline"\n'
        b"g,\n"
    )
    rows, rejections = read_all(path)
    assert [(r.id, r.line) for r in rows] == [("a", 2), ("f", 7)]
    assert [(r.line, r.id) for r in rejections] == [
        (3, None),
        (4, None),
        (5, "d"),
        (6, "e"),
        (9, "g"),
    ]
    reasons = [r.reason for r in rejections]
    assert "expected 2 fields, got 3" in reasons[0]
    assert "expected 2 fields, got 1" in reasons[1]
    assert "invalid UTF-8" in reasons[2]
    assert "NUL bytes" in reasons[3]
    assert "is empty" in reasons[4]


def test_parquet_wrong_type_and_null_rows(tmp_path):
    table = pa.table({"id": [1, 2, 3], "text": ["kampanye", None, "hujan"]})
    pq.write_table(table, tmp_path / "in.parquet")
    rows, [rejection] = read_all(tmp_path / "in.parquet")
    assert [(r.id, r.line) for r in rows] == [(1, 1), (3, 3)]
    assert (rejection.line, rejection.id) == (2, 2)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.jsonl", b"", "has no rows"),
        ("blank.jsonl", b"\n  \n\n", "has no rows"),
        ("empty.csv", b"", "has no rows"),
        ("header.csv", b"id,text\n", "has no rows"),
        ("binary.jsonl", bytes(range(256)) * 40, "looks binary, not JSON Lines/CSV/Parquet"),
        ("zeros.csv", b"\x00" * 5000, "looks binary"),
        ("gz.jsonl", gzip.compress(b'{"id": 1, "text": "x"}\n' * 50), "looks binary"),
        ("fake.jsonl.gz", b'{"id": 1}\n', "not a readable gzip file"),
        ("fake.parquet", b"not parquet at all", "not a readable Parquet file"),
        ("notes.txt", b"hello\n", "unknown input format"),
        (
            "nocol.csv",
            b"id,body\n1,x\n",
            "has no 'text' column (columns: id, body); name the text column with --text-field",
        ),
    ],
)
def test_whole_file_errors_are_one_clear_input_error(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match="^" + str(path).replace(".", r"\.")) as err:
        read_all(path)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_file_directory_and_parquet_without_text_column(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_all(tmp_path / "missing.jsonl")
    (tmp_path / "dir.jsonl").mkdir()
    with pytest.raises(InputError, match="is a directory"):
        read_all(tmp_path / "dir.jsonl")
    pq.write_table(pa.table({"uid": [1], "body": ["x"]}), tmp_path / "in.parquet")
    with pytest.raises(
        InputError, match=r"columns: uid, body\); name the text column with --text-field"
    ):
        read_all(tmp_path / "in.parquet")


def test_truncated_gzip_is_an_input_error(tmp_path, feed_rows):
    for name in ("in.jsonl.gz", "in.csv.gz"):
        path = write_input(tmp_path / name, feed_rows(5000))
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        with pytest.raises(InputError, match="compressed data is corrupt or cut short"):
            read_all(path)


def test_looks_binary():
    assert not looks_binary(b"")
    assert not looks_binary('{"text": "Salam dua jari ✌️ dari Pak Camat"}\n'.encode())
    assert not looks_binary(b'{"text": "one stray \\u0000"}\n' + b"\x00" + b"x" * 100)
    assert looks_binary(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    assert looks_binary("teks UTF-16".encode("utf-16"))


# --------------------------------------------------------------------------- writers


def scored_rows() -> list[dict[str, Any]]:
    span = Span(0, 5, "asn_role", "camat")
    high = {c: 0.9 if c == "kampanye_medsos" else 0.2 for c in CATEGORY_NAMES}
    flagged = Prediction(0.9, True, ["kampanye_medsos"], high, ["camat ikut"], [span])
    calm = Prediction(0.1, False, [], dict.fromkeys(CATEGORY_NAMES, 0.1), [])
    return [flagged.row("a", "m@1"), calm.row(7, "m@1")]


def test_jsonl_and_csv_writers(tmp_path):
    rows = scored_rows()
    with RowWriter(tmp_path / "out.jsonl") as writer:
        writer.write_rows(rows[:1])
        writer.write_rows(rows[1:])
    assert [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()] == rows

    with RowWriter(tmp_path / "out.csv") as writer:
        writer.write_rows(rows)
    back = list(csv.DictReader((tmp_path / "out.csv").open()))
    assert list(back[0]) == list(rows[0])
    assert back[0]["flag"] == "true" and back[1]["id"] == "7"
    assert json.loads(back[0]["evidence_spans"]) == rows[0]["evidence_spans"]
    assert json.loads(back[0]["category_scores"]) == rows[0]["category_scores"]


def test_parquet_writer_keeps_every_field_of_a_scored_row(tmp_path):
    rows = scored_rows()
    with RowWriter(tmp_path / "out.parquet") as writer:
        writer.write_rows(rows)
    back = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert list(back[0]) == list(rows[0])  # the schema mirrors Prediction.row
    assert back[1]["id"] == "7"  # ids are strings in Parquet
    assert back[0]["evidence_spans"] == rows[0]["evidence_spans"]
    assert back[0]["category_scores"]["kampanye_medsos"] == 0.9


def test_stdout_writer_and_unknown_output_suffix(capsysbinary, tmp_path):
    with RowWriter(None) as writer:
        writer.write_rows(scored_rows())
    assert len(capsysbinary.readouterr().out.splitlines()) == 2
    with pytest.raises(InputError, match="unknown output format"):
        RowWriter(tmp_path / "out.xlsx")


def test_parquet_schema_is_the_output_row():
    assert tuple(parquet_schema().names) == OUTPUT_FIELDS == tuple(scored_rows()[0])


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_a_scored_file_reads_back_as_it_was_written(tmp_path, suffix):
    rows = scored_rows()
    path = tmp_path / f"out{suffix}"
    with RowWriter(path) as writer:
        writer.write_rows(rows)
    path.write_bytes(path.read_bytes() + (b'{"not": "scored"}\n' if suffix == ".jsonl" else b""))
    back = list(read_scored(path))
    if suffix == ".jsonl":
        assert back.pop() is None  # a record that is not a scored row
    else:
        rows[1]["id"] = "7"  # ids are strings in CSV and Parquet
    assert back == rows


def test_reading_feeds_does_not_import_the_corpus_module():
    code = "import sys, netral_nlp.io; print('netral_nlp.data' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
