"""The batch scorer: rejections, order with several processes, the invariant (ids written
+ ids rejected = ids read, each once), and the resumable sharded mode under crashes,
changed inputs, a second scorer and a full disk."""

from __future__ import annotations

import errno
import fcntl
import itertools
import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from netral_nlp import batch
from netral_nlp.batch import ScoreOptions, score_file, score_rows
from netral_nlp.io import InputError
from netral_nlp.model import load_model
from netral_nlp.output import RowWriter


def options(model: Path, input: Path, output: Path | None, **kwargs: Any) -> ScoreOptions:
    kwargs = {"workers": 1} | kwargs
    return ScoreOptions(input=input, output=output, model=model, **kwargs)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def with_bad_rows(rows: list[dict[str, Any]], every: int = 7) -> list[dict[str, Any]]:
    """Every ``every``-th row gets an empty text: rejected, with its id."""
    return [r | {"text": " "} if i % every == 3 else r for i, r in enumerate(rows)]


def run_ids(directory: Path) -> tuple[list[Any], list[Any]]:
    """(ids written, ids rejected) over the shards the manifest lists, in order; also checks
    that no unlisted shard or temporary file is left in the directory."""
    manifest = json.loads((directory / "manifest.json").read_text())
    written, rejected, listed = [], [], {"manifest.json", ".netral.lock"}
    for shard in manifest["shards"]:
        path = directory / shard["file"]
        listed.add(shard["file"])
        if path.suffix == ".parquet":
            written += pq.read_table(path).column("id").to_pylist()
        else:
            written += [r["id"] for r in read_jsonl(path)]
        if shard["errors"]:
            listed.add(shard["errors"])
            rejected += [r["id"] for r in read_jsonl(directory / shard["errors"])]
    assert {p.name for p in directory.iterdir()} == listed
    return written, rejected


def assert_invariant(written: list[Any], rejected: list[Any], rows: list[dict[str, Any]]) -> None:
    good = [r["id"] for r in rows if r["text"].strip()]
    assert written == good  # input order, no duplicates
    assert sorted(written + rejected) == sorted(r["id"] for r in rows)
    assert len(set(written + rejected)) == len(rows)


# --------------------------------------------------------------------------- file output


def test_bad_rows_go_to_the_error_file_while_good_rows_score(
    tmp_path, write_jsonl, tiny_model, feed_rows
):
    good = feed_rows(6)
    lines = [
        good[0],
        "{broken",
        good[1],
        {"id": "empty", "text": ""},
        b'{"id": "utf8", "text": "caf\xe9"}',
        good[2],
        '["not", "an", "object"]',
        {"id": "nul", "text": "a\u0000b"},
        good[3],
        {"id": "big", "text": "x" * 100_001},
        {"id": "num", "text": 5},
        good[4],
        {"id": "blank", "text": " \t "},
        good[5],
    ]
    path = write_jsonl("in.jsonl", lines)
    out = tmp_path / "out.jsonl"
    summary = score_file(options(tiny_model, path, out))

    assert [r["id"] for r in read_jsonl(out)] == [r["id"] for r in good]
    errors = read_jsonl(Path(f"{out}.errors.jsonl"))
    assert [(e["line"], e.get("id")) for e in errors] == [
        (2, None),
        (4, "empty"),
        (5, "utf8"),
        (7, None),
        (8, "nul"),
        (10, "big"),
        (11, "num"),
        (13, "blank"),
    ]
    assert all(e["reason"] for e in errors)
    assert (summary.rows_read, summary.scored, summary.rejected) == (14, 6, 8)
    assert summary.flagged == 3 == summary.per_category["kampanye_medsos"]
    assert summary.errors_path == Path(f"{out}.errors.jsonl")


