"""Rollups for monitors on a hand-written scored fixture (invented posts, fictional
people): every table equals the one computed by hand, and region attribution handles the
usual phrasings, including a name a kota and a kabupaten share."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netral_nlp.io import InputError
from netral_nlp.regions import find_regions, places
from netral_nlp.rollups import (
    asn_bio_roles,
    find_instansi,
    find_jabatan,
    iso_week,
    rollup,
    tables,
    utc_iso,
)

FIXTURE = Path(__file__).parent / "fixtures" / "scored_monitor.jsonl"


@pytest.fixture(scope="module")
def made() -> dict:
    return {t.name: t for t in tables(rollup(FIXTURE))}


def test_counts_and_unreadable_rows() -> None:
    result = rollup(FIXTURE)
    assert (result.rows, result.unreadable, result.flagged) == (9, 1, 6)


def test_by_province(made: dict) -> None:
    # x1, x2 Jawa Tengah (one account); t1, x3 Jawa Barat (two); w1 Banjar, Kalsel; n1 none
    assert made["provinsi"].rows == [
        ["32", "Jawa Barat", 2, 2, 1, 0, 1, 0, 0],
        ["33", "Jawa Tengah", 2, 1, 0, 1, 1, 1, 0],
        ["63", "Kalimantan Selatan", 1, 1, 0, 0, 0, 1, 0],
        ["-", "tidak diketahui", 1, 0, 0, 0, 0, 0, 1],
    ]


def test_by_kabkota(made: dict) -> None:
    table = made["kabupaten_kota"]
    assert table.rows == [
        ["32.73", "Kota Bandung", "Jawa Barat", 1, 1, 0, 0, 0, 0],
        ["32.75", "Kota Bekasi", "Jawa Barat", 1, 0, 0, 1, 0, 0],
        ["33.15", "Kabupaten Grobogan", "Jawa Tengah", 1, 0, 1, 0, 0, 0],
        ["63.03", "Kabupaten Banjar", "Kalimantan Selatan", 1, 0, 0, 0, 1, 0],
    ]
    # x2 names only "Semarang" (a kota and a kabupaten): counted at province level
    assert table.note == "2 of 6 findings name no kabupaten/kota"


def test_by_instansi_and_jabatan(made: dict) -> None:
    assert [r[:2] for r in made["instansi"].rows] == [
        ["Dinas Pendidikan", 1],
        ["Kecamatan", 1],
        ["Kelurahan", 1],
        ["Puskesmas", 1],
        ["Sekolah", 1],
        ["tidak disebut", 1],
    ]
    assert made["instansi"].rows[0][2:] == [0, 0, 1, 1, 0]
    assert {r[0]: r[1] for r in made["jabatan"].rows} == {
        "ASN": 1,
        "camat": 1,
        "guru": 1,
        "kepala dinas": 1,
        "kepala puskesmas": 1,
        "lurah": 1,
    }


def test_by_instansi_jabatan(made: dict) -> None:
    assert made["instansi_jabatan"].rows == [
        ["Dinas Pendidikan", "kepala dinas", 1],
        ["Kecamatan", "camat", 1],
        ["Kelurahan", "lurah", 1],
        ["Puskesmas", "kepala puskesmas", 1],
        ["Sekolah", "guru", 1],
        ["tidak disebut", "ASN", 1],
    ]


def test_by_category_week_status(made: dict) -> None:
    assert made["kategori"].rows == [
        ["kampanye_medsos", 1, 0.1667],
        ["kegiatan_kampanye", 1, 0.1667],
        ["ajakan_dukungan", 2, 0.3333],
        ["penyalahgunaan_jabatan", 2, 0.3333],
        ["keterlibatan_parpol", 1, 0.1667],
    ]
    # x2's +07:00 time is 03:00 UTC on Friday 2 February: week 5
    assert made["minggu"].rows == [
        ["2024-W05", 2, 0, 1, 1, 1, 0],
        ["2024-W06", 2, 1, 0, 1, 0, 0],
        ["2024-W07", 1, 0, 0, 0, 0, 1],
    ]
    assert made["minggu"].note == "1 findings have no readable created_at"
    assert made["status"].rows == [
        ["temuan", 0],
        ["kajian", 1],
        ["rekomendasi", 0],
        ["selesai", 0],
        ["belum ditinjau", 5],
    ]


def test_by_account(made: dict) -> None:
    rows = {r[0]: r for r in made["akun"].rows}
    assert list(rows) == ["budi_camat_wrs", "bu_sari_guru", "u-404", "warga_bks"]
    budi = rows["budi_camat_wrs"]
    # three rows (0.91, 0.75, 0.30), two flagged
    assert budi[3:12] == [
        "ya",
        "ASN, Camat",
        3,
        2,
        0.91,
        0.6533,
        "ajakan_dukungan 1; kegiatan_kampanye 1; penyalahgunaan_jabatan 1",
        "2024-01-29T03:00:00Z",
        "2024-02-02T03:00:00Z",
    ]
    assert len(budi[12]) == 2
    assert rows["warga_bks"][3:9] == ["tidak", "", 2, 1, 0.66, 0.38]  # "Pensiunan PNS"
    assert rows["u-404"][3] == "-"  # no bio in the file


def test_evidence_items(made: dict) -> None:
    table = made["bukti"]
    assert [r[0] for r in table.rows] == ["x1", "t1", "w1", "x2", "n1", "x3"]
    first = dict(zip(table.columns, table.rows[0], strict=True))
    assert first["sorotan"] == (
        "⟦Camat⟧ Wirosari ikut ⟪kampanye⟫ paslon nomor 2 di lapangan Kabupaten Grobogan."
    )
    assert (first["kabupaten_kota"], first["instansi"], first["jabatan"]) == (
        "Kabupaten Grobogan",
        "Kecamatan",
        "camat",
    )
    assert first["status"] == ""
    # x2's evidence is its second sentence: span offsets are moved to the sentence
    x2 = dict(zip(table.columns, table.rows[3], strict=True))
    assert x2["sorotan"].startswith("⟦Kepala Dinas Pendidikan⟧ ⟪mengajak⟫ para guru")
    assert (x2["provinsi"], x2["kabupaten_kota"]) == ("Jawa Tengah", None)  # "Semarang"
    # n1 has no spans: the rule detectors mark its evidence
    n1 = dict(zip(table.columns, table.rows[4], strict=True))
    assert n1["sorotan"] == "Seorang ⟦ASN⟧ terdaftar sebagai ⟪pengurus partai⟫, kata Bawaslu."
    assert n1["status"] == "kajian"


def test_missing_fields_say_so(tmp_path: Path) -> None:
    bare = tmp_path / "bare.jsonl"
    with FIXTURE.open(encoding="utf-8") as src, bare.open("w", encoding="utf-8") as out:
        for line in src:
            row = json.loads(line)
            keep = ("id", "score", "flag", "categories", "category_scores", "evidence", "model")
            out.write(json.dumps({k: row[k] for k in keep if k in row}) + "\n")
    made = {t.name: t for t in tables(rollup(bare))}
    assert made["akun"].rows == [] and "no author_handle" in made["akun"].note
    assert made["minggu"].rows == [] and "no created_at" in made["minggu"].note
    assert "evidence only" in made["provinsi"].note
    assert made["bukti"].note == "not in the scored file: url, created_at"
    # places still come from the evidence sentences
    assert made["provinsi"].rows[0][:3] == ["32", "Jawa Barat", 2]


def test_empty_input_is_one_clear_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="no scored rows"):
        rollup(empty)


@pytest.mark.parametrize(
    ("text", "bio", "province", "code"),
    [
        ("Camat di Kab. Grobogan ikut kampanye", None, "33", "33.15"),
        ("Guru di Kota Bandung pasang twibbon", None, "32", "32.73"),
        ("Guru di Kabupaten Bandung pasang twibbon", None, "32", "32.04"),
        ("Pemkab Bandung Barat", None, "32", "32.17"),  # the longer name wins
        ("Guru di Bandung pasang twibbon", None, "32", None),  # kota or kabupaten: province
        ("Bupati Semarang hadir", None, "33", "33.22"),
        ("Lurah di Jaksel ikut deklarasi", None, "31", "31.74"),
        ("ASN Pemkab Bone pasang baliho", None, "73", "73.08"),
        ("guru di Kab. Bone ikut deklarasi", None, "73", "73.08"),
        ("camat di Sulsel", None, "73", None),
        ("ASN NTB dan NTT", None, "52", None),  # the first province named
        ("lurah di DIY", None, "34", None),
        ("PNS Pemprov Kalbar", None, "61", None),
        ("Wali Kota Malang hadir", None, "35", "35.73"),
        ("kepala dinas di Jateng", None, "33", None),
        ("rapat di Yogyakarta", None, "34", None),  # a province's name alone is the province
        ("rapat di Kota Jogja", None, "34", "34.71"),
        ("ASN Banjar ikut kampanye", "tinggal di Kalsel", "63", "63.03"),  # province context
        ("ASN Banjar ikut kampanye", "asli Jawa Barat", "32", "32.79"),
        ("di Pematang Siantar", None, "12", "12.72"),
        ("tanpa tempat", "PNS Pemkot Surabaya", "35", "35.78"),  # from the bio
    ],
)
def test_find_regions(text: str, bio: str | None, province: str, code: str | None) -> None:
    region = find_regions(text, bio)
    assert region is not None
    assert (region.province_code, region.code) == (province, code)


@pytest.mark.parametrize(
    "text",
    [
        "ASN Banjar ikut kampanye",  # a kota in Jawa Barat, a kabupaten in Kalsel: no guess
        "kepala dinas batu bata",  # a common word needs a marker
        "tanpa tempat",
    ],
)
def test_find_regions_none(text: str) -> None:
    assert find_regions(text) is None


def test_region_codes_complete() -> None:
    levels = [p.level for p in places().values()]
    assert levels.count("provinsi") == 38
    assert levels.count("kabupaten") + levels.count("kota") == 514
    assert places()["11.01"].name == "Kabupaten Aceh Selatan"


def test_instansi_jabatan_and_bio() -> None:
    assert find_instansi("Kepala Dinas Pendidikan mengajak guru") == "Dinas Pendidikan"
    assert find_instansi("Kadis Pertanian hadir di deklarasi") == "Dinas"
    assert find_instansi("pakai mobil dinas untuk kampanye") == "tidak disebut"
    assert find_instansi("Staf Dinas Perikanan ikut konvoi") == "Dinas Perikanan"
    assert find_instansi(None, "", "guru SMPN 2") == "Sekolah"
    assert find_jabatan("Kadis ikut deklarasi") == "kepala dinas"
    assert find_jabatan("ASN dan honorer ikut konvoi") == "honorer"
    assert find_jabatan("tidak ada", None) == "tidak disebut"
    assert asn_bio_roles("Pensiunan PNS") == []
    assert asn_bio_roles("Kepsek SMPN 1 | guru swasta dulu") == ["Kepsek"]


def test_times() -> None:
    assert utc_iso("2024-02-02T10:00:00+07:00") == "2024-02-02T03:00:00Z"
    assert utc_iso("2024-02-02 10:00:00") == "2024-02-02T10:00:00Z"
    assert utc_iso("kemarin") is None
    assert iso_week("2024-12-30T00:00:00Z") == "2025-W01"
