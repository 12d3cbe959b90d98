"""`netral annotations export/import`: Label Studio and doccano round trips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from typer.testing import CliRunner

from netral_nlp.annotation_tools import RATIONALE_ROLES, ExportError, pre_spans, read_export
from netral_nlp.cli import app
from netral_nlp.labels import CATEGORY_NAMES

FLAGGED = "Kemarin Camat Bojong 😀 ikut pose dua jari bersama paslon nomor 2 di lapangan."
PLAIN = "Kepala Kampung Sukajaya mengajak warga memilih Partai Hijau pada pemilu nanti."


def _span(text: str, part: str, role: str) -> dict[str, Any]:
    start = text.index(part)
    return {"start": start, "end": start + len(part), "role": role, "text": part}


def _scored_rows() -> list[dict[str, Any]]:
    """Two scored rows as `netral score` writes them, joined with their texts: a flagged
    one whose evidence marks roles (and one span kind that marks none), and an unflagged
    one that carries its partisan/asn labels and rationales."""
    evidence = [
        {**_span(FLAGGED, "Camat Bojong", "actor"), "kind": "asn_role"},
        {**_span(FLAGGED, "ikut pose dua jari", "act"), "kind": "partisan_act"},
        {**_span(FLAGGED, "paslon nomor 2", "target"), "kind": "candidate"},
        {**_span(FLAGGED, "lapangan", "act"), "kind": "ngram"},
    ]
    for span in evidence:
        span.pop("role")
    return [
        {
            "id": "s-1",
            "text": FLAGGED,
            "author_context": "ASN Kecamatan Bojong",
            "source_type": "post",
            "score": 0.91,
            "flag": True,
            "categories": ["kegiatan_kampanye", "kampanye_medsos"],
            "category_scores": {c: 0.5 for c in CATEGORY_NAMES},
            "evidence": [],
            "evidence_spans": evidence,
            "model": "netral-baseline@1.0.0",
        },
        {
            "id": "s-2",
            "text": PLAIN,
            "author_context": None,
            "source_type": "news",
            "score": 0.12,
            "flag": False,
            "partisan": True,
            "asn": False,
            "categories": [],
            "rationales": [
                _span(PLAIN, "Kepala Kampung", "frame"),
                _span(PLAIN, "mengajak warga memilih", "act"),
                _span(PLAIN, "Partai Hijau", "target"),
            ],
            "model": "netral-baseline@1.0.0",
        },
    ]


EXPECTED = {
    "s-1": {
        "flag": True,
        "partisan": True,
        "asn": True,
        "categories": ["kampanye_medsos", "kegiatan_kampanye"],
        "rationales": [
            _span(FLAGGED, "Camat Bojong", "actor"),
            _span(FLAGGED, "ikut pose dua jari", "act"),
            _span(FLAGGED, "paslon nomor 2", "target"),
        ],
    },
    "s-2": {
        "flag": False,
        "partisan": True,
        "asn": False,
        "categories": [],
        "rationales": [
            _span(PLAIN, "Kepala Kampung", "frame"),
            _span(PLAIN, "mengajak warga memilih", "act"),
            _span(PLAIN, "Partai Hijau", "target"),
        ],
    },
}


def _write_scored(tmp_path: Path) -> Path:
    path = tmp_path / "scored.jsonl"
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _scored_rows()), encoding="utf-8"
    )
    return path


def _run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def _annotate_label_studio(tasks_file: Path, out: Path) -> None:
    """An annotator who accepts every pre-annotation: predictions become annotations."""
    tasks = json.loads(tasks_file.read_text(encoding="utf-8"))
    for n, task in enumerate(tasks, start=1):
        task["id"] = 100 + n
        task["annotations"] = [
            {
                "id": n,
                "result": task["predictions"][0]["result"],
                "was_cancelled": False,
                "completed_by": {"id": 7, "email": "anotator@example.org"},
            }
        ]
    out.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")


def _check_round_trip(items_file: Path) -> None:
    rows = {
        r["id"]: r for r in map(json.loads, items_file.read_text(encoding="utf-8").splitlines())
    }
    assert set(rows) == set(EXPECTED)
    for item_id, want in EXPECTED.items():
        got = {k: rows[item_id][k] for k in want}
        assert got == want, item_id
    assert rows["s-1"]["author_context"] == "ASN Kecamatan Bojong"
    assert rows["s-2"]["source_type"] == "news"


def test_label_studio_round_trip(tmp_path: Path) -> None:
    tasks, export, items = (
        tmp_path / "tasks.json",
        tmp_path / "export.json",
        tmp_path / "items.jsonl",
    )
    result = _run(
        "annotations",
        "export",
        str(_write_scored(tmp_path)),
        "--to",
        "label-studio",
        "-o",
        str(tasks),
    )
    assert result.exit_code == 0, result.output
    config = ElementTree.parse(f"{tasks}.xml").getroot()
    names = {el.get("name"): el for el in config.iter("Choices")}
    assert set(names) == {"flag", "partisan", "asn", "categories"}
    assert [c.get("value") for c in names["categories"]] == list(CATEGORY_NAMES)
    assert [lab.get("value") for lab in config.iter("Label")] == list(RATIONALE_ROLES)
    first = json.loads(tasks.read_text(encoding="utf-8"))[0]
    assert first["data"]["id"] == "s-1" and first["predictions"][0]["score"] == 0.91
    _annotate_label_studio(tasks, export)
    result = _run(
        "annotations",
        "import",
        str(export),
        "--from",
        "label-studio",
        "-o",
        str(items),
        "--corpus",
        str(tmp_path / "none"),
    )
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output
    _check_round_trip(items)
    annotator = json.loads(items.read_text(encoding="utf-8").splitlines()[0])["annotator"]
    assert annotator == "anotator@example.org"


def test_doccano_round_trip(tmp_path: Path) -> None:
    tasks, items = tmp_path / "tasks.jsonl", tmp_path / "items.jsonl"
    result = _run(
        "annotations", "export", str(_write_scored(tmp_path)), "--to", "doccano", "-o", str(tasks)
    )
    assert result.exit_code == 0, result.output
    # doccano's export replaces `id` with its own number and keeps our fields.
    exported = []
    for n, line in enumerate(tasks.read_text(encoding="utf-8").splitlines(), start=1):
        exported.append(
            json.dumps({**json.loads(line), "id": n, "Comments": []}, ensure_ascii=False)
        )
    export = tmp_path / "export.jsonl"
    export.write_text("\n".join(exported) + "\n", encoding="utf-8")
    result = _run(
        "annotations",
        "import",
        str(export),
        "--from",
        "doccano",
        "-o",
        str(items),
        "--corpus",
        str(tmp_path / "none"),
    )
    assert result.exit_code == 0, result.output
    _check_round_trip(items)


def test_label_studio_utf16_offsets_are_converted(tmp_path: Path) -> None:
    """Older Label Studio counts an emoji as two units: offsets after one are off by one."""
    start = FLAGGED.index("ikut")
    part = "ikut pose dua jari"
    task = {
        "data": {"id": "e-1", "text": FLAGGED},
        "annotations": [
            {
                "result": [
                    {"from_name": "flag", "type": "choices", "value": {"choices": ["yes"]}},
                    {
                        "from_name": "rationale",
                        "type": "labels",
                        "value": {
                            "start": start + 1,
                            "end": start + 1 + len(part),
                            "text": part,
                            "labels": ["act"],
                        },
                    },
                    {
                        "from_name": "categories",
                        "type": "choices",
                        "value": {"choices": ["kegiatan_kampanye"]},
                    },
                ]
            }
        ],
    }
    path = tmp_path / "export.json"
    path.write_text(json.dumps([task]), encoding="utf-8")
    rows, skipped = read_export(path, "label-studio")
    assert skipped == 0
    assert rows[0]["rationales"] == [_span(FLAGGED, part, "act")]
    assert rows[0]["partisan"] is rows[0]["asn"] is True


@pytest.mark.parametrize(
    ("tool", "content", "message"),
    [
        (
            "label-studio",
            [
                {
                    "data": {"id": "a-1", "text": "teks"},
                    "annotations": [
                        {
                            "result": [
                                {
                                    "from_name": "flag",
                                    "type": "choices",
                                    "value": {"choices": ["maybe"]},
                                }
                            ]
                        }
                    ],
                }
            ],
            "task 1 (id 'a-1'): annotations[0].result[0].value.choices: flag: expected ['yes'] or ['no'], got ['maybe']",
        ),
        (
            "label-studio",
            [
                {"data": {"id": "a-1", "text": "teks"}, "annotations": []},
                {
                    "data": {"id": "a-2", "text": "teks lain"},
                    "annotations": [
                        {
                            "result": [
                                {
                                    "from_name": "flag",
                                    "type": "choices",
                                    "value": {"choices": ["no"]},
                                },
                                {
                                    "from_name": "asn",
                                    "type": "choices",
                                    "value": {"choices": ["no"]},
                                },
                            ]
                        }
                    ],
                },
            ],
            "task 2 (id 'a-2'): annotations[0]: partisan: no choice made",
        ),
        (
            "label-studio",
            [
                {
                    "data": {"id": "a-1", "text": "teks"},
                    "annotations": [
                        {
                            "result": [
                                {
                                    "from_name": "rationale",
                                    "type": "labels",
                                    "value": {"start": 0, "end": 40, "labels": ["actor"]},
                                }
                            ]
                        }
                    ],
                }
            ],
            "task 1 (id 'a-1'): annotations[0].result[0].value: start/end: 0-40 is outside the text (0-4)",
        ),
        ("label-studio", {"data": {}}, "expected a JSON list of tasks"),
        (
            "doccano",
            [{"item_id": "d-1", "text": "teks", "label": [[0, 2, "villain"]], "cats": []}],
            ":1 (id 'd-1'): label[0]: role: unknown 'villain'",
        ),
        (
            "doccano",
            [{"item_id": "d-1", "text": "teks", "label": [], "cats": ["flag", "kampanye"]}],
            ":1 (id 'd-1'): cats: unknown category 'kampanye'",
        ),
    ],
)
def test_malformed_export_names_the_task_and_field(
    tmp_path: Path, tool: str, content: Any, message: str
) -> None:
    if tool == "doccano":
        path = tmp_path / "export.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in content), encoding="utf-8")
    else:
        path = tmp_path / "export.json"
        path.write_text(json.dumps(content), encoding="utf-8")
    with pytest.raises(ExportError) as exc:
        read_export(path, tool)
    assert message in str(exc.value)
    result = _run(
        "annotations", "import", str(path), "--from", tool, "-o", str(tmp_path / "o.jsonl")
    )
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {exc.value}"


def test_import_reports_conflicts_with_the_corpus(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    same_text = {
        "id": "c-9",
        "text": "  " + FLAGGED.upper(),
        "source_type": "post",
        "author_context": None,
        "partisan": False,
        "asn": False,
        "flag": False,
        "categories": [],
    }
    same_id_same_labels = {
        "id": "s-2",
        "text": PLAIN,
        "source_type": "news",
        "author_context": None,
        "partisan": True,
        "asn": False,
        "flag": False,
        "categories": [],
    }
    corpus.write_text(
        json.dumps(same_text) + "\n" + json.dumps(same_id_same_labels) + "\n", encoding="utf-8"
    )
    tasks, items = tmp_path / "tasks.jsonl", tmp_path / "items.jsonl"
    _run("annotations", "export", str(_write_scored(tmp_path)), "--to", "doccano", "-o", str(tasks))
    result = _run(
        "annotations",
        "import",
        str(tasks),
        "--from",
        "doccano",
        "-o",
        str(items),
        "--corpus",
        str(corpus),
    )
    assert result.exit_code == 0, result.output
    conflicts = [line for line in result.output.splitlines() if line.startswith("conflict:")]
    assert len(conflicts) == 1
    assert conflicts[0].startswith("conflict: s-1: same text as 'c-9'")


def test_import_validates_the_written_rows(tmp_path: Path) -> None:
    export = tmp_path / "export.jsonl"
    # flag without partisan: the corpus validator's rule, not the converter's
    export.write_text(
        json.dumps({"item_id": "v-1", "text": "teks", "cats": ["flag", "asn", "kampanye_medsos"]})
        + "\n",
        encoding="utf-8",
    )
    result = _run(
        "annotations",
        "import",
        str(export),
        "--from",
        "doccano",
        "-o",
        str(tmp_path / "o.jsonl"),
        "--corpus",
        str(tmp_path / "none"),
    )
    assert result.exit_code == 1
    assert "flag: flag is true but partisan=False" in result.output


def test_export_reads_a_scored_csv_and_joins_texts_by_id(tmp_path: Path) -> None:
    """CSV flattens lists and objects into JSON cells and booleans into words."""
    import csv

    scored, feed = tmp_path / "scored.csv", tmp_path / "feed.jsonl"
    row = _scored_rows()[0]
    with open(scored, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "score", "flag", "categories", "evidence_spans", "model"])
        writer.writerow(
            [
                "s-1",
                "0.91",
                "true",
                json.dumps(row["categories"]),
                json.dumps(row["evidence_spans"]),
                row["model"],
            ]
        )
    feed.write_text(
        json.dumps({"id": "s-1", "text": FLAGGED, "author_context": "ASN"}) + "\n", encoding="utf-8"
    )
    out = tmp_path / "tasks.jsonl"
    result = _run(
        "annotations",
        "export",
        str(scored),
        "--input",
        str(feed),
        "--to",
        "doccano",
        "-o",
        str(out),
    )
    assert result.exit_code == 0, result.output
    task = json.loads(out.read_text(encoding="utf-8"))
    assert task["item_id"] == "s-1" and task["author_context"] == "ASN"
    assert task["cats"] == ["flag", "partisan", "asn", "kampanye_medsos", "kegiatan_kampanye"]
    assert [s[2] for s in task["label"]] == ["actor", "act", "target"]


def test_pre_annotations_keep_only_spans_a_valid_item_may_have() -> None:
    """An unflagged item has no ASN actor and a flagged one no frame (GUIDELINES 8);
    spans that cross an earlier one or leave the text are dropped too."""
    text = "Guru SDN 3 Cibeber menolak ajakan kampanye paslon 2."
    guru = _span(text, "Guru SDN 3", "actor")
    cross = {"start": guru["start"] + 2, "end": guru["end"] + 4, "kind": "partisan_act"}
    evidence = [{**guru, "kind": "asn_role"}, cross, {"start": 40, "end": 99, "kind": "candidate"}]
    unflagged = {"id": "u", "text": text, "score": 0.2, "flag": False, "evidence_spans": evidence}
    assert pre_spans(unflagged) == [
        {
            "start": cross["start"],
            "end": cross["end"],
            "role": "act",
            "text": text[cross["start"] : cross["end"]],
        }
    ]
    assert pre_spans({**unflagged, "flag": True}) == [guru]
    frame = _span(text, "menolak", "frame")
    assert pre_spans({**unflagged, "flag": True, "rationales": [frame, guru]}) == [guru]
    assert pre_spans({**unflagged, "rationales": [frame, guru]}) == [frame]