def test_output_order_with_two_workers_equals_input_order(
    tmp_path, write_jsonl, tiny_model, feed_rows
):
    rows = with_bad_rows(feed_rows(400))
    path = write_jsonl("in.jsonl", rows)
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    score_file(options(tiny_model, path, one, batch_size=23))
    summary = score_file(options(tiny_model, path, two, batch_size=23, workers=2))

    assert two.read_bytes() == one.read_bytes()
    written = [r["id"] for r in read_jsonl(two)]
    rejected = [e["id"] for e in read_jsonl(Path(f"{two}.errors.jsonl"))]
    assert_invariant(written, rejected, rows)
    assert summary.rows_read == 400 and summary.rows_per_s > 0


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_csv_and_parquet_output(tmp_path, write_jsonl, tiny_model, feed_rows, suffix):
    path = write_jsonl("in.jsonl", feed_rows(30))
    out = tmp_path / f"out{suffix}"
    score_file(options(tiny_model, path, out, batch_size=8))
    if suffix == ".csv":
        import csv

        ids = [r["id"] for r in csv.DictReader(out.open(encoding="utf-8"))]
    else:
        ids = pq.read_table(out).column("id").to_pylist()
    assert ids == [f"r-{k}" for k in range(30)]
    assert not list(tmp_path.glob(".*partial"))


def test_stdout_output_and_its_default_error_file(
    tmp_path, write_jsonl, tiny_model, feed_rows, capsysbinary, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    path = write_jsonl("in.jsonl", [*feed_rows(3), "{broken"])
    score_file(options(tiny_model, path, None))
    assert [json.loads(line)["id"] for line in capsysbinary.readouterr().out.splitlines()] == [
        "r-0",
        "r-1",
        "r-2",
    ]
    assert read_jsonl(tmp_path / "netral-errors.jsonl")[0]["line"] == 4


def test_error_file_only_when_there_are_rejections(tmp_path, write_jsonl, tiny_model, feed_rows):
    out = tmp_path / "out.jsonl"
    errors = Path(f"{out}.errors.jsonl")
    errors.write_text("stale from an earlier run\n")
    summary = score_file(options(tiny_model, write_jsonl("in.jsonl", feed_rows(5)), out))
    assert not errors.exists() and summary.errors_path is None


def test_nothing_scored_is_an_error_and_leaves_no_output(tmp_path, write_jsonl, tiny_model):
    path = write_jsonl("in.jsonl", [{"id": "huge", "text": "kampanye " * 1_250_000}])  # 10 MB
    out = tmp_path / "out.jsonl"
    with pytest.raises(
        InputError, match=r"^no row could be scored: 1 rejected, see .*out\.jsonl\.errors\.jsonl$"
    ):
        score_file(options(tiny_model, path, out))
    assert not out.exists() and not (tmp_path / ".out.jsonl.partial").exists()
    [error] = read_jsonl(Path(f"{out}.errors.jsonl"))
    assert error["id"] == "huge"
    assert "over the text limit of 100,000 (netral_nlp.limits.MAX_TEXT_CHARS)" in error["reason"]


def test_full_disk_on_file_output_leaves_nothing(
    tmp_path, write_jsonl, tiny_model, feed_rows, monkeypatch
):
    def full(self, encoded):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(RowWriter, "write", full)
    out = tmp_path / "out.jsonl"
    with pytest.raises(InputError, match="disk full while writing"):
        score_file(options(tiny_model, write_jsonl("in.jsonl", feed_rows(5)), out))
    assert not out.exists() and not (tmp_path / ".out.jsonl.partial").exists()


def test_progress_goes_to_the_callback_and_nothing_is_printed(
    tmp_path, write_jsonl, tiny_model, feed_rows, capsys
):
    path = write_jsonl("in.jsonl", with_bad_rows(feed_rows(50)))
    calls: list[int] = []
    summary = score_file(
        options(tiny_model, path, tmp_path / "out.jsonl", batch_size=20), calls.append
    )
    assert calls == [20, 20, 10] and summary.rows_read == 50
    assert capsys.readouterr() == ("", "")


# --------------------------------------------------------------------------- rows in memory


def test_score_rows_gives_the_rows_score_file_writes(tmp_path, write_jsonl, tiny_model, feed_rows):
    rows = [*feed_rows(25), {"text": "camat kampanye", "author_context": "PNS"}]
    out = tmp_path / "out.jsonl"
    score_file(options(tiny_model, write_jsonl("in.jsonl", rows), out))
    scored = list(score_rows(rows, load_model(tiny_model), batch_size=4))
    assert scored == read_jsonl(out)
    assert scored[-1]["id"] == "line-26"  # no id: its 1-based position, as in files


def test_score_rows_streams(tiny_model, feed_rows):
    def endless():
        for k in itertools.count():
            yield from feed_rows(1, start=k)

    scored = score_rows(endless(), load_model(tiny_model), batch_size=3)
    assert [r["id"] for r in itertools.islice(scored, 5)] == [f"r-{k}" for k in range(5)]


def test_score_rows_names_a_bad_row(tiny_model, feed_rows):
    rows = [*feed_rows(2), {"id": "x", "text": " "}]
    with pytest.raises(ValueError, match=r"^row 3 \(id 'x'\): field 'text' is empty$"):
        list(score_rows(rows, load_model(tiny_model)))


# --------------------------------------------------------------------------- sharded output


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_sharded_run_writes_complete_shards_and_a_manifest(
    tmp_path, write_jsonl, tiny_model, feed_rows, fmt
):
    rows = with_bad_rows(feed_rows(250))
    path = write_jsonl("in.jsonl", rows)
    directory = tmp_path / "run"
    summary = score_file(
        options(tiny_model, path, directory, batch_size=20, shard_rows=50, shard_format=fmt)
    )

    manifest = json.loads((directory / "manifest.json").read_text())
    shards = manifest["shards"]
    assert [s["file"] for s in shards] == [f"part-{i:05d}.{fmt}" for i in range(5)]
    assert [(s["start"], s["end"]) for s in shards] == [
        (0, 60),
        (60, 120),
        (120, 180),
        (180, 240),
        (240, 250),
    ]
    assert manifest["complete"] and manifest["model"] == "tiny@0.0.1"
    assert manifest["fingerprint"]["size"] == path.stat().st_size
    assert_invariant(*run_ids(directory), rows)
    assert (summary.rows_read, summary.rejected) == (
        250,
        sum(1 for r in rows if not r["text"].strip()),
    )
    assert summary.errors_path == directory / "part-*.errors.jsonl"


def test_existing_run_is_refused_without_resume_and_resume_of_a_complete_run_is_a_no_op(
    tmp_path, write_jsonl, tiny_model, feed_rows
):
    path = write_jsonl("in.jsonl", feed_rows(40))
    directory = tmp_path / "run"
    first = score_file(options(tiny_model, path, directory, batch_size=10, shard_rows=10))
    with pytest.raises(
        InputError, match=r"already holds a scoring run \(complete, 4 shards\); add --resume"
    ):
        score_file(options(tiny_model, path, directory))
    again = score_file(options(tiny_model, path, directory, resume=True))
    assert (again.rows_read, again.scored, again.flagged) == (
        first.rows_read,
        first.scored,
        first.flagged,
    )
    assert len(json.loads((directory / "manifest.json").read_text())["shards"]) == 4


def test_a_directory_that_is_not_a_run_is_refused(tmp_path, write_jsonl, tiny_model, feed_rows):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match=r"not empty and holds no manifest\.json"):
        score_file(options(tiny_model, write_jsonl("in.jsonl", feed_rows(3)), tmp_path / "run"))
    assert (tmp_path / "run" / "notes.txt").exists()


