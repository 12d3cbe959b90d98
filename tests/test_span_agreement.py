"""Token-overlap agreement on rationale spans (corpus v2 agreement study)."""

from __future__ import annotations

import math

import pytest

from netral_nlp.agreement import compare_spans

TEXT = "Camat Rudi ikut kampanye paslon nomor 2 di lapangan kota."


def _span(text: str, phrase: str, role: str) -> dict:
    start = text.index(phrase)
    return {"start": start, "end": start + len(phrase), "role": role, "text": phrase}


def _by_role(rows: list) -> dict:
    return {r.role: r for r in rows}


def test_identical_spans_agree_fully() -> None:
    spans = [_span(TEXT, "Camat Rudi", "actor"), _span(TEXT, "ikut kampanye", "act")]
    rows = _by_role(
        compare_spans(
            [{"id": "x", "rationales": spans}], [{"id": "x", "rationales": spans}], {"x": TEXT}
        )
    )
    assert rows["actor"].f1 == 1.0 and rows["act"].f1 == 1.0 and rows["all"].f1 == 1.0
    assert math.isnan(rows["frame"].f1) and rows["frame"].items == 0


def test_partial_overlap_counts_shared_tokens() -> None:
    first = [_span(TEXT, "ikut kampanye paslon nomor 2", "act")]  # 5 tokens
    second = [_span(TEXT, "kampanye paslon", "act"), _span(TEXT, "Camat", "actor")]  # 2 + 1
    rows = _by_role(
        compare_spans(
            [{"id": "x", "rationales": first}], [{"id": "x", "rationales": second}], {"x": TEXT}
        )
    )
    assert rows["act"].shared == 2
    assert rows["act"].f1 == pytest.approx(2 * 2 / (5 + 2))
    assert rows["actor"].f1 == 0.0  # only the second marked an actor
    assert rows["all"].f1 == pytest.approx(2 * 2 / (5 + 3))


def test_roles_are_compared_separately_and_missing_items_skipped() -> None:
    first = [
        {"id": "x", "rationales": [_span(TEXT, "Camat Rudi", "actor")]},
        {"id": "y", "rationales": [_span(TEXT, "Camat", "actor")]},
    ]
    second = [
        {"id": "x", "rationales": [_span(TEXT, "Camat Rudi", "frame")]},
        {"id": "y"},
    ]  # no rationales: not compared
    rows = _by_role(compare_spans(first, second, {"x": TEXT, "y": TEXT}))
    assert rows["actor"].f1 == 0.0 and rows["actor"].items == 1
    assert rows["all"].f1 == 1.0
