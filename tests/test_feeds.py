"""Feed adapters: every fixture in tests/fixtures/feeds parses into the expected canonical
rows, is detected as its format, and its malformed records become Rejections."""

from __future__ import annotations

import gzip
import io
import json
import shutil
from pathlib import Path

import pytest

from netral_nlp.feeds import FORMATS, FeedRecord, Rejection, detect_format, read_feed
from netral_nlp.feeds import base as feeds_base
from netral_nlp.io import InputError

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
WA_ID = "Chat WhatsApp dengan Warga RT 05.txt"
WA_EN = "WhatsApp Chat with Relawan Desa.txt"

FIXTURE_FORMATS = {
    "x_api.jsonl": "x-api",
    "twscrape.jsonl": "twscrape",
    "tweet_harvest.csv": "tweet-harvest",
    "tiktok_apify.json": "tiktok-apify",
    "instagram_apify.jsonl": "instagram-apify",
    "facebook_apify.json": "facebook-apify",
    "meta_content_library.csv": "meta-content-library",
    "youtube_comment_threads.json": "youtube",
    "telegram_result.json": "telegram",
    WA_ID: "whatsapp",
    WA_EN: "whatsapp",
    "news_please_article.json": "articles",
    "trafilatura.jsonl": "articles",
}


def read(name: str) -> tuple[dict[str, FeedRecord], list[Rejection]]:
    """(records by id, rejections) of a fixture, checking every item is one or the other."""
    records: dict[str, FeedRecord] = {}
    rejections: list[Rejection] = []
    for item in read_feed(FEEDS / name):
        if isinstance(item, FeedRecord):
            assert item.id not in records, f"duplicate id {item.id}"
            records[item.id] = item
        else:
            assert isinstance(item, Rejection)
            rejections.append(item)
    return records, rejections


def reasons(rejections: list[Rejection]) -> list[tuple[int, str | None]]:
    return [(r.line, r.id) for r in rejections]


# --------------------------------------------------------------------------- X


def test_x_api_long_posts_reposts_quotes_replies() -> None:
    records, rejections = read("x_api.jsonl")
    assert list(records) == [f"180000000000000000{i}" for i in range(1, 5)]
    original = records["1800000000000000001"]
    assert original.text.endswith("pakai kaos biru ya.")  # note_tweet, not the cut text
    assert original.author_handle == "rina_wulandari"
    assert original.author_context == "ASN Dinas Pendidikan Kab. Sukamaju. Cuitan pribadi."
    assert original.created_at == "2024-01-10T02:15:00Z"
    assert original.url == "https://x.com/rina_wulandari/status/1800000000000000001"
    assert original.engagement == {
        "likes": 40,
        "reposts": 12,
        "quotes": 1,
        "replies": 3,
        "views": 900,
        "bookmarks": 2,
    }
    assert (original.relation, original.parent_id, original.lang) == (None, None, "in")

    repost = records["1800000000000000002"]
    assert (repost.relation, repost.parent_id) == ("repost", "1800000000000000001")
    assert repost.text == original.text  # the reposted post's full text
    assert repost.author_handle == "warga_cilacak"

    quote = records["1800000000000000003"]
    assert (quote.relation, quote.parent_id) == ("quote", "1800000000000000001")
    assert quote.text.startswith("Ini ASN kok")
    assert quote.author_context is None  # an empty bio

    reply = records["1800000000000000004"]
    assert (reply.relation, reply.parent_id) == ("reply", "1800000000000000003")
    assert reply.created_at == "2024-01-10T05:30:00Z"

    assert reasons(rejections) == [(2, None), (3, "1800000000000000005")]
    assert rejections[0].reason.startswith("broken JSON")
    assert rejections[1].reason == "data: field 'text' must be a string, got integer"


