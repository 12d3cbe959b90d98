"""Data-card tables, minimums and README marker handling."""

from __future__ import annotations

from pathlib import Path

import pytest

from netral_nlp.data import Item
from netral_nlp.datacard import (
    END_MARKER,
    START_MARKER,
    card_tables,
    check_card,
    check_minimums,
    split_flag_table,
    update_card,
)

ANNOTATIONS = Path(__file__).resolve().parents[1] / "data" / "annotations"


def _item(k: int, **kw) -> Item:
    flag = kw.pop("flag", False)
    base = {
        "id": f"i{k}",
        "text": " ".join(["kata"] * (k + 1)),
        "source_type": "post",
        "author_context": None,
        "partisan": flag,
        "asn": flag,
        "flag": flag,
        "categories": ["kampanye_medsos"] if flag else [],
    }
    return Item(**{**base, **kw})


@pytest.fixture
def items() -> list[Item]:
    return [
        _item(
            0,
            flag=True,
            split="train",
            categories=["kampanye_medsos", "ajakan_dukungan"],
            tags=["asn_in_author_context", "gesture"],
            platform="x",
            province="Aceh",
            election="pilpres",
        ),
        _item(
            1,
            flag=True,
            split="train",
            tags=["twibbon"],
            platform="x",
            province="Bali",
            election="pileg",
        ),
        _item(
            2,
            split="train",
            partisan=True,
            platform="facebook",
            province="Bali",
            election="pilkada",
        ),
        _item(3, split="dev", asn=True, source_type="news", platform="news", province="Aceh"),
        _item(4, split="test", source_type="news", platform="news"),
        _item(5, source_type="chat", platform="whatsapp", tags=["gesture"]),
    ]


def test_split_flag_table(items):
    table = split_flag_table(items)
    assert "| train | 2 | 1 | 3 | 66.7% |" in table
    assert "| dev | 0 | 1 | 1 | 0.0% |" in table
    assert "| unsplit | 0 | 1 | 1 | 0.0% |" in table
    assert table.splitlines()[-1] == "| total | 2 | 4 | 6 | 33.3% |"


def test_card_tables_counts(items):
    card = card_tables(items)
    assert card == card_tables(list(reversed(items)))
    assert card.startswith("6 items, 2 flagged (33.3%).")
    assert "| kampanye_medsos | 2 | 0 | 0 | 0 | 2 |" in card  # train dev test unsplit total
    assert "| ajakan_dukungan | 1 | 0 | 0 | 0 | 1 |" in card
    assert (
        "| 1 | 1 | 50.0% |" in card and "| 2 | 1 | 50.0% |" in card and "| 3+ | 0 | 0.0% |" in card
    )
    assert "Flagged items with 2+ categories: 50.0% (1/2)." in card
    assert "| post | 3 | 50.0% |" in card and "| press | 0 | 0.0% |" in card
    assert "Informal social (source_type post): 50.0%." in card
    assert "| x | 2 | 33.3% |" in card and "| whatsapp | 1 | 16.7% |" in card
    assert "2 distinct provinces." in card and "| (none) | 2 | 33.3% |" in card
    assert "| pilkada | 1 | 16.7% |" in card
    # words: post items have 1, 2, 3 words; news 4 and 5
    assert "| post | 3 | 1 | 2 | 3 | 3 |" in card and "| news | 2 | 4 | 4.5 | 5 | 5 |" in card
    # unflagged: i2 partisan, i3 asn -> 2 of 4 hard negatives
    assert "| hard negatives (unflagged, partisan or asn) | 2 | 50.0% |" in card
    assert "| flagged with tag asn_in_author_context | 1 | 50.0% |" in card
    assert "| gesture | 2 | 33.3% |" in card