def test_resume_against_a_changed_input_is_refused_unless_forced(
    tmp_path, write_jsonl, tiny_model, feed_rows
):
    path = write_jsonl("in.jsonl", feed_rows(30))
    directory = tmp_path / "run"
    score_file(options(tiny_model, path, directory, batch_size=10, shard_rows=10))
    rows = feed_rows(45)
    write_jsonl("in.jsonl", rows)  # 15 rows appended
    with pytest.raises(
        InputError, match=r"changed since the run began \(size, mtime_ns, sha256_ends differ"
    ):
        score_file(options(tiny_model, path, directory, resume=True))
    summary = score_file(
        options(tiny_model, path, directory, resume=True, force=True, batch_size=10, shard_rows=10)
    )
    assert summary.rows_read == 45
    assert_invariant(*run_ids(directory), rows)


def test_a_second_scorer_on_the_same_directory_is_refused(
    tmp_path, write_jsonl, tiny_model, feed_rows
):
    directory = tmp_path / "run"
    directory.mkdir()
    with (directory / ".netral.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # what a running scorer holds
        with pytest.raises(InputError, match="another `netral score` is writing to this directory"):
            score_file(options(tiny_model, write_jsonl("in.jsonl", feed_rows(3)), directory))
    assert {p.name for p in directory.iterdir()} == {".netral.lock"}


def test_full_disk_leaves_no_partial_shard_and_the_run_resumes(
    tmp_path, write_jsonl, tiny_model, feed_rows, monkeypatch
):
    rows = with_bad_rows(feed_rows(60))
    path = write_jsonl("in.jsonl", rows)
    directory = tmp_path / "run"
    real_write = RowWriter.write

    def fills_up_at_the_second_shard(self, encoded):
        if self.path.name == ".part-00001.jsonl.tmp":
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(self, encoded)

    monkeypatch.setattr(RowWriter, "write", fills_up_at_the_second_shard)
    opts = options(tiny_model, path, directory, batch_size=10, shard_rows=20)
    with pytest.raises(
        InputError, match=r"disk full while writing .*run; completed shards are kept"
    ):
        score_file(opts)
    assert sorted(p.name for p in directory.iterdir()) == [
        ".netral.lock",
        "manifest.json",
        "part-00000.errors.jsonl",
        "part-00000.jsonl",
    ]
    monkeypatch.setattr(RowWriter, "write", real_write)
    opts.resume = True
    score_file(opts)
    assert_invariant(*run_ids(directory), rows)


SCORER = """
import sys
from pathlib import Path
from netral_nlp.batch import ScoreOptions, score_file
source, out, model, workers = sys.argv[1:]
score_file(ScoreOptions(input=source, output=Path(out), model=Path(model), batch_size=25,
                        shard_rows=50, workers=int(workers), resume=True))
"""


def completed_shards(directory: Path) -> list[dict[str, Any]]:
    """The manifest's shard entries; none before the run has written its manifest."""
    try:
        return json.loads((directory / "manifest.json").read_text())["shards"]
    except FileNotFoundError:
        return []


def children(pid: int) -> set[int]:
    """Processes whose parent is ``pid`` (Linux /proc)."""
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.add(int(stat.parent.name))
    return out


def gone(pids: set[int], within: float) -> bool:
    deadline = time.monotonic() + within
    while any(Path(f"/proc/{p}").exists() for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not any(Path(f"/proc/{p}").exists() for p in pids)


@pytest.mark.parametrize(("seed", "workers"), [(1, 1), (2, 1), (3, 2)])
def test_kill_9_at_a_random_point_then_resume_keeps_the_invariant(
    tmp_path, write_jsonl, tiny_model, feed_rows, seed, workers
):
    rows = with_bad_rows(feed_rows(800))  # 16 shards of 50 records
    path = write_jsonl("in.jsonl", rows)
    directory = tmp_path / "run"
    rng = random.Random(seed)
    kill_after = rng.randint(0, 10)  # completed shards, then a moment into the next one
    args = [sys.executable, "-c", SCORER, str(path), str(directory), str(tiny_model), str(workers)]
    proc = subprocess.Popen(args, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(completed_shards(directory)) < kill_after and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.002)
    time.sleep(rng.uniform(0.0, 0.05))
    workers_pids = children(proc.pid)
    proc.kill()  # SIGKILL
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    assert gone(workers_pids, within=10), "scoring processes outlived their killed parent"

    before = completed_shards(directory)
    score_file(options(tiny_model, path, directory, batch_size=40, shard_rows=50, resume=True))
    assert (
        completed_shards(directory)[: len(before)] == before
    )  # completed shards are kept as they were
    assert_invariant(*run_ids(directory), rows)


def test_options_are_checked():
    with pytest.raises(ValueError, match="shard_format"):
        ScoreOptions(input="x.jsonl", shard_format="csv")
    with pytest.raises(ValueError, match="batch_size"):
        ScoreOptions(input="x.jsonl", batch_size=0)
    assert batch.output_directory(Path("out")) == Path("out")
    assert batch.output_directory("out.d/") == Path("out.d")
    assert batch.output_directory(Path("out.jsonl")) is None
    assert batch.output_directory(Path("-")) is None