def test_twscrape_reposts_quotes_replies_and_bio() -> None:
    records, rejections = read("twscrape.jsonl")
    first = records["1790000000000000101"]
    assert first.author_context == "Kepala Seksi di Kecamatan Mekarsari. Pandangan pribadi."
    assert first.created_at == "2024-02-01T01:00:00Z"  # +07:00 in the source
    assert first.engagement == {"likes": 10, "reposts": 2, "quotes": 0, "replies": 1, "views": 300}

    repost = records["1790000000000000102"]
    assert (repost.relation, repost.parent_id) == ("repost", "1790000000000000099")
    assert repost.text.endswith("#Pilkada2024 #GuruHonorer")  # full retweetedTweet text

    quote = records["1790000000000000103"]
    assert (quote.relation, quote.parent_id) == ("quote", "1790000000000000099")
    assert quote.text == "Kampanye kok di jam kerja? Mohon dicek."
    assert quote.author_handle == "sari_lestari"

    reply = records["1790000000000000104"]
    assert (reply.relation, reply.parent_id) == ("reply", "1790000000000000101")

    assert reasons(rejections) == [(5, "1790000000000000105"), (6, None)]
    assert "no text to score" in rejections[0].reason
    assert rejections[1].reason == "expected a JSON object, got array"


def test_tweet_harvest_csv() -> None:
    records, rejections = read("tweet_harvest.csv")
    assert list(records) == ["1810000000000000001", "1810000000000000002", "1810000000000000003"]
    first = records["1810000000000000001"]
    assert (
        first.text == 'Pelayanan KTP di Disdukcapil hari ini cepat, antre cuma 20 menit. "Mantap"!'
    )
    assert first.created_at == "2024-01-10T02:15:00Z"
    assert first.author_context is None  # tweet-harvest has no bio
    assert first.engagement == {"likes": 15, "reposts": 1, "quotes": 0, "replies": 2}
    reply = records["1810000000000000002"]
    assert reply.text == "@yusuf_hakim Syukurlah,\nsemoga terus begitu."  # quoted newline
    assert (reply.relation, reply.parent_id, reply.line) == ("reply", None, 3)
    assert records["1810000000000000003"].relation == "repost"
    assert records["1810000000000000003"].line == 5
    assert reasons(rejections) == [(6, None)]
    assert rejections[0].reason == "expected 15 fields, got 4"


# --------------------------------------------------------------------------- Apify, Meta


def test_tiktok_apify() -> None:
    records, rejections = read("tiktok_apify.json")
    video = records["7320000000000000001"]
    assert video.platform == "tiktok"
    assert video.author_handle == "ayu.kartika"
    assert video.author_context == "Perawat PNS RSUD Sukamaju 🏥 | konten edukasi"
    assert video.url == "https://www.tiktok.com/@ayu.kartika/video/7320000000000000001"
    assert video.created_at == "2024-01-10T04:15:00Z"
    assert video.engagement == {
        "likes": 250,
        "reposts": 30,
        "replies": 12,
        "views": 5000,
        "bookmarks": 8,
    }
    assert video.line == 2  # where the element starts in the JSON array
    partisan = records["7320000000000000002"]
    assert partisan.engagement["likes"] == 1300  # a count given as a string
    assert partisan.author_context == "Pegawai Kantor Kecamatan Lembah Hijau"
    assert [(r.id, r.reason) for r in rejections] == [
        ("7320000000000000003", "no text to score: 'text' (the caption) is missing or empty")
    ]


def test_instagram_posts_and_comments() -> None:
    records, rejections = read("instagram_apify.jsonl")
    post = records["3300000000000000001"]
    assert post.text == "Rapat koordinasi persiapan Hari Guru di aula kantor. #kerjanyata"
    assert (post.author_handle, post.author_id) == ("maya.sari.guru", "5500000001")
    assert post.engagement == {"likes": 87, "replies": 4}
    comment = records["17900000000000001"]
    assert (comment.relation, comment.parent_id) == ("reply", "C2abcDEFghi")
    assert comment.created_at == "2024-01-11T02:10:00Z"
    assert [(r.line, r.id, r.reason) for r in rejections] == [
        (3, "3300000000000000003", "field 'caption' must be a string, got array")
    ]


def test_facebook_apify_shared_post_is_a_quote() -> None:
    records, rejections = read("facebook_apify.json")
    page_post = records["1220000000000001"]
    assert page_post.author_handle == "Paguyuban Warga Mekarsari"
    assert page_post.engagement == {"likes": 56, "reposts": 4, "replies": 9}
    shared = records["1220000000000002"]
    assert (shared.relation, shared.parent_id) == ("quote", "1110000000000009")
    assert shared.created_at == "2024-01-12T07:00:00Z"
    assert [(r.id, r.line) for r in rejections] == [("1220000000000003", 39)]