def test_minimums(items):
    rows = {m.requirement: m for m in check_minimums(items)}
    assert not rows["items"].ok and rows["items"].actual == "6"
    assert rows["informal social (source_type post)"].ok
    assert (
        rows["news (source_type news)"].ok
        and rows["news (source_type news)"].actual == "33.3% (2/6)"
    )
    assert not rows["flagged"].ok  # 33.3% is below 35%
    assert not rows["category kampanye_medsos"].ok
    assert rows["2+ categories (of flagged)"].ok
    assert rows["tag asn_in_author_context (of flagged)"].ok
    assert rows["hard negatives (of unflagged)"].ok
    assert not rows["distinct provinces"].ok
    assert rows["election types"].ok and rows["election types"].actual == "all present"
    assert "| items | >= 2000 | 6 | ❌ |" in card_tables(items)
    assert check_minimums(items[1:])[-1].actual == "missing pilpres"


def test_update_and_check_card(items, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(
        f"# Corpus\n\nIntro.\n\n{START_MARKER}\nold\n{END_MARKER}\n\n## Limitations\n"
    )
    assert not check_card(readme, items)
    assert update_card(readme, items)
    text = readme.read_text()
    assert text.startswith("# Corpus\n\nIntro.\n\n" + START_MARKER) and text.endswith(
        END_MARKER + "\n\n## Limitations\n"
    )
    assert "old" not in text and card_tables(items) in text
    assert check_card(readme, items) and not update_card(readme, items)
    assert not check_card(readme, items[:-1])


def test_update_card_appends_markers_when_missing(items, tmp_path):
    readme = tmp_path / "README.md"
    assert not check_card(readme, items)
    update_card(readme, items)
    assert check_card(readme, items)
    readme.write_text("# Corpus\n")
    update_card(readme, items)
    assert readme.read_text().startswith("# Corpus\n\n## Corpus statistics\n\n" + START_MARKER)


def test_malformed_markers_are_refused(items, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"{END_MARKER}\n{START_MARKER}\n")
    with pytest.raises(ValueError, match="expected one"):
        update_card(readme, items)


def test_rationale_table_counts_roles_and_linked_items() -> None:
    from netral_nlp.data import Rationale
    from netral_nlp.datacard import _rationale_table

    linked = _item(
        1,
        flag=True,
        categories=["kampanye_medsos"],
        rationales=[Rationale(0, 5, "actor", "Camat"), Rationale(6, 10, "act", "ikut")],
    )
    act_only = _item(
        2, flag=True, categories=["kampanye_medsos"], rationales=[Rationale(6, 10, "act", "ikut")]
    )
    plain = _item(3)
    table = _rationale_table([linked, act_only, plain])
    assert "| act | 2 |  |" in table and "| actor | 1 |  |" in table
    assert "| items annotated (field present) | 2 | 66.7% |" in table
    assert "| flagged items with actor and act | 1 | 50.0% |" in table


# --------------------------------------------------------------------------- label reviews


def _decision(item_id: str, label: str, given: bool, decision: str = "kept", **kw) -> dict:
    row = {
        "round": kw.pop("round", "r1"),
        "id": item_id,
        "label": label,
        "given": given,
        "decision": decision,
        "reason": "checked against the guidelines",
        "reviewer": "annot-2",
    }
    if decision == "corrected":
        row["kind"] = kw.pop("kind", "wrong category")
    return row | kw


def _write_log(path, rows) -> None:
    import json

    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_review_summary_counts_items_labels_and_kinds(tmp_path):
    from netral_nlp.reviews import read_reviews, review_summary

    reviews = tmp_path / "reviews"
    reviews.mkdir()
    _write_log(
        reviews / "round-1.jsonl",
        [
            _decision("i0", "flag", True),
            _decision("i0", "ajakan_dukungan", True, "corrected", kind="vest read as party"),
            _decision("i1", "flag", True, "corrected", kind="reply without candidate"),
            _decision("i2", "kampanye_medsos", False, "corrected", kind="vest read as party"),
        ],
    )
    _write_log(reviews / "round-2.jsonl", [_decision("i3", "flag", False, round="r2")])
    summary = review_summary(read_reviews(reviews))
    assert summary.startswith("4 items checked against the guidelines (5 labels), 3 corrected")
    assert "| r1 | 3 | 3 | 4 | 3 |" in summary and "| r2 | 1 | 0 | 1 | 0 |" in summary
    assert "| all | 4 | 3 | 5 | 3 |" in summary
    assert "| flag | 3 | 1 | 1 | 0 |" in summary
    assert "| kampanye_medsos | 1 | 1 | 0 | 1 |" in summary
    assert "| vest read as party | 2 | 2 |" in summary.split("Kinds of error found:")[1]
    assert read_reviews(tmp_path / "none") == [] and "No label review" in review_summary([])


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (_decision("i0", "flag", "yes"), ":2: given: expected true or false, got 'yes'"),
        (_decision("i0", "kampanye", True), ":2: label: unknown 'kampanye'"),
        (_decision("i0", "flag", True, "maybe"), ":2: decision: expected kept or corrected"),
        (
            {**_decision("i0", "flag", True, "corrected"), "kind": ""},
            ":2: kind: expected a non-empty string",
        ),
        ({**_decision("i0", "flag", True), "reason": None}, ":2: reason: expected a non-empty"),
    ],
)
def test_a_bad_review_line_is_named_by_file_line_and_field(tmp_path, row, message):
    from netral_nlp.data import AnnotationError
    from netral_nlp.reviews import read_reviews

    log = tmp_path / "log.jsonl"
    _write_log(log, [_decision("i1", "flag", True), row])
    with pytest.raises(AnnotationError, match=f"{log}{message}"):
        read_reviews(log)


