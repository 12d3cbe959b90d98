"""Scraped feeds through `netral score` (detection, --format, the metadata columns) and
repost / near-duplicate collapse: which rows join a cluster, the fan-out of a cluster's
result, the cache's fallback, and the resume invariant with collapse on."""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from netral_nlp.batch import ScoreOptions, score_file
from netral_nlp.cli import app
from netral_nlp.collapse import Clusterer, ResultCache, dedup_key
from netral_nlp.io import Row
from netral_nlp.prediction import FEED_FIELDS, OUTPUT_FIELDS
from netral_nlp.scored import read_scored

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
PREDICTION = ("score", "flag", "categories", "category_scores", "evidence", "evidence_spans")
POST = (
    "Pak camat mengajak seluruh warga desa datang ke kampanye paslon nomor dua "
    "besok pagi di lapangan kecamatan"
)
OTHER = "Harga cabai di pasar induk naik lagi minggu ini menurut para pedagang setempat"

runner = CliRunner()


def netral(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --------------------------------------------------------------------------- clusters


def assign(rows: list[Row]) -> list[tuple[int, bool]]:
    return Clusterer().assign(rows)


def test_a_repost_joins_its_parents_cluster_through_the_relation_ids():
    rows = [
        Row(1, "p", POST, None, {"relation": None}),
        Row(
            2,
            "rt",
            "RT @camat: Pak camat mengajak…",
            None,
            {"relation": "repost", "parent_id": "p"},
        ),
        Row(3, "q", "Ini ASN kok kampanye?", None, {"relation": "quote", "parent_id": "p"}),
    ]
    assert assign(rows) == [(0, True), (0, False), (1, True)]  # a quote is its own post


def test_identical_normalised_texts_form_one_cluster():
    copy = f"RT @warga: {POST.upper()}!!  https://t.co/abc"
    assert dedup_key(copy) == dedup_key(POST)
    assert assign([Row(1, "a", POST, None), Row(2, "b", copy, None)]) == [(0, True), (0, False)]


def test_a_near_duplicate_joins_and_a_different_post_does_not():
    near = POST + " ayo"  # one bigram more: Jaccard 15/16
    rows = [Row(1, "a", POST, None), Row(2, "b", near, None), Row(3, "c", OTHER, None)]
    assert assign(rows) == [(0, True), (0, False), (1, True)]


def test_posts_of_only_a_link_do_not_collapse_together():
    rows = [Row(1, "a", "https://t.co/one", None), Row(2, "b", "https://t.co/two", None)]
    assert assign(rows) == [(0, True), (1, True)]


def test_clusters_do_not_depend_on_chunk_boundaries():
    texts = [POST, OTHER, POST + " ayo", "RT " + OTHER, POST] * 4
    rows = [Row(i, f"r{i}", t, None) for i, t in enumerate(texts)]
    whole = Clusterer()
    expected = whole.assign(rows)
    chunked = Clusterer()
    got = [a for lo in range(0, len(rows), 3) for a in chunked.assign(rows[lo : lo + 3])]
    assert got == expected and list(chunked.sizes()) == list(whole.sizes()) == [12, 8]


def test_the_cache_evicts_least_recently_used_results():
    cache = ResultCache(capacity=2)
    for cluster in (1, 2):
        cache.reserve(cluster)
        cache.put(cluster, {"score": cluster})
    cache.touch(1)
    cache.reserve(3)
    assert 1 in cache and 2 not in cache and 3 in cache


# --------------------------------------------------------------------------- fan-out


def duplicate_feed(write_jsonl, feed_rows) -> tuple[Path, list[dict[str, Any]]]:
    """12 distinct posts, then a copy of each (upper case, RT prefix, link)."""
    rng = random.Random(3)
    words = [w for r in feed_rows(12) for w in r["text"].split() if not w.isdigit()]
    base = [{"id": r["id"], "text": " ".join(rng.sample(words, 12))} for r in feed_rows(12)]
    rows = base + [
        {"id": f"dup-{r['id']}", "text": f"RT @x: {r['text'].upper()} https://t.co/x"} for r in base
    ]
    return write_jsonl("dups.jsonl", rows), rows


def test_every_duplicate_gets_its_clusters_score_and_fields(
    tmp_path, write_jsonl, feed_rows, tiny_model
):
    path, rows = duplicate_feed(write_jsonl, feed_rows)
    out = tmp_path / "out.jsonl"
    summary = score_file(
        ScoreOptions(input=path, output=out, model=tiny_model, workers=1, collapse=True)
    )
    scored = {r["id"]: r for r in read_jsonl(out)}
    assert [r["id"] for r in read_jsonl(out)] == [r["id"] for r in rows]
    for r in rows[:12]:
        rep, dup = scored[r["id"]], scored[f"dup-{r['id']}"]
        assert {k: dup[k] for k in PREDICTION} == {k: rep[k] for k in PREDICTION}
        assert rep["cluster_id"] == dup["cluster_id"] == r["id"]
        assert dup["cluster_size"] == 2
    assert (summary.scored, summary.model_calls, summary.clusters) == (24, 12, 12)
    assert summary.saving == 0.5


def test_an_evicted_clusters_duplicates_are_scored_again_and_still_complete(
    tmp_path, write_jsonl, feed_rows, tiny_model
):
    path, rows = duplicate_feed(write_jsonl, feed_rows)
    out = tmp_path / "out.jsonl"
    # batch_size 1, one worker: the cache holds 2 * 5 results, fewer than the 12 clusters
    options = ScoreOptions(
        input=path, output=out, model=tiny_model, workers=1, batch_size=1, cache_rows=1,
        collapse=True,
    )  # fmt: skip
    summary = score_file(options)
    assert summary.model_calls > summary.clusters == 12
    got = read_jsonl(out)
    assert [r["id"] for r in got] == [r["id"] for r in rows]
    alone = tmp_path / "alone.jsonl"  # each row scored on its own text
    score_file(ScoreOptions(input=path, output=alone, model=tiny_model, workers=1))
    own = {r["id"]: r["score"] for r in read_jsonl(alone)}
    by_id = {r["id"]: r for r in got}
    rescored = 0
    for r in rows[:12]:
        dup = by_id[f"dup-{r['id']}"]
        assert dup["cluster_id"] == r["id"]
        assert dup["score"] in (by_id[r["id"]]["score"], own[dup["id"]])
        rescored += dup["score"] == own[dup["id"]] != by_id[r["id"]]["score"]
    assert rescored  # the evicted ones were scored on their own text


def test_plain_input_is_not_collapsed_unless_asked(tmp_path, write_jsonl, feed_rows, tiny_model):
    path, _ = duplicate_feed(write_jsonl, feed_rows)
    out = tmp_path / "out.jsonl"
    summary = score_file(ScoreOptions(input=path, output=out, model=tiny_model, workers=1))
    assert tuple(read_jsonl(out)[0]) == OUTPUT_FIELDS and summary.clusters is None


# --------------------------------------------------------------------------- feeds via the CLI


@pytest.mark.parametrize(
    ("fixture", "platform", "rows"), [("twscrape.jsonl", "x", 4), ("tweet_harvest.csv", "x", 3)]
)
def test_score_detects_a_scrapers_format_and_adds_its_metadata(
    tmp_path, tiny_model, fixture, platform, rows
):
    out = tmp_path / "out.jsonl"
    result = netral("score", FEEDS / fixture, "-o", out, "--model", tiny_model, "--workers", 1)
    assert result.exit_code == 0, result.output
    got = read_jsonl(out)
    assert len(got) == rows and all(r["platform"] == platform for r in got)
    assert tuple(got[0]) == OUTPUT_FIELDS + FEED_FIELDS + ("cluster_id", "cluster_size")
    assert all(r["url"].startswith("https://x.com/") and r["author_handle"] for r in got)
    assert "collapse:" in result.stderr


def test_an_x_api_repost_is_scored_once_through_its_parent_id(tmp_path, tiny_model):
    out = tmp_path / "out.jsonl"
    result = netral("score", FEEDS / "x_api.jsonl", "-o", out, "--model", tiny_model)
    assert result.exit_code == 0, result.output
    got = {r["id"]: r for r in read_jsonl(out)}
    repost = got["1800000000000000002"]
    assert repost["relation"] == "repost" and repost["cluster_id"] == "1800000000000000001"
    assert repost["score"] == got["1800000000000000001"]["score"]
    assert got["1800000000000000001"]["cluster_size"] == 2
    assert "25.0% of model calls saved" in result.stderr
    errors = read_jsonl(out.with_name("out.jsonl.errors.jsonl"))
    assert errors and all({"line", "reason"} <= e.keys() for e in errors)


def test_format_forces_an_adapter_and_unknown_names_are_refused(tmp_path, tiny_model):
    odd = tmp_path / "export.dat"  # no suffix a reader knows
    shutil.copy(FEEDS / "twscrape.jsonl", odd)
    out = tmp_path / "out.jsonl"
    result = netral("score", odd, "-o", out, "--model", tiny_model, "--format", "twscrape")
    assert result.exit_code == 0, result.output
    assert {r["platform"] for r in read_jsonl(out)} == {"x"}
    bad = netral("score", odd, "-o", out, "--model", tiny_model, "--format", "myspace")
    assert bad.exit_code != 0 and "unknown feed format 'myspace'" in bad.output


def test_no_collapse_keeps_the_metadata_and_drops_the_cluster_columns(tmp_path, tiny_model):
    out = tmp_path / "out.jsonl"
    args = ("score", FEEDS / "x_api.jsonl", "-o", out, "--model", tiny_model)
    result = netral(*args, "--no-collapse", "--keep-text")
    assert result.exit_code == 0, result.output
    got = read_jsonl(out)
    assert tuple(got[0]) == (*OUTPUT_FIELDS, *FEED_FIELDS, "text")
    assert "collapse:" not in result.stderr


def test_metadata_columns_in_csv_and_parquet(tmp_path, tiny_model):
    expected = read_jsonl_scored(tmp_path, tiny_model)
    csv_out, pq_out = tmp_path / "out.csv", tmp_path / "out.parquet"
    for out in (csv_out, pq_out):
        result = netral("score", FEEDS / "twscrape.jsonl", "-o", out, "--model", tiny_model)
        assert result.exit_code == 0, result.output
    table = pq.read_table(pq_out)
    columns = [*OUTPUT_FIELDS, *FEED_FIELDS, "cluster_id", "cluster_size"]
    assert table.schema.names == columns
    assert str(table.schema.field("cluster_size").type) == "int64"
    meta = [*FEED_FIELDS, "cluster_id", "cluster_size"]
    assert [{k: r[k] for k in meta} for r in table.to_pylist()] == [
        {k: r[k] for k in meta} for r in expected
    ]
    header = csv_out.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header == columns


def read_jsonl_scored(tmp_path: Path, tiny_model: Path) -> list[dict[str, Any]]:
    out = tmp_path / "ref.jsonl"
    assert (
        netral("score", FEEDS / "twscrape.jsonl", "-o", out, "--model", tiny_model).exit_code == 0
    )
    return read_jsonl(out)


# --------------------------------------------------------------------------- resume


def feed_with_duplicates(n: int) -> list[dict[str, Any]]:
    """``n`` twscrape records: every 5th a repost of an earlier post, every 7th a copy of
    one, every 11th a near-duplicate, every 13th without text (rejected)."""
    rng = random.Random(0)
    words = "warga desa camat guru kampanye paslon pasar harga jalan banjir rapat dinas".split()
    rows: list[dict[str, Any]] = []
    for i in range(n):
        rec: dict[str, Any] = {"id": i, "id_str": str(i), "user": {"id_str": str(i % 9),
               "username": f"u{i % 9}"}, "date": "2024-02-01T08:00:00+07:00"}  # fmt: skip
        if i and i % 5 == 0:
            parent = rows[rng.randrange(len(rows))]
            rec["rawContent"] = "RT " + parent.get("rawContent", "x")
            rec["retweetedTweet"] = {"id_str": parent["id_str"], "rawContent": rec["rawContent"]}
        elif i and i % 7 == 0:
            rec["rawContent"] = rows[rng.randrange(len(rows))].get("rawContent", "copy")
        elif i and i % 11 == 0:
            rec["rawContent"] = rows[rng.randrange(len(rows))].get("rawContent", "x") + " ayo"
        elif i % 13 != 12:
            rec["rawContent"] = " ".join(rng.choice(words) for _ in range(14)) + f" {i}"
        rows.append(rec)
    return rows


def run_rows(directory: Path) -> tuple[list[dict[str, Any]], list[Any]]:
    manifest = json.loads((directory / "manifest.json").read_text())
    written, rejected = [], []
    for shard in manifest["shards"]:
        written += read_jsonl(directory / shard["file"])
        if shard["errors"]:
            rejected += [r["line"] for r in read_jsonl(directory / shard["errors"])]
    return written, rejected


SCORER = """
import sys
from pathlib import Path
from netral_nlp.batch import ScoreOptions, score_file
source, out, model, workers = sys.argv[1:]
score_file(ScoreOptions(input=source, output=Path(out), model=Path(model), batch_size=25,
                        shard_rows=50, workers=int(workers), resume=True))
"""


@pytest.mark.parametrize(("seed", "workers"), [(1, 1), (2, 2)])
def test_kill_9_then_resume_with_collapse_keeps_the_invariant_and_the_clusters(
    tmp_path, tiny_model, seed, workers
):
    records = feed_with_duplicates(600)
    path = tmp_path / "feed.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    reference = tmp_path / "ref"
    score_file(ScoreOptions(input=path, output=reference, model=tiny_model, workers=1))

    directory = tmp_path / "run"
    rng = random.Random(seed)
    kill_after = rng.randint(1, 8)
    args = [sys.executable, "-c", SCORER, str(path), str(directory), str(tiny_model), str(workers)]
    proc = subprocess.Popen(args, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while proc.poll() is None:
        try:
            if len(json.loads((directory / "manifest.json").read_text())["shards"]) >= kill_after:
                break
        except (FileNotFoundError, ValueError):
            pass
        assert time.monotonic() < deadline
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    summary = score_file(
        ScoreOptions(input=path, output=directory, model=tiny_model, workers=1, batch_size=40,
                     shard_rows=50, resume=True)
    )  # fmt: skip

    written, rejected = run_rows(directory)
    expected, expected_rejected = run_rows(reference)
    ids = [r["id"] for r in written]
    assert len(ids) == len(set(ids)) and sorted(ids) == sorted(r["id"] for r in expected)
    assert len(ids) + len(rejected) == len(records) and rejected == expected_rejected
    assert [r["cluster_id"] for r in written] == [r["cluster_id"] for r in expected]
    assert summary.clusters == len({r["cluster_id"] for r in expected}) < len(ids)
    sizes = {r["cluster_id"]: r["cluster_size"] for r in read_jsonl(directory / "clusters.jsonl")}
    counts: dict[str, int] = {}
    for r in written:
        counts[r["cluster_id"]] = counts.get(r["cluster_id"], 0) + 1
    assert sizes == {c: n for c, n in counts.items() if n > 1}
    assert json.loads((directory / "manifest.json").read_text())["sidecars"] == ["clusters.jsonl"]
    final = {str(r["id"]): r["cluster_size"] for r in read_scored(directory, require_text=False)}
    assert final == {str(r["id"]): counts[r["cluster_id"]] for r in written}