def test_meta_content_library_csv() -> None:
    records, rejections = read("meta_content_library.csv")
    first = records["800000000000001"]
    assert first.platform == "facebook"
    assert first.created_at == "2024-01-12T03:00:00Z"
    assert (first.author_id, first.author_handle) == ("7000001", "Puskesmas Mekarsari")
    assert first.engagement == {"reactions": 120, "reposts": 15, "replies": 8}
    assert first.lang == "id"
    share = records["800000000000002"]
    assert (share.relation, share.parent_id) == ("quote", "800000000000777")
    assert [(r.line, r.id) for r in rejections] == [(4, "800000000000003")]
    assert "'creation_time' is not a readable date" in rejections[0].reason


# --------------------------------------------------------------------------- YouTube, Telegram


def test_youtube_threads_and_replies() -> None:
    records, rejections = read("youtube_comment_threads.json")
    assert list(records) == ["UgxThreadA1", "UgxThreadA1.R1", "UgxThreadA1.R2"]
    top = records["UgxThreadA1"]
    assert top.text == "Debat calon bupati semalam seru.\nSemoga yang terpilih amanah."
    assert (top.relation, top.parent_id) == (None, None)
    assert top.author_id == "UCwarga0001"
    assert top.url == "https://www.youtube.com/watch?v=vidSukamaju01&lc=UgxThreadA1"
    reply = records["UgxThreadA1.R1"]
    assert (reply.relation, reply.parent_id) == ("reply", "UgxThreadA1")
    assert (reply.author_handle, reply.engagement) == ("@pak.guru.budi", {"likes": 4})
    assert reply.created_at == "2024-01-13T15:05:00Z"
    assert [(r.id, r.reason) for r in rejections] == [
        (
            "UgxThreadB2",
            "items[1]: no text to score: 'snippet.textOriginal' is missing or empty",
        )
    ]


def test_telegram_entities_forwards_replies_and_service_skipped() -> None:
    records, rejections = read("telegram_result.json")
    assert list(records) == [f"1700000001:{i}" for i in (2, 3, 4, 5)]  # 1 is a service message
    plain = records["1700000001:2"]
    assert plain.created_at == "2024-01-10T02:15:00Z"  # from date_unixtime
    assert (plain.author_handle, plain.author_id) == ("Wawan Setiadi", "user501")
    assert plain.engagement == {"reactions": 4}
    entities = records["1700000001:3"]
    assert entities.text == "Bapak ibu, jangan lupa hadir di deklarasi relawan besok. #Menang2"
    forward = records["1700000001:4"]
    assert (forward.relation, forward.parent_id) == ("forward", None)
    assert forward.raw["forwarded_from"] == "Kanal Relawan Nomor 2"
    reply = records["1700000001:5"]
    assert (reply.relation, reply.parent_id) == ("reply", "1700000001:3")
    assert [(r.line, r.id) for r in rejections] == [(6, "1700000001:6"), (7, "1700000001:7")]
    assert "media only: photo" in rejections[0].reason
    assert rejections[1].reason == "field 'text' must be a string or a list, got integer"


# --------------------------------------------------------------------------- WhatsApp


def test_whatsapp_android_indonesian() -> None:
    records, rejections = read(WA_ID)
    assert list(records) == ["Warga RT 05:3", "Warga RT 05:7", "Warga RT 05:8"]
    first = records["Warga RT 05:3"]
    assert first.text == "Selamat pagi bapak ibu.\nBesok ada kerja bakti jam 7.\nMohon hadir semua."
    assert first.author_handle == "Pak Joko"
    assert first.created_at == "2024-01-10T01:05:00Z"  # 08.05 WIB
    assert first.raw == [
        "10/01/24, 08.05 - Pak Joko: Selamat pagi bapak ibu.",
        "Besok ada kerja bakti jam 7.",
        "Mohon hadir semua.",
    ]
    assert records["Warga RT 05:7"].author_handle == "+62 812-3456-7890"
    photo = records["Warga RT 05:8"]
    assert photo.text == "Ini fotonya waktu rapat"  # the attachment line dropped
    assert photo.created_at == "2024-01-13T14:30:00Z"
    assert [(r.line, r.id) for r in rejections] == [(6, "Warga RT 05:6"), (10, "Warga RT 05:10")]
    assert rejections[0].reason == "no text to score: media or a deleted message"
    assert rejections[1].reason.startswith("unreadable message date")


