"""The rewritten lexicon alternations match exactly what the plain ``|``-joins match."""

import re
from pathlib import Path

import pytest

from netral_nlp.alternation import alternation, expand, split_top, trie
from netral_nlp.data import read_annotations
from netral_nlp.signals import (
    CATEGORY_NAMES_CUED,
    LEXICONS,
    _sentence_kinds,
    lexicon,
    lower_same_length,
    patterns,
)

CORPUS = Path(__file__).parents[1] / "data" / "annotations"


def _plain(entries: list[str]) -> re.Pattern[str]:
    return re.compile(r"(?<![\w])(?:" + "|".join(entries) + r")(?![\w])")


def _fast(entries: list[str]) -> re.Pattern[str]:
    return re.compile(r"(?<![\w])(?:" + alternation(entries) + r")(?![\w])")


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("(?:a|bc)?d", ["ad", "bcd", "d"]),
        ("(?:a|b)(?:c|d)", ["a(?:c|d)", "b(?:c|d)"]),  # only the opening is rewritten
        ("x|(?:y|z)w", ["x", "yw", "zw"]),
        ("[ab]c", ["ac", "bc"]),
        ("(?<!p )q", ["q(?<!(?:p )q)"]),
        (r"\w+ jari", [r"\w\w*+ jari"]),  # possessive: a space is no word character
        (r"\w+jari", [r"\w\w*jari"]),
        (r"\d{8}", [r"\d\d{7}"]),
        ("(?:a|b)*c", ["(?:a|b)*c"]),  # a repeated group is kept as written
        ("[a-c]d", ["[a-c]d"]),  # so is a class with a range
    ],
)
def test_expand(pattern: str, expected: list[str]) -> None:
    assert expand(pattern) == expected


def test_split_top_ignores_bars_in_groups_and_classes() -> None:
    assert split_top(r"a(?:b|c)|[|]d|\|e") == ["a(?:b|c)", "[|]d", r"\|e"]


def test_trie_keeps_the_order_of_each_first_character() -> None:
    # "ab" is tried before "a" in both; \w+ sits between the two groups of "a"
    assert trie(["ab", "a", "b", r"\w+", "ac"]) == r"a(?:b|)|b|\w+|ac"


_PROBES = [
    "pj bupati hadir, bupati hadir, penjabat gubernur dan wakil wali kota",
    "tenaga honorer, guru honorer; honorer! 199001012020121001 dan 19900101 202012 1 001",
    "pegawai kantor kemenag, staf sekretariat kpu, asn bawaslu, uu no. 7, uu nomor 10",
    "salam dua jari ✌ 2 periode #2periode tiga jari☝ dukung paslon 02 nge-like nge-share",
    "tidak boleh kampanye, tidak terbukti, deklarasi damai, kampanye damai, kampanyekan",
    "sekolah swasta, madrasah swasta, kepala desa, kades, pj kepala desa, plt. bupati",
]


@pytest.mark.parametrize("name", LEXICONS)
def test_each_lexicon_type_matches_as_the_plain_alternation(name: str) -> None:
    texts = [*_PROBES, *(lower_same_length(i.text) for i in read_annotations(CORPUS)[::7])]
    types = sorted({e.type for e in lexicon(name)})
    for group in [(t,) for t in types] + [()]:
        entries = [e.pattern for e in lexicon(name) if not group or e.type in group]
        plain, fast = _plain(entries), _fast(entries)
        for text in texts:
            assert [m.span() for m in fast.finditer(text)] == [
                m.span() for m in plain.finditer(text)
            ], (name, group, text[:80])
    assert patterns(name).pattern == _fast([e.pattern for e in lexicon(name)]).pattern


def _groups(groups: list[tuple[str, list[str]]]) -> re.Pattern[str]:
    body = "|".join(f"(?P<{kind}>" + "|".join(entries) + ")" for kind, entries in groups)
    return re.compile(r"(?<![\w])(?:" + body + r")(?![\w])")


def test_sentence_kinds_name_the_kind_the_plain_pattern_names() -> None:
    """The frame and cue scans report the kind of the first entry that matches, as one
    named group per kind did."""
    order = ("rule", "warning", "statistic", "pledge", "sanction", "cleared", "misuse",
             "procedure", "attribution", "hypothetical", "negation")  # fmt: skip
    frames = [(f"frame_{k}", [e.pattern for e in lexicon("framing") if e.type == k]) for k in order]
    cues = [
        (f"cue_{c}", [e.pattern for e in lexicon("category_cues") if e.type == c])
        for c in CATEGORY_NAMES_CUED
    ]
    person = [e.pattern for e in lexicon("roles") if e.type == "first_person"]
    plain = (_groups(frames), _groups([*cues, ("actor_first_person", person)]))
    texts = [*_PROBES, *(lower_same_length(i.text) for i in read_annotations(CORPUS)[::11])]
    for (fast, kinds), slow in zip(_sentence_kinds(), plain, strict=True):
        for text in texts:
            got = [(m.span(), kinds[m.lastgroup]) for m in fast.finditer(text)]
            assert got == [(m.span(), m.lastgroup) for m in slow.finditer(text)], text[:80]


def test_one_scan_finds_what_each_pattern_finds_alone() -> None:
    """The signals scan a text once for all eight lexicon patterns; each must get the spans
    its own plain pattern's finditer gives, overlaps between patterns included."""
    from netral_nlp.signals import _DETECTOR_LEXICON, DETECTOR_KINDS, _kind_entries, _scan

    plain = [
        _plain([e.pattern for e in lexicon(name) if not types or e.type in types])
        for name, types in (_DETECTOR_LEXICON[kind] for kind in DETECTOR_KINDS)
    ]
    plain += [_plain([p for _, p in entries]) for entries in _kind_entries()]
    overlapping = "tim sukses relawan pj bupati kampanye tidak boleh, coblos 2 jari ✌ saya"
    texts = [overlapping, *_PROBES]
    texts += [lower_same_length(i.text) for i in read_annotations(CORPUS)[::5]]
    for text in texts:
        for limit in (len(text), len(text) // 2):
            found = _scan(text, limit)
            assert found == [[m.span() for m in rx.finditer(text, 0, limit)] for rx in plain]