def test_corrections_must_be_in_the_corpus(items):
    from netral_nlp.reviews import ReviewDecision, check_applied

    def d(item_id, label, given, decision="corrected"):
        return ReviewDecision("r1", item_id, label, given, decision, "why", "annot-2", "kind")

    applied = [
        d("i0", "flag", False),
        d("i1", "ajakan_dukungan", True),
        d("i2", "flag", False, "kept"),
    ]
    assert check_applied(applied, items) == []  # i0 flagged now; i1 lacks ajakan; i2 is kept
    assert check_applied([d("i2", "flag", False), d("zz", "flag", True, "kept")], items) == [
        "r1: i2: flag was corrected but is still False in the corpus",
        "r1: zz: not in the corpus",
    ]
    # A later decision on the same label replaces the earlier one.
    assert check_applied([d("i2", "flag", False), d("i2", "flag", False, "kept")], items) == []


def test_card_shows_the_reviews_and_goes_stale_without_them(items, tmp_path):
    from netral_nlp.reviews import ReviewDecision

    review = [ReviewDecision("r1", "i0", "flag", True, "kept", "right", "annot-2")]
    readme = tmp_path / "README.md"
    update_card(readme, items, review)
    assert "### Label review\n\n1 items checked" in readme.read_text()
    assert check_card(readme, items, review) and not check_card(readme, items)


def test_cli_card_refuses_a_log_the_corpus_does_not_follow(make_item, write_jsonl, tmp_path):
    from typer.testing import CliRunner

    from netral_nlp.data_cli import data_app

    row = make_item(flag=True)
    corpus = write_jsonl("items.jsonl", [row])
    (corpus.parent / "reviews").mkdir()
    _write_log(
        corpus.parent / "reviews" / "r1.jsonl",
        [_decision(row["id"], "flag", True, "corrected", kind="not partisan")],
    )
    result = CliRunner().invoke(
        data_app, ["card", str(corpus.parent), "--readme", str(tmp_path / "card.md")]
    )
    assert result.exit_code == 2
    assert "flag was corrected but is still True in the corpus" in result.output


@pytest.mark.skipif(
    not (ANNOTATIONS / "README.md").is_file(), reason="no data card in data/annotations"
)
def test_the_shipped_data_card_is_current():
    """`netral data card --check` on the corpus: its tables and review counts are current."""
    from netral_nlp.data import read_annotations
    from netral_nlp.reviews import check_applied, read_reviews

    items = read_annotations(ANNOTATIONS)
    reviews = read_reviews(ANNOTATIONS / "reviews")
    assert check_applied(reviews, items) == []
    assert check_card(ANNOTATIONS / "README.md", items, reviews), "run `netral data card`"
