import numpy as np
import pytest

from netral_nlp.signals import FEATURE_NAMES, LEXICONS, SENTENCE_FEATURES, analyse, detect, lexicon
from netral_nlp.text import sentences


def feats(text: str, author: str | None = None) -> dict[str, float]:
    return dict(zip(FEATURE_NAMES, analyse(text, author).features, strict=False))


def test_detectors_return_spans_of_the_text() -> None:
    text = "Camat Sukamaju hadir di kampanye paslon 02."
    kinds = {(s.kind, s.text) for s in detect(text)}
    assert ("asn_role", "Camat") in kinds
    assert ("partisan_act", "kampanye") in kinds
    assert ("candidate", "paslon") in kinds
    for s in detect(text):
        assert text[s.start : s.end] == s.text


def test_actor_and_act_in_one_sentence_is_a_link() -> None:
    a = analyse("Camat Sukamaju hadir di kampanye paslon 02.")
    assert a.link_sentences == [(0, 43)]
    f = feats("Camat Sukamaju hadir di kampanye paslon 02.")
    assert f["asn_act_sentence"] == 1 and f["asn_act_sentence_unframed"] == 1


def test_actor_and_act_in_different_sentences_are_not_linked() -> None:
    f = feats("Camat memimpin rapat dinas pagi ini. Di tempat lain warga ikut kampanye paslon 02.")
    assert f["asn_act_sentence"] == 0
    assert f["non_asn_act_sentence"] == 1


def test_forbidden_act_is_negated_not_linked() -> None:
    a = analyse("ASN dilarang ikut kampanye paslon mana pun.")
    f = dict(zip(FEATURE_NAMES, a.features, strict=False))
    assert f["act_negated_share"] == 1.0
    assert a.link_sentences == []


def test_nearest_actor_kind() -> None:
    f = feats("Kades Sumberagung ikut kampanye, camat hanya mengawasi dari jauh.")
    assert f["act_nearest_non_asn"] == 1.0 and f["act_nearest_asn"] == 0.0


def test_author_context_turns_on_author_features() -> None:
    plain = feats("Gas pol paslon 3! coblos!", None)
    bio = feats("Gas pol paslon 3! coblos!", "Guru SDN 2 Bojonegoro | PNS")
    assert plain["author_asn_x_act"] == 0 and bio["author_asn_x_act"] == 1


def test_first_person() -> None:
    assert feats("saya dukung paslon 2")["first_person_act_sentence"] == 1
    assert feats("dia dukung paslon 2")["first_person_act_sentence"] == 0


def test_pj_bupati_is_asn_but_bupati_is_not() -> None:
    kinds = {s.kind for s in detect("Pj Bupati hadir") if s.text.lower().startswith("pj")}
    assert kinds == {"asn_role"}
    assert {s.kind for s in detect("Bupati hadir")} == {"non_asn_actor", "partisan_act"}


def test_features_are_finite_for_odd_input() -> None:
    for text in ["", " ", "🔥🔥🔥", "x" * 5000, "İstanbul İİİ kampanye"]:
        vec = analyse(text).features
        assert vec.shape == (len(FEATURE_NAMES),)
        assert np.isfinite(vec).all()


def test_abbreviations_and_thousands_do_not_end_sentences() -> None:
    a = analyse(
        "Viral! Kepala Dinas Pendidikan Kab. Maros hadir di deklarasi relawan cabup nomor urut 2."
    )
    assert len(a.link_sentences) == 1
    text = "Harga naik jadi Rp 1.000 per ikat. Camat ikut kampanye."
    assert len(analyse(text).link_sentences) == 1
    assert len(analyse(text).sentences) == 2


@pytest.mark.parametrize("name", LEXICONS)
def test_every_lexicon_entry_compiles_and_has_a_known_type(name) -> None:
    import re

    entries = lexicon(name)
    assert entries
    for e in entries:
        re.compile(e.pattern)  # raises on a bad entry
        assert e.type and "\t" not in e.pattern
    if name == "roles":
        assert {e.type for e in entries} == {
            "asn",
            "asn_place",
            "non_asn",
            "former",
            "reporting_body",
            "first_person",
        }


