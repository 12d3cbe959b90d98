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
            "tags": ["gesture", "asn_in_author_context"],
            "platform": "x",
            "province": "Jawa Barat",
            "election": "pilkada",
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
            "tags": ["hard_negative", "regional_village_head"],
            "split": "dev",
            "province": None,
            "election": "pileg",
            "notes": "kepala kampung is a village head, not ASN",
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
        "tags": ["gesture", "asn_in_author_context"],
        "platform": "x",
        "province": "Jawa Barat",
        "election": "pilkada",
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
        "tags": ["hard_negative", "regional_village_head"],
        "split": "dev",
        "election": "pileg",
        "notes": "kepala kampung is a village head, not ASN",
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
    assert "province" not in rows["s-2"]  # null in the scored row: not invented


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
        json.dumps({"id": "s-1", "text": FLAGGED, "author_context": "ASN", "tags": ["gesture"]})
        + "\n",
        encoding="utf-8",
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
    assert task["tags"] == ["gesture"]  # the corpus item's metadata joins with its text
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


# --------------------------------------------------------------------------- review queue

QUEUED = "Lurah Sukamaju, Budi Harsono, ikut pose dua jari bersama paslon nomor 2 di alun-alun."


def _evidence(text: str, part: str, kind: str) -> dict[str, Any]:
    start = text.index(part)
    return {"start": start, "end": start + len(part), "kind": kind, "text": part}


def _queue_item(text: str, evidence: list[dict[str, Any]], **overrides: Any) -> Any:
    from netral_nlp.api.queue import NewItem

    values: dict[str, Any] = {
        "text": text,
        "score": 0.87,
        "categories": ["kegiatan_kampanye"],
        "category_scores": {"kegiatan_kampanye": 0.8},
        "evidence_spans": evidence,
        "model": "netral-baseline@1.0.0",
    }
    return NewItem(**(values | overrides))


def _export_queue(tmp_path: Path, decide: list[tuple[Any, Any]]) -> tuple[Path, list[str]]:
    """Queue each item, record its decision (None: leave pending), `netral queue export`."""
    from netral_nlp.api.queue import ReviewQueue

    db = tmp_path / "q.db"
    queue = ReviewQueue(db)
    ids = []
    for item, decision in decide:
        ids.append(queue.add(item))
        if decision is not None:
            queue.decide(ids[-1], decision)
    decisions = tmp_path / "decisions.jsonl"
    result = _run("queue", "export", "-o", str(decisions), "--db", str(db))
    assert result.exit_code == 0, result.output
    return decisions, ids


def _import_queue(decisions: Path, items: Path, corpus: Path) -> Any:
    args = ["-o", str(items), "--corpus", str(corpus)]
    return _run("annotations", "import", str(decisions), "--from", "queue", *args)


def test_queue_decisions_become_valid_corpus_rows(tmp_path: Path) -> None:
    from netral_nlp.api.queue import Decision
    from netral_nlp.data import validate

    kades = "Kades Mekarjaya ikut kampanye paslon nomor 3 di balai desa."
    reminder = "Guru SD mengingatkan netralitas ASN pada rapat dinas pagi ini."
    decisions, ids = _export_queue(
        tmp_path,
        [
            (
                _queue_item(
                    QUEUED,
                    [
                        _evidence(QUEUED, "Lurah Sukamaju", "asn_role"),
                        _evidence(QUEUED, "ikut pose dua jari", "partisan_act"),
                        _evidence(QUEUED, "paslon nomor 2", "candidate"),
                        _evidence(QUEUED, "alun-alun", "ngram"),  # explains, marks no role
                    ],
                    author_context="warga Sukamaju",
                ),
                Decision("confirmed", "rina", ["kegiatan_kampanye", "kampanye_medsos"], "foto"),
            ),
            (
                _queue_item(
                    kades,
                    [
                        _evidence(kades, "Kades Mekarjaya", "asn_role"),  # no ASN actor now
                        _evidence(kades, "ikut kampanye", "partisan_act"),
                    ],
                ),
                Decision("dismissed", "dodi", partisan=True, asn=False),
            ),
            (
                _queue_item(
                    reminder,
                    [_evidence(reminder, "mengingatkan", "partisan_act")],
                    url="https://berita.example/netral",
                ),
                Decision("dismissed", "dodi"),
            ),
            (_queue_item("Masih menunggu tinjauan monitor.", []), None),
        ],
    )
    items = tmp_path / "items.jsonl"
    result = _import_queue(decisions, items, tmp_path / "none")
    assert result.exit_code == 0, result.output
    assert "wrote 3 corpus rows" in result.output and "0 errors" in result.output
    report = validate(items, require_rationales=True)
    assert report.ok, [str(p) for p in report.errors]
    rows = {r["id"]: r for r in map(json.loads, items.read_text(encoding="utf-8").splitlines())}
    assert set(rows) == {f"queue-{i}" for i in ids[:3]}

    confirmed = rows[f"queue-{ids[0]}"]
    assert (confirmed["flag"], confirmed["partisan"], confirmed["asn"]) == (True, True, True)
    assert confirmed["categories"] == ["kampanye_medsos", "kegiatan_kampanye"]
    assert [(s["role"], s["text"]) for s in confirmed["rationales"]] == [
        ("actor", "Lurah Sukamaju"),
        ("act", "ikut pose dua jari"),
        ("target", "paslon nomor 2"),
    ]
    assert confirmed["annotator"] == "rina" and confirmed["author_context"] == "warga Sukamaju"
    assert confirmed["tags"] == ["review_queue"] and confirmed["notes"].startswith("foto (")
    assert "confirmed by rina" in confirmed["notes"] and "score 0.870" in confirmed["notes"]

    kades_row = rows[f"queue-{ids[1]}"]
    assert (kades_row["flag"], kades_row["partisan"], kades_row["asn"]) == (False, True, False)
    assert kades_row["categories"] == [] and kades_row["tags"] == ["review_queue"]
    assert [(s["role"], s["text"]) for s in kades_row["rationales"]] == [("act", "ikut kampanye")]

    unsaid = rows[f"queue-{ids[2]}"]
    assert (unsaid["flag"], unsaid["partisan"], unsaid["asn"]) == (False, False, False)
    assert unsaid["tags"] == ["review_queue", "queue_parts_unreviewed"]
    assert unsaid["rationales"] == [] and unsaid["source_type"] == "news"
    assert "https://berita.example/netral" in unsaid["notes"]


