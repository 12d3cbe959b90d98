"""`netral score --engine ray` on a local 2-CPU Ray: the same rows, in the same order,
the same error file and the same counts as the local engine, for plain feeds and
scrapers' exports, with repost collapse on and off."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from netral_nlp.cli import app
from netral_nlp.limits import MAX_TEXT_CHARS
from netral_nlp.output import read_scored

pytestmark = pytest.mark.ray
runner = CliRunner()


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    """One local Ray for the module: 2 CPUs, a 100 MB object store (the sandbox's /dev/shm
    and memory allow far more; small keeps the start quick), no dashboard."""
    ray = pytest.importorskip("ray")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no report home from a test run
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=100 << 20,
        log_to_driver=False,
        configure_logging=False,
    )
    yield
    ray.shutdown()


def _feed(feed_rows: Any) -> list[Any]:
    """Good rows around every kind of bad one, plus an integer id and a missing id."""
    rows: list[Any] = feed_rows(40)
    rows[5] = {"id": 7, "text": rows[5]["text"]}
    rows[9] = {"text": rows[9]["text"], "author_context": "PNS di dinas pendidikan"}
    bad = [
        {"id": "no-text"},
        {"id": "empty", "text": "  "},
        {"id": "number", "text": 12},
        {"id": "long", "text": "a" * (MAX_TEXT_CHARS + 1)},
        {"id": ["list"], "text": "ok"},
        "{oops",
        "[1, 2]",
    ]
    for k, row in enumerate(bad):
        rows.insert(3 + 5 * k, row)
    return rows


def _score(*args: object) -> Any:
    result = runner.invoke(app, ["score", *map(str, args)])
    assert result.exit_code == 0, result.output
    return result


def _assert_same_rows(ray_out: Path, local_out: Path) -> None:
    got, want = list(read_scored(ray_out)), list(read_scored(local_out))
    assert len(got) == len(want) > 0
    for a, b in zip(got, want, strict=True):
        assert a is not None and b is not None
        assert a.keys() == b.keys()
        assert a["id"] == b["id"]
        assert math.isclose(a["score"], b["score"], abs_tol=1e-9)
        for name, value in b["category_scores"].items():
            assert math.isclose(a["category_scores"][name], value, abs_tol=1e-9)
        for key in ("flag", "categories", "evidence", "evidence_spans", "model"):
            assert a[key] == b[key], key


def _write(path: Path, rows: list[Any], fmt: str) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    if fmt == "jsonl":  # with a BOM, a blank line, invalid UTF-8 and a NUL byte
        text = "\n".join(lines[:20]) + "\n\n" + "\n".join(lines[20:]) + "\n"
        undecodable = b'{"id": "latin-1", "text": "caf\xe9"}\n{"id": "nul", "text": "a\\u0000b"}\n'
        path.write_bytes(b"\xef\xbb\xbf" + text.encode() + undecodable)
    elif fmt == "csv":
        import csv

        with path.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["id", "text"])
            for r in rows:
                if isinstance(r, dict) and not isinstance(r.get("id"), list):
                    writer.writerow([r.get("id", ""), r.get("text", "")])
            fh.write("only-one-field\n")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        records = [r for r in rows if isinstance(r, dict) and not isinstance(r.get("text"), int)]
        table = pa.table(
            {
                "id": [None if r.get("id") is None else str(r["id"]) for r in records],
                "text": [r.get("text") for r in records],
            }
        )
        pq.write_table(table, path, row_group_size=16)
    return path


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "csv"])
def test_ray_output_equals_local_row_for_row(tmp_path, feed_rows, tiny_model, fmt):
    source = _write(tmp_path / f"feed.{fmt}", _feed(feed_rows), fmt)
    local, remote = tmp_path / f"local.{fmt}", tmp_path / "ray" / f"out.{fmt}"
    options = ("--model", tiny_model, "--batch-size", 8)
    want = _score(source, "-o", local, "--workers", 1, *options)
    got = _score(source, "-o", remote, "--engine", "ray", *options)

    _assert_same_rows(remote, local)
    if fmt != "parquet":  # the same writers: the very same bytes
        assert remote.read_bytes() == local.read_bytes()
    local_errors = Path(f"{local}.errors.jsonl").read_text()
    assert Path(f"{remote}.errors.jsonl").read_text() == local_errors
    counts = want.stderr.split(";")[0]  # "49 rows read: 40 scored, 9 rejected, 20 flagged"
    assert "rows read" in counts and counts in got.stderr
    for line in want.stderr.splitlines():
        if line.startswith("  "):  # per category
            assert line in got.stderr


def test_bad_rows_land_in_the_error_file_with_reasons(tmp_path, feed_rows, tiny_model):
    source = _write(tmp_path / "feed.jsonl", _feed(feed_rows), "jsonl")
    out = tmp_path / "out.parquet"
    result = _score(source, "-o", out, "--engine", "ray", "--model", tiny_model)

    errors = [json.loads(line) for line in Path(f"{out}.errors.jsonl").read_text().splitlines()]
    reasons = {e.get("id", e["line"]): e["reason"] for e in errors}
    assert reasons["no-text"] == "missing field 'text'"
    assert reasons["empty"] == "field 'text' is empty"
    assert reasons["number"] == "field 'text' must be a string, got number"
    assert "over the text limit" in reasons["long"]
    assert reasons["latin-1"] == "field 'text' has invalid UTF-8 at character 3"
    assert reasons["nul"] == "field 'text' has NUL bytes at character 1"
    assert len(errors) == 9
    assert "49 rows read: 40 scored, 9 rejected" in result.stderr
    ids = [r["id"] for r in read_scored(out)]
    assert "7" in ids and "line-12" in ids  # Parquet ids are strings; a missing id is line-N


def test_ray_engine_refuses_a_run_directory_and_address_needs_ray(tmp_path, write_jsonl):
    source = write_jsonl("in.jsonl", [{"text": "x"}])
    result = runner.invoke(
        app, ["score", str(source), "-o", str(tmp_path / "run"), "--engine", "ray"]
    )
    assert result.exit_code != 0
    assert "resumable run directories are for the local engine" in result.stderr
    result = runner.invoke(app, ["score", str(source), "--address", "auto"])
    assert result.exit_code != 0
    assert "--address applies to --engine ray" in result.stderr


def test_an_input_error_in_a_read_task_is_one_line(tmp_path, tiny_model):
    source = tmp_path / "feed.csv"
    source.write_text("id,body\n1,hello\n")
    result = runner.invoke(
        app, ["score", str(source), "-o", str(tmp_path / "o.jsonl"), "--engine", "ray", "--model", str(tiny_model)]
    )  # fmt: skip
    assert result.exit_code != 0
    assert "has no 'text' column" in result.stderr
    assert "Traceback" not in result.output


def test_without_ray_the_engine_says_which_extra_to_install(tmp_path, write_jsonl, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    source = write_jsonl("in.jsonl", [{"text": "x"}])
    result = runner.invoke(
        app, ["score", str(source), "-o", str(tmp_path / "o.jsonl"), "--engine", "ray"]
    )
    assert result.exit_code != 0
    assert "pip install 'netral-nlp[ray]'" in result.stderr


def test_the_cli_does_not_import_ray():
    code = "import sys; from netral_nlp.cli import app; assert 'ray' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_directory_input_reads_its_files_in_order_and_names_them_in_errors(
    tmp_path, write_jsonl, feed_rows, tiny_model
):
    rows = feed_rows(20)
    write_jsonl("feeds/a.jsonl", [*rows[:10], {"id": "bad", "text": ""}])
    write_jsonl("feeds/b.jsonl", rows[10:])
    (tmp_path / "feeds" / "_SUCCESS").write_text("")
    out = tmp_path / "out.jsonl"
    result = _score(tmp_path / "feeds", "-o", out, "--engine", "ray", "--model", tiny_model)

    assert [r["id"] for r in read_scored(out)] == [r["id"] for r in rows]
    errors = [json.loads(line) for line in Path(f"{out}.errors.jsonl").read_text().splitlines()]
    assert errors == [
        {"path": str(tmp_path / "feeds" / "a.jsonl"), "line": 11, "id": "bad",
         "reason": "field 'text' is empty"}
    ]  # fmt: skip
    assert "21 rows read: 20 scored, 1 rejected" in result.stderr


def test_a_directory_of_mixed_formats_is_refused(tmp_path, write_jsonl, feed_rows):
    write_jsonl("feeds/a.jsonl", feed_rows(2))
    (tmp_path / "feeds" / "b.csv").write_text("id,text\n1,x\n")
    result = runner.invoke(
        app, ["score", str(tmp_path / "feeds"), "-o", str(tmp_path / "o.jsonl"), "--engine", "ray"]
    )
    assert result.exit_code != 0
    assert "a directory input needs files of one format" in result.stderr
    assert "csv, jsonl" in result.stderr


# --------------------------------------------------------------------------- scraped feeds, collapse

FEEDS = Path(__file__).parent / "fixtures" / "feeds"


def _scraped_feed(path: Path, n: int = 300) -> Path:
    """A twscrape feed with reposts, copies, near-duplicates and records without text
    (test_collapse.feed_with_duplicates), and one line of broken JSON."""
    from test_collapse import feed_with_duplicates

    lines = [json.dumps(r, ensure_ascii=False) for r in feed_with_duplicates(n)]
    lines.insert(n // 2, '{"id": 99999, "rawContent": "cut short')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _collapse_line(stderr: str) -> str:
    """The summary's collapse line: clusters, rows sent to the model, share saved."""
    lines = [line for line in stderr.splitlines() if line.startswith("collapse:")]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.parametrize("collapse", ["--collapse", "--no-collapse"])