@pytest.mark.parametrize(
    "title",
    ["Kakam", "Kepala Kampung", "Peratin", "Wali Nagari", "Geuchik", "Perbekel", "Kuwu",
     "Bupati", "Menteri", "Kapolsek", "Ketua KPPS", "Guru madrasah swasta", "Kader"],
)  # fmt: skip
def test_non_asn_titles_are_typed_not_asn(title) -> None:
    kinds = {s.kind for s in detect(f"{title} itu ikut kampanye paslon 2.")}
    assert "non_asn_actor" in kinds and "asn_role" not in kinds
    assert analyse(f"{title} itu ikut kampanye paslon 2.").link_sentences == []


@pytest.mark.parametrize(
    "title", ["Pj Kepala Desa", "Staf Sekretariat KPU", "Guru MTsN 2", "Lurah"]
)
def test_asn_titles(title) -> None:
    assert analyse(f"{title} itu ikut kampanye paslon 2.").link_sentences


def test_reporting_body_procedure_is_attribution() -> None:
    a = analyse("Bawaslu memanggil camat untuk klarifikasi, menurut Ketua Bawaslu.")
    row = dict(zip(SENTENCE_FEATURES, a.sentence_features[0], strict=True))
    assert row["actor_reporting_body"] == 1 and row["frame_procedure"] == 1
    assert row["frame_attribution"] == 1 and row["act"] == 0


def test_document_features_do_not_grow_with_repetition() -> None:
    one = analyse("Camat ikut kampanye paslon 2. Hujan deras di pasar.").features
    many = analyse("Camat ikut kampanye paslon 2. Hujan deras di pasar. " * 50).features
    assert np.allclose(one, many)


def test_one_sentence_splitter() -> None:
    text = 'JAKARTA, KOMPAS.com - Camat Kab. Maros hadir. Rp 1.000 dibagi! "Ya." Lalu\nbaris'
    assert [text[s:e] for s, e in sentences(text)] == [
        "JAKARTA, KOMPAS.com - Camat Kab. Maros hadir.",
        "Rp 1.000 dibagi!",
        '"Ya."',
        "Lalu",
        "baris",
    ]
    assert all(e - s <= 30 for s, e in sentences("kata " * 100, max_chars=30))


def test_repeated_sentences_count_once() -> None:
    text = "Camat ikut kampanye paslon 2. Hujan deras di pasar. "
    one, many = analyse(text), analyse(text * 40)
    assert many.sentences == one.sentences
    assert np.array_equal(many.sentence_features, one.sentence_features)
    assert [s.start for s in many.spans] == [s.start for s in one.spans]


@pytest.mark.parametrize(
    ("text", "target"),
    [
        (
            "Kasubag itu meminta tetangganya memilih salah satu calon di pilkada.",
            "salah satu calon",
        ),
        ("Guru itu terang-terangan mendukung calon tertentu di grup kelas.", "calon tertentu"),
        ("Lurah ikut mengantar bapaslon mendaftar ke KPU.", "bapaslon"),
        ("Staf dinas memasang stiker jagoannya di mobil dinas.", "jagoannya"),
        ("Sekcam hadir di deklarasi balon bupati semalam.", "balon bupati"),
    ],
)
def test_an_unnamed_or_abbreviated_candidate_is_a_target(text: str, target: str) -> None:
    # reports often leave the candidate unnamed; without a target the act reads as no act
    assert ("candidate", target) in {(s.kind, s.text) for s in detect(text)}
    assert feats(text)["any_candidate"] == 1


def test_calon_alone_is_not_a_target() -> None:
    # "calon" also means an applicant (calon siswa, calon pegawai): only its candidate uses count
    assert feats("Panitia menerima berkas calon siswa baru di sekolah.")["any_candidate"] == 0


def test_an_applicant_is_not_an_unnamed_candidate() -> None:
    assert feats("Para calon siswa dan seorang calon pegawai antre di aula.")["any_candidate"] == 0