def test_whatsapp_ios_english_month_first_12h() -> None:
    records, rejections = read(WA_EN)
    assert list(records) == ["Relawan Desa:2", "Relawan Desa:5"]
    meeting = records["Relawan Desa:2"]
    assert meeting.text.endswith("balai desa.\nPlease bring your ID card.")
    assert meeting.created_at == "2024-01-12T14:16:02Z"  # 9:16:02 PM WIB, month first
    assert records["Relawan Desa:5"].created_at == "2024-01-13T00:05:00Z"
    assert [r.line for r in rejections] == [4, 6]  # image omitted, deleted message


def test_whatsapp_android_english_with_narrow_spaces(tmp_path: Path) -> None:
    chat = tmp_path / "WhatsApp Chat with Budi.txt"
    chat.write_text(
        "1/12/24, 9:15\u202fPM - Messages and calls are end-to-end encrypted.\n"
        "1/12/24, 9:15\u202fPM - Budi: Halo semua\n"
        "1/13/24, 12:05\u202fAM - Ani: <Media omitted>\n"
        "1/13/24, 12:06\u202fAM - Ani: Selamat malam\n",
        encoding="utf-8",
    )
    assert detect_format(chat) == "whatsapp"
    items = list(read_feed(chat))
    assert [(i.id, getattr(i, "created_at", None)) for i in items] == [
        ("Budi:2", "2024-01-12T14:15:00Z"),
        ("Budi:3", None),  # the rejected media placeholder
        ("Budi:4", "2024-01-12T17:06:00Z"),  # 12:06 AM on the 13th, WIB
    ]


# --------------------------------------------------------------------------- articles


def test_news_please_article() -> None:
    records, rejections = read("news_please_article.json")
    (article,) = records.values()
    assert article.id == "https://kabarsukamaju.example/berita/2024/01/15/bawaslu-telusuri"
    assert article.text.startswith(
        "Bawaslu Sukamaju Telusuri Dugaan Camat Hadiri Deklarasi Relawan\n\nSUKAMAJU - "
    )
    assert article.author_handle == "Siti Rahmawati; Agus Setiawan"
    assert article.author_id == "kabarsukamaju.example"
    assert article.created_at == "2024-01-15T01:30:00Z"  # naive 08:30 taken as WIB
    assert (article.platform, article.lang) == ("news", "id")
    assert rejections == []


def test_trafilatura_articles() -> None:
    records, rejections = read("trafilatura.jsonl")
    article = records["a1b2c3d4e5f60718"]
    assert article.text == (
        "Posyandu Melati Tambah Jadwal Layanan\n\n"
        "Posyandu Melati kini buka dua kali sepekan.\nWarga diminta membawa buku KIA."
    )
    assert article.url == "https://warta-lembah.example/2024/01/16/posyandu"
    assert article.created_at == "2024-01-16T00:00:00Z"  # a date without a time
    assert [(r.line, r.id) for r in rejections] == [(2, "ffff000011112222")]


# --------------------------------------------------------------------------- detection and API


@pytest.mark.parametrize("name", sorted(FIXTURE_FORMATS))
def test_detection_picks_each_fixture_format(name: str) -> None:
    assert detect_format(FEEDS / name) == FIXTURE_FORMATS[name]


def test_every_format_has_a_fixture_and_a_help_line() -> None:
    assert set(FIXTURE_FORMATS.values()) == set(feeds_base.REGISTRY)
    assert all(f"{name}: " in FORMATS for name in feeds_base.REGISTRY)


@pytest.mark.parametrize(
    "content",
    [
        (Path(__file__).parent / "fixtures" / "mini_corpus.jsonl").read_text(encoding="utf-8"),
        'id,text\n1,"Selamat pagi"\n',
        '{"id": "a", "text": "Selamat pagi"}\n',
        "Catatan rapat: tidak ada yang istimewa.\nSampai jumpa.\n",
    ],
    ids=["annotations", "plain-csv", "plain-jsonl", "prose"],
)
def test_detection_refuses_unrelated_files(tmp_path: Path, content: str) -> None:
    path = tmp_path / "input.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=r"--format .*twscrape.*whatsapp"):
        detect_format(path)
    with pytest.raises(InputError):
        read_feed(path)