def test_a_scraped_feed_equals_the_local_engine_with_and_without_collapse(
    tmp_path, tiny_model, collapse
):
    source = _scraped_feed(tmp_path / "tweets.jsonl")
    local, remote = tmp_path / "local.jsonl", tmp_path / "ray" / "out.jsonl"
    options = ("--model", tiny_model, collapse)
    want = _score(source, "-o", local, "--workers", 1, *options)
    got = _score(source, "-o", remote, "--engine", "ray", *options)

    assert remote.read_bytes() == local.read_bytes()  # rows, scores, cluster ids and sizes
    rows = [json.loads(line) for line in local.read_text(encoding="utf-8").splitlines()]
    assert {r["platform"] for r in rows} == {"x"}
    if collapse == "--collapse":
        sizes = [r["cluster_size"] for r in rows]
        assert max(sizes) > 1 and len({r["cluster_id"] for r in rows}) < len(rows)
        assert _collapse_line(got.stderr) == _collapse_line(want.stderr)  # the same saving
    else:
        assert "cluster_id" not in rows[0] and "collapse:" not in got.stderr
    errors = Path(f"{remote}.errors.jsonl").read_text()
    assert errors == Path(f"{local}.errors.jsonl").read_text()
    assert any(json.loads(e)["reason"].startswith("broken JSON") for e in errors.splitlines())
    assert want.stderr.split(";")[0] in got.stderr  # rows read, scored, rejected, flagged


