"""Rationale spans in the corpus (corpus v2): the validator's rules, one broken file per
rule, and deep nesting reported as a line error."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pytest
from typer.testing import CliRunner

from netral_nlp.data import (
    AnnotationError,
    Rationale,
    data_hash,
    load_dataset,
    read_annotations,
    validate,
)
from netral_nlp.data_cli import data_app

TEXT = "Camat Sukamaju ikut kampanye paslon 02 di lapangan."


def _span(role: str, word: str, text: str = TEXT) -> dict[str, Any]:
    start = text.index(word)
    return {"start": start, "end": start + len(word), "role": role, "text": word}


def _flagged(**overrides: Any) -> dict[str, Any]:
    item = {
        "id": "r-1",
        "text": TEXT,
        "source_type": "news",
        "author_context": None,
        "partisan": True,
        "asn": True,
        "flag": True,
        "categories": ["kegiatan_kampanye"],
        "rationales": [
            _span("actor", "Camat Sukamaju"),
            _span("act", "ikut kampanye"),
            _span("target", "paslon 02"),
        ],
    }
    return item | overrides


def _unflagged(**overrides: Any) -> dict[str, Any]:
    text = "Kepala desa ikut kampanye paslon 02."
    item = _flagged(text=text, asn=False, flag=False, categories=[], tags=["hard_negative"])
    item["rationales"] = [_span("frame", "Kepala desa", text), _span("act", "ikut kampanye", text)]
    return item | overrides


def _errors(write_jsonl, row: dict[str, Any], **kwargs: Any) -> list[str]:
    report = validate(write_jsonl("items.jsonl", [row]), **kwargs)
    return [f"{p.field}: {p.message}" for p in report.errors]


def test_well_formed_rationales_pass_and_are_read(write_jsonl) -> None:
    path = write_jsonl("items.jsonl", [_flagged(), _unflagged(id="r-2")])
    assert validate(path, require_rationales=True).ok
    item = read_annotations(path)[0]
    assert item.rationales[0] == Rationale(0, 14, "actor", "Camat Sukamaju")
    assert load_dataset(path)["unsplit"][0]["rationales"][0]["role"] == "actor"


@pytest.mark.parametrize(
    ("spans", "field", "message"),
    [
        ("actor", "rationales", "expected list, got string"),
        (["actor"], "rationales[0]", "expected object"),
        ([{"start": 0, "end": 5, "role": "actor"}], "rationales[0].text", "missing field"),
        ([{**_span("act", "ikut"), "why": "x"}], "rationales[0].why", "unknown field"),
        ([{**_span("act", "ikut"), "start": "0"}], "rationales[0].start", "expected integer"),
        ([{**_span("act", "ikut"), "end": True}], "rationales[0].end", "expected integer"),
        ([{**_span("act", "ikut"), "start": -1}], "rationales[0].start", "negative"),
        ([{**_span("act", "ikut"), "end": 10}], "rationales[0].end", "not after start"),
        ([{**_span("act", "ikut"), "end": 999}], "rationales[0].end", "past the end"),
        ([{**_span("act", "ikut"), "text": "ikut!"}], "rationales[0].text", "differs"),
        ([{**_span("act", "ikut"), "role": "victim"}], "rationales[0].role", "unknown role"),
    ],
)
def test_malformed_spans_are_named_by_field(write_jsonl, spans, field, message) -> None:
    errors = _errors(write_jsonl, _flagged(rationales=spans))
    assert any(e.startswith(f"{field}: ") and message in e for e in errors), errors
    with pytest.raises(AnnotationError, match=re.escape(f"items.jsonl:1: {field}: ")):
        read_annotations(write_jsonl("items.jsonl", [_flagged(rationales=spans)]))


def test_an_unflagged_item_has_no_actor(write_jsonl) -> None:
    text = "Kepala desa ikut kampanye paslon 02."
    row = _unflagged(rationales=[_span("actor", "Kepala desa", text), _span("frame", "desa", text)])
    assert _errors(write_jsonl, row) == [
        "rationales[0].role: an unflagged item has no ASN actor; mark a non-ASN actor as frame"
    ]


def test_a_flagged_item_has_no_frame(write_jsonl) -> None:
    row = _flagged(rationales=[*_flagged()["rationales"], _span("frame", "lapangan")])
    assert _errors(write_jsonl, row) == ["rationales[3].role: a flagged item has no frame span"]


def test_a_flagged_item_needs_an_act(write_jsonl) -> None:
    row = _flagged(rationales=[_span("actor", "Camat Sukamaju")])
    assert _errors(write_jsonl, row) == ["rationales: a flagged item needs at least one act span"]


def test_a_flagged_item_needs_an_actor_unless_the_bio_names_it(write_jsonl) -> None:
    row = _flagged(rationales=[_span("act", "ikut kampanye")])
    assert _errors(write_jsonl, row) == [
        "rationales: a flagged item needs at least one actor span "
        "(or the tag asn_in_author_context)"
    ]
    assert _errors(write_jsonl, row | {"tags": ["asn_in_author_context"]}) == []


def test_a_hard_negative_needs_its_frame(write_jsonl) -> None:
    text = "Kepala desa ikut kampanye paslon 02."
    row = _unflagged(rationales=[_span("act", "ikut kampanye", text)])
    assert _errors(write_jsonl, row) == [
        "rationales: an item tagged hard_negative needs at least one frame span "
        "(or the tag non_asn_in_author_context)"
    ]
    bio_only = row | {"tags": [*row.get("tags", []), "non_asn_in_author_context"]}
    assert _errors(write_jsonl, bio_only) == []


def test_require_rationales_through_the_cli(write_jsonl) -> None:
    without = {k: v for k, v in _flagged().items() if k != "rationales"}
    path = write_jsonl("items.jsonl", [without])
    assert CliRunner().invoke(data_app, ["validate", str(path)]).exit_code == 0
    result = CliRunner().invoke(data_app, ["validate", str(path), "--require-rationales"])
    assert result.exit_code == 1
    assert f"{path}:1: rationales: missing field" in result.output


def test_items_without_rationales_hash_as_before(write_jsonl) -> None:
    """A v1 corpus keeps its data hash (the shipped model's manifest records it)."""
    row = {k: v for k, v in _flagged().items() if k != "rationales"}
    (item,) = read_annotations(write_jsonl("items.jsonl", [row]))
    assert item.rationales is None
    v1_fields = ("split", "platform", "province", "election", "annotator", "notes")
    before = [row | dict.fromkeys(v1_fields) | {"tags": []}]
    blob = json.dumps(before, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert data_hash([item]) == hashlib.sha256(blob.encode("utf-8")).hexdigest()


def test_a_line_nested_200000_deep_is_a_line_error(write_jsonl) -> None:
    path = write_jsonl("items.jsonl", [_flagged(), "[" * 200_000 + "]" * 200_000])
    result = CliRunner().invoke(data_app, ["validate", str(path)])
    assert result.exit_code == 1
    assert f"{path}:2: -: broken JSON: nested too deeply" in result.output
    assert "Traceback" not in result.output
    with pytest.raises(AnnotationError, match=r"items\.jsonl:2: -: broken JSON: nested too deeply"):
        read_annotations(path)
