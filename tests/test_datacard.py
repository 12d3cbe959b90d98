"""Data-card tables, minimums and README marker handling."""

from __future__ import annotations

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