def test_x_api_reposts_collapse_through_their_parent_ids_as_locally(tmp_path, tiny_model):
    """API v2 lines hold several posts (and malformed ones): the same rows, clusters and
    error file, with the text kept, in Parquet."""
    local, remote = tmp_path / "local.parquet", tmp_path / "ray.parquet"
    options = ("--model", tiny_model, "--keep-text")
    want = _score(FEEDS / "x_api.jsonl", "-o", local, *options)
    got = _score(FEEDS / "x_api.jsonl", "-o", remote, "--engine", "ray", *options)

    assert list(read_scored(remote)) == list(read_scored(local))
    rows = {r["id"]: r for r in read_scored(remote)}
    repost = rows["1800000000000000002"]
    assert repost["cluster_id"] == "1800000000000000001" and repost["cluster_size"] == 2
    assert repost["score"] == rows["1800000000000000001"]["score"]
    assert repost["text"] == rows["1800000000000000001"]["text"]  # a member keeps its text
    assert Path(f"{remote}.errors.jsonl").read_text() == Path(f"{local}.errors.jsonl").read_text()
    assert _collapse_line(got.stderr) == _collapse_line(want.stderr)


def test_collapse_spans_batches_and_files_with_the_final_cluster_sizes(tmp_path, tiny_model):
    """A directory of two feed files, scored in batches of 40: a repost in the second file
    joins its parent's cluster in the first. Cluster ids, sizes and scores equal the local
    engine's run directory (whose sizes, read back, are the final ones) row for row."""
    whole = _scraped_feed(tmp_path / "whole.jsonl", 400).read_text(encoding="utf-8")
    lines = whole.splitlines(keepends=True)
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "a.jsonl").write_text("".join(lines[:150]), encoding="utf-8")
    (tmp_path / "feeds" / "b.jsonl").write_text("".join(lines[150:]), encoding="utf-8")
    local, remote = tmp_path / "run", tmp_path / "ray.jsonl"
    options = ("--model", tiny_model, "--batch-size", 40)
    want = _score(tmp_path / "whole.jsonl", "-o", local, "--workers", 1, *options)
    got = _score(
        tmp_path / "feeds", "-o", remote, "--engine", "ray", "--format", "twscrape", *options
    )

    from netral_nlp.scored import read_scored as read_run

    expected = list(read_run(local, require_text=False))
    written = [json.loads(line) for line in remote.read_text(encoding="utf-8").splitlines()]
    assert len(written) == len(expected) > 300
    for a, b in zip(written, expected, strict=True):
        assert (a["id"], a["cluster_id"], a["cluster_size"]) == (
            b["id"],
            b["cluster_id"],
            b["cluster_size"],
        )
        assert (a["score"], a["categories"], a["evidence"]) == (
            b["score"],
            b["categories"],
            b["evidence"],
        )
    by_id = {r["id"]: r for r in written}
    across = [
        r
        for r in written
        if r["cluster_id"] in by_id and int(r["id"]) >= 150 > int(r["cluster_id"])
    ]
    assert across  # clusters formed across the two files
    assert _collapse_line(got.stderr) == _collapse_line(want.stderr)
    errors = [json.loads(e) for e in Path(f"{remote}.errors.jsonl").read_text().splitlines()]
    assert {e["path"] for e in errors} == {
        str(tmp_path / "feeds" / n) for n in ("a.jsonl", "b.jsonl")
    }