def test_queue_import_reports_a_conflict_with_the_corpus(tmp_path: Path) -> None:
    from netral_nlp.api.queue import Decision

    decisions, ids = _export_queue(
        tmp_path,
        [
            (
                _queue_item(QUEUED, [_evidence(QUEUED, "ikut pose dua jari", "partisan_act")]),
                Decision("dismissed", "dodi", partisan=True, asn=False),
            )
        ],
    )
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(
        json.dumps(
            {
                "id": "c-7",
                "text": QUEUED,
                "source_type": "post",
                "author_context": None,
                "partisan": True,
                "asn": True,
                "flag": True,
                "categories": ["kegiatan_kampanye"],
            }
        )
        + "\n",
        encoding="utf-8",
    )
    result = _import_queue(decisions, tmp_path / "items.jsonl", corpus)
    assert result.exit_code == 0, result.output
    conflicts = [line for line in result.output.splitlines() if line.startswith("conflict:")]
    assert conflicts == [
        f"conflict: queue-{ids[0]}: same text as 'c-7' ({corpus}:1) but different labels: "
        "imported flag=False partisan=True asn=False categories=-; "
        "corpus flag=True partisan=True asn=True categories=kegiatan_kampanye"
    ]


def test_a_confirmation_that_cannot_be_a_corpus_row_is_named_and_kept(tmp_path: Path) -> None:
    """The model's evidence has no act span: the row is written, the validator's error
    names it by id, and the import exits 1."""
    from netral_nlp.api.queue import Decision

    decisions, ids = _export_queue(
        tmp_path,
        [
            (
                _queue_item(QUEUED, [_evidence(QUEUED, "Lurah Sukamaju", "asn_role")]),
                Decision("confirmed", "rina"),
            )
        ],
    )
    items = tmp_path / "items.jsonl"
    result = _import_queue(decisions, items, tmp_path / "none")
    assert result.exit_code == 1, result.output
    assert (
        f"{items}:1 (id 'queue-{ids[0]}'): rationales: a flagged item needs at least one act span"
        in result.output
    )
    assert f"1 rows are not valid corpus rows (queue-{ids[0]})" in result.output
    row = json.loads(items.read_text(encoding="utf-8"))
    assert row["id"] == f"queue-{ids[0]}" and row["categories"] == ["kegiatan_kampanye"]


_DECISION = {
    "id": "q1",
    "status": "confirmed",
    "text": QUEUED,
    "source_type": "post",
    "author_context": None,
    "url": None,
    "score": 0.9,
    "model": "m@1",
    "evidence_spans": [],
    "reviewer": "rina",
    "decided_categories": ["kegiatan_kampanye"],
    "partisan": None,
    "asn": None,
    "note": None,
}


@pytest.mark.parametrize(
    ("second", "message"),
    [
        ('{"id": "q2", "status": ', ":2: -: broken JSON"),
        (
            json.dumps({**_DECISION, "id": "q2", "status": "pending"}),
            ":2 (id 'q2'): status: expected 'confirmed' or 'dismissed', got 'pending'",
        ),
        (
            json.dumps({**_DECISION, "id": "q2", "decided_categories": ["kampanye"]}),
            ":2 (id 'q2'): decided_categories: unknown category 'kampanye'",
        ),
        (
            json.dumps({**_DECISION, "id": "q2", "score": "high"}),
            ":2 (id 'q2'): score: expected a number, got 'high'",
        ),
        (
            json.dumps(
                {**_DECISION, "id": "q2", "status": "dismissed", "partisan": True, "asn": True}
            ),
            ":2 (id 'q2'): partisan and asn both true is a flag, not a dismissal",
        ),
        (json.dumps({"item_id": "d-1", "text": "teks"}), ":2 (id None): id: missing"),
    ],
)
def test_a_malformed_decision_line_is_named_by_its_line(
    tmp_path: Path, second: str, message: str
) -> None:
    path = tmp_path / "decisions.jsonl"
    path.write_text(json.dumps(_DECISION) + "\n" + second + "\n", encoding="utf-8")
    with pytest.raises(ExportError) as exc:
        read_export(path, "queue")
    assert f"{path}{message}" in str(exc.value)
    result = _import_queue(path, tmp_path / "o.jsonl", tmp_path / "none")
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {exc.value}"