def test_forced_format_and_unknown_name() -> None:
    records = [i for i in read_feed(FEEDS / "twscrape.jsonl", format="twscrape")]
    assert len(records) == 6
    with pytest.raises(InputError, match="unknown feed format 'tiktok'; known: articles"):
        read_feed(FEEDS / "twscrape.jsonl", format="tiktok")


def test_missing_and_binary_inputs_raise_at_the_call(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_feed(tmp_path / "none.jsonl", format="twscrape")
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(InputError, match="looks binary"):
        read_feed(binary)


def test_gzip_files_and_open_streams_read_the_same(tmp_path: Path) -> None:
    plain = [i.id for i in read_feed(FEEDS / "twscrape.jsonl")]
    packed = tmp_path / "tweets.jsonl.gz"
    with (FEEDS / "twscrape.jsonl").open("rb") as src, gzip.open(packed, "wb") as dst:
        shutil.copyfileobj(src, dst)
    assert [i.id for i in read_feed(packed)] == plain
    stream = io.BytesIO(packed.read_bytes())
    assert [i.id for i in read_feed(stream)] == plain


def test_raw_keeps_unknown_fields() -> None:
    x_records, _ = read("x_api.jsonl")
    assert x_records["1800000000000000001"].raw["possibly_sensitive"] is False
    tiktok, _ = read("tiktok_apify.json")
    assert tiktok["7320000000000000001"].raw["musicMeta"]["musicName"] == "suara asli"
    mcl, _ = read("meta_content_library.csv")
    assert mcl["800000000000001"].raw["is_branded_content"] == "false"
    telegram, _ = read("telegram_result.json")
    assert telegram["1700000001:3"].raw["text_entities"][1] == {
        "type": "bold",
        "text": "jangan lupa",
    }


def test_record_row_is_the_scorer_input() -> None:
    records, _ = read("twscrape.jsonl")
    row = records["1790000000000000101"].row()
    assert row == {
        "id": "1790000000000000101",
        "text": "Terima kasih warga Mekarsari atas antusiasme di posyandu hari ini.",
        "author_context": "Kepala Seksi di Kecamatan Mekarsari. Pandangan pribadi.",
    }
    assert json.loads(json.dumps(records["1790000000000000101"].record()))["adapter"] == "twscrape"


def test_json_array_streams_across_small_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Elements split across read blocks come out whole, with their starting lines."""
    monkeypatch.setattr(feeds_base, "_READ_BYTES", 64)
    records, rejections = read("facebook_apify.json")
    assert [(r.id, r.line) for r in records.values()] == [
        ("1220000000000001", 2),
        ("1220000000000002", 20),
    ]
    assert [r.line for r in rejections] == [39]


def test_json_array_cut_short_keeps_the_elements_before(tmp_path: Path) -> None:
    text = (FEEDS / "tiktok_apify.json").read_text(encoding="utf-8")
    cut = tmp_path / "cut.json"
    cut.write_text(text[: text.index('"id": "7320000000000000003"') + 10], encoding="utf-8")
    items = list(read_feed(cut, format="tiktok-apify"))
    assert [getattr(i, "id", None) for i in items[:2]] == [
        "7320000000000000001",
        "7320000000000000002",
    ]
    assert isinstance(items[2], Rejection) and items[2].line == 54
    assert "broken JSON" in items[2].reason


def test_pretty_document_broken_midway_is_one_rejection(tmp_path: Path) -> None:
    broken = tmp_path / "result.json"
    text = (FEEDS / "telegram_result.json").read_text(encoding="utf-8")
    broken.write_text(text.replace('"id": 4,', '"id": 4,,'), encoding="utf-8")
    items = list(read_feed(broken, format="telegram"))
    assert len(items) == 1 and isinstance(items[0], Rejection)
    assert "the rest of the document cannot be read" in items[0].reason


def test_jsonl_with_a_first_line_longer_than_a_read_buffer_streams_by_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An X API page is often over 8 KiB on one line: still JSON Lines, read a line at a
    time (a broken later line is one rejection, the lines after it still read)."""
    page = json.loads((FEEDS / "x_api.jsonl").read_text(encoding="utf-8").splitlines()[0])
    page["meta"]["padding"] = "x" * 20_000
    feed = tmp_path / "pages.jsonl"
    feed.write_text(
        json.dumps(page) + "\n{broken\n" + json.dumps(page).replace("000000000000000", "9") + "\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(
        feeds_base, "_document_values", lambda *a: pytest.fail("read as one document")
    )
    items = list(read_feed(feed, format="x-api"))
    assert [i.line for i in items] == [1] * 4 + [2] + [3] * 4
    assert isinstance(items[4], Rejection) and items[4].reason.startswith("broken JSON")


def test_telegram_whole_account_export_prefixes_ids_by_chat(tmp_path: Path) -> None:
    chat = json.loads((FEEDS / "telegram_result.json").read_text(encoding="utf-8"))
    other = dict(chat, id=1700000002, name="Grup Lain")
    export = tmp_path / "result.json"
    export.write_text(json.dumps({"about": "", "chats": {"about": "", "list": [chat, other]}}))
    items = list(read_feed(export))
    ids = [i.id for i in items if isinstance(i, FeedRecord)]
    assert ids[:4] == [f"1700000001:{i}" for i in (2, 3, 4, 5)]
    assert ids[4:] == [f"1700000002:{i}" for i in (2, 3, 4, 5)]
    assert [i.line for i in items if isinstance(i, Rejection)] == [6, 7, 13, 14]


def test_youtube_bare_comments_one_a_line(tmp_path: Path) -> None:
    page = json.loads((FEEDS / "youtube_comment_threads.json").read_text(encoding="utf-8"))
    replies = page["items"][0]["replies"]["comments"]
    feed = tmp_path / "comments.jsonl"
    feed.write_text("".join(json.dumps(c) + "\n" for c in replies))
    assert detect_format(feed) == "youtube"
    items = list(read_feed(feed))
    assert [(i.id, i.line, i.parent_id) for i in items] == [
        ("UgxThreadA1.R1", 1, "UgxThreadA1"),
        ("UgxThreadA1.R2", 2, "UgxThreadA1"),
    ]


def test_x_api_bare_posts_with_embedded_author(tmp_path: Path) -> None:
    """twarc2's flattened output: one post a line, its author embedded."""
    post = {
        "id": "1800000000000000009",
        "text": "Antrean e-KTP di kecamatan hari ini lancar.",
        "author_id": "1009",
        "created_at": "2024-01-10T07:00:00.000Z",
        "edit_history_tweet_ids": ["1800000000000000009"],
        "public_metrics": {"like_count": 2, "retweet_count": 0},
        "author": {"id": "1009", "username": "tono_w", "description": "Staf TU SMPN 2"},
    }
    feed = tmp_path / "flat.jsonl"
    feed.write_text(json.dumps(post) + "\n")
    assert detect_format(feed) == "x-api"
    (record,) = read_feed(feed)
    assert (record.author_handle, record.author_context) == ("tono_w", "Staf TU SMPN 2")
    assert record.engagement == {"likes": 2, "reposts": 0}


def test_meta_content_library_json_lines(tmp_path: Path) -> None:
    post = {
        "id": "800000000000010",
        "creation_time": "2024-01-12T03:00:00+0000",
        "text": "Jadwal posyandu pekan depan.",
        "post_owner": {"id": "7000009", "name": "Akun Warga", "username": "akun.warga"},
        "statistics": {"like_count": 5, "comment_count": 1, "share_count": 0},
        "lang": "id",
    }
    feed = tmp_path / "mcl.jsonl"
    feed.write_text(json.dumps(post) + "\n")
    assert detect_format(feed) == "meta-content-library"
    (record,) = read_feed(feed)
    assert (record.author_handle, record.created_at) == ("akun.warga", "2024-01-12T03:00:00Z")
    assert record.engagement == {"likes": 5, "reposts": 0, "replies": 1}


def test_truncated_gzip_is_an_input_error(tmp_path: Path) -> None:
    packed = gzip.compress((FEEDS / "twscrape.jsonl").read_bytes() * 400)
    cut = tmp_path / "tweets.jsonl.gz"
    cut.write_bytes(packed[: len(packed) * 3 // 4])  # past the detection head
    with pytest.raises(InputError, match="compressed data is corrupt or cut short"):
        list(read_feed(cut))