def test_collapse_of_a_plain_feed_with_integer_ids_equals_local_in_csv(
    tmp_path, feed_rows, tiny_model
):
    """``--collapse`` on a plain feed: no relation ids, copies and near-copies only;
    integer ids stay integers through the cluster (the CSV bytes show it)."""
    rows: list[Any] = [
        {"id": k, "text": r["text"] + " di balai desa pagi ini"}
        for k, r in enumerate(feed_rows(30))
    ]
    rows += [{"id": 100 + k, "text": "RT " + r["text"].upper()} for k, r in enumerate(rows[:10])]
    rows += [{"id": 200 + k, "text": r["text"] + " ayo"} for k, r in enumerate(rows[10:15])]
    source = _write(tmp_path / "feed.jsonl", rows, "jsonl")
    local, remote = tmp_path / "local.csv", tmp_path / "ray.csv"
    options = ("--model", tiny_model, "--collapse")
    want = _score(source, "-o", local, "--workers", 1, *options)
    got = _score(source, "-o", remote, "--engine", "ray", *options)

    assert remote.read_bytes() == local.read_bytes()
    scored = {r["id"]: r for r in read_scored(remote)}
    assert scored["100"]["cluster_id"] == scored["0"]["cluster_id"] == "0"  # a copy
    assert scored["200"]["cluster_id"] == scored["10"]["cluster_id"]  # a near-copy
    members: dict[str, int] = {}
    for r in scored.values():
        members[r["cluster_id"]] = members.get(r["cluster_id"], 0) + 1
    assert all(r["cluster_size"] == members[r["cluster_id"]] for r in scored.values())
    assert _collapse_line(got.stderr) == _collapse_line(want.stderr)
