import pytest

from netral_nlp.text import (
    HASHTAG_TOKEN,
    MENTION_TOKEN,
    NIP_TOKEN,
    URL_TOKEN,
    normalise,
    stem,
    tokenize,
)


def norm(text: str) -> list[str]:
    return normalise(text, stemmed=False).split()


def test_placeholders_for_urls_mentions_and_nip() -> None:
    out = norm("cek https://t.co/xYz dan bit.ly/abc @bawaslu_ri NIP 198703122010011002")
    assert out.count(URL_TOKEN) == 2
    assert MENTION_TOKEN in out
    assert NIP_TOKEN in out


def test_candidate_numbers_keep_their_value() -> None:
    assert norm("paslon 02") == norm("paslon 2") == ["pasangan", "calon", "2"]
    assert "__num__" in norm("tahun 2024")


@pytest.mark.parametrize(
    ("tag", "words"),
    [
        ("#2024GantiPresiden", ["__num__", "ganti", "presiden"]),
        ("#ASNNetral", ["asn", "netral"]),
        ("#asnnetral", ["asn", "netral"]),
        ("#coblos02", ["coblos", "2"]),
    ],
)
def test_hashtags_are_split(tag: str, words: list[str]) -> None:
    assert norm(tag) == [HASHTAG_TOKEN, *words]


def test_gestures_become_tokens() -> None:
    assert norm("salam 2 jari ✌️") == ["salam", "gestur_dua_jari", "gestur_dua_jari"]
    assert norm("pose tiga jari 🤟") == ["pose", "gestur_tiga_jari", "gestur_tiga_jari"]
    assert norm("☝️ nomor 1️⃣") == ["gestur_satu_jari", "nomor", "1"]


def test_slang_elongation_and_reduplication() -> None:
    assert norm("yg penting gk golput bangeeet") == ["yang", "penting", "tidak", "golput", "banget"]
    assert norm("anak2 udh dtg") == ["anak", "anak", "sudah", "datang"]


def test_spans_point_into_the_original_text() -> None:
    text = "Pak CAMAT ikut kampanyeee 🔥 #ASNNetral"
    for tok in tokenize(text):
        assert 0 <= tok.start < tok.end <= len(text)
    camat = next(t for t in tokenize(text) if t.norm == "camat")
    assert text[camat.start : camat.end] == "CAMAT"


def test_spans_survive_characters_nfkc_would_change() -> None:
    text = "ｐｎｓ ikut kampanye"  # full-width letters
    toks = tokenize(text)
    assert toks[0].norm == "pns"
    assert text[toks[0].start : toks[0].end] == "ｐｎｓ"


def test_stemming_is_cached_and_sastrawi_backed() -> None:
    assert stem("mengkampanyekan") == "kampanye"
    assert stem("kampanye") == "kampanye"
    assert stem.cache_info().currsize > 0


def test_empty_and_whitespace() -> None:
    assert normalise("") == ""
    assert normalise("   \n\t") == ""


def test_tokenizing_chunk_by_chunk_equals_one_scan_of_the_text() -> None:
    """token_columns tokenizes between spaces and caches chunks: the tokens (and spans)
    must be those of one scan over the whole text, whatever sits next to a space."""
    import random

    from netral_nlp.text import _merge_gestures, _scan

    pieces = [" ", "  ", ".", ",", "@", "#", "1", "2", "02", "1.000", "a", "Ab", "kampanye",
              "anak2", "JARI", "jari", "dua", "http://x.co/a", "www.", "kompas.com/", "\n", "-",
              "'", "✌", "\ufe0f", "\u20e3", "🇮🇩", "_", "İ", "ẞ", "yg", "bangeeet", "x.y", "-2",
              "199001012020121001", "٣", "x" * 70]  # fmt: skip
    rng = random.Random(5)
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        expected = _scan(text)
        if "jari" in text.lower():
            expected = _merge_gestures(expected)
        assert tokenize(text) == expected, text


def test_sentence_boundaries_are_those_of_the_plain_pattern() -> None:
    """_BOUNDARY_RE is written to open with a class (fast to scan); it must find the
    boundaries the plain pattern finds."""
    import random
    import re

    from netral_nlp.text import _BOUNDARY_RE

    plain = re.compile(r"[.!?]+[\"'”’)\]]*(?![\w])|\n")
    pieces = [".", "!", "?", "\n", "a", " ", '"', "'", "”", "’", ")", "]", "1", "_", "é", "?!"]
    rng = random.Random(2)
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        assert [m.span() for m in _BOUNDARY_RE.finditer(text)] == [
            m.span() for m in plain.finditer(text)
        ], text
