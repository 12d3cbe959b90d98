"""`netral score` and `netral report` end to end: exit codes, the summary, one-line
errors, sharded runs from the command line, and the printed reports."""

from __future__ import annotations

import errno
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import pytest
from typer.testing import CliRunner

from netral_nlp.cli import app
from netral_nlp.evaluate import evaluate
from netral_nlp.labels import CATEGORY_NAMES
from netral_nlp.model import load_model
from netral_nlp.report import print_metrics

runner = CliRunner()
CONTRACT_FIELDS = {"id", "score", "flag", "categories", "category_scores", "evidence", "model"}


def netral(*args: object, input: str | bytes | None = None):
    return runner.invoke(app, [str(a) for a in args], input=input)


def test_score_writes_contract_rows_and_prints_a_summary(
    tmp_path, write_jsonl, feed_rows, tiny_model
):
    path = write_jsonl("in.jsonl", feed_rows(20))
    out = tmp_path / "out.jsonl"
    result = netral("score", path, "-o", out, "--model", tiny_model)

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [f"r-{k}" for k in range(20)]
    for row in rows:
        assert CONTRACT_FIELDS <= set(row)
        assert 0.0 <= row["score"] <= 1.0 and isinstance(row["flag"], bool)
        assert row["model"] == "tiny@0.0.1"
        assert bool(row["categories"]) == row["flag"]
    assert sum(r["flag"] for r in rows) == 10
    summary = result.stderr
    assert "20 rows read: 20 scored, 0 rejected, 10 flagged (50.0%)" in summary
    assert "rows/s" in summary
    assert all(name in summary for name in CATEGORY_NAMES)
    assert "Kampanye di media sosial" in summary
    assert not Path(f"{out}.errors.jsonl").exists()


def test_stdin_to_stdout_quiet(write_jsonl, feed_rows, tiny_model):
    lines = "".join(json.dumps(r) + "\n" for r in feed_rows(3))
    result = netral("score", "-", "--model", tiny_model, "--quiet", input=lines)
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["r-0", "r-1", "r-2"]
    assert result.stderr == ""


def test_bad_rows_still_exit_0_and_name_the_error_file(
    tmp_path, write_jsonl, feed_rows, tiny_model
):
    path = write_jsonl("in.jsonl", [*feed_rows(2), "{oops", {"id": "e", "text": ""}])
    out = tmp_path / "out.jsonl"
    result = netral("score", path, "-o", out, "--model", tiny_model)
    assert result.exit_code == 0, result.output
    assert "4 rows read: 2 scored, 2 rejected" in result.stderr
    assert f"2 rows rejected; see {out}.errors.jsonl" in result.stderr


def test_field_mapping_options(tmp_path, feed_rows, tiny_model):
    path = tmp_path / "in.csv"
    path.write_text("uid,body,bio\n7,camat ikut kampanye paslon nomor dua,PNS\n8,hujan deras,\n")
    result = netral(
        "score", path, "--model", tiny_model, "-q",
        "--text-field", "body", "--id-field", "uid", "--author-field", "bio",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["7", "8"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.jsonl", b"", "has no rows"),
        ("binary.jsonl", bytes(range(256)) * 40, "looks binary, not JSON Lines/CSV/Parquet"),
        ("nocol.csv", b"id,body\n1,x\n", "has no 'text' column (columns: id, body)"),
        ("feed.txt", b"x\n", "unknown input format"),
        ("missing.jsonl", None, "no such file"),
    ],
)
def test_whole_file_errors_exit_2_with_one_error_line(tmp_path, tiny_model, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = netral("score", path, "-o", tmp_path / "out.jsonl", "--model", tiny_model)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}") and result.stderr.count("\n") == 1
    assert message in result.stderr
    assert not (tmp_path / "out.jsonl").exists()


def test_a_10_mb_row_is_rejected_and_nothing_scored_exits_2(tmp_path, write_jsonl, tiny_model):
    path = write_jsonl("in.jsonl", [{"id": "huge", "text": "ASN " * 2_500_000}])
    out = tmp_path / "out.jsonl"
    result = netral("score", path, "-o", out, "--model", tiny_model)
    assert result.exit_code == 2
    assert f"error: no row could be scored: 1 rejected, see {out}.errors.jsonl" in result.stderr
    assert "1 rows read: 0 scored, 1 rejected" in result.stderr
    assert "Traceback" not in result.output


def test_missing_model_is_one_error_line(tmp_path, write_jsonl, feed_rows):
    path = write_jsonl("in.jsonl", feed_rows(2))
    result = netral("score", path, "--model", tmp_path / "nope")
    assert result.exit_code == 2
    assert result.stderr == f"error: {tmp_path / 'nope'}: model directory not found\n"


def test_sharded_run_from_the_command_line(tmp_path, write_jsonl, feed_rows, tiny_model):
    path = write_jsonl("in.jsonl", feed_rows(30))
    run = tmp_path / "run"
    first = netral(
        "score", path, "-o", run, "--model", tiny_model, "--batch-size", "10", "--workers", "1"
    )
    assert first.exit_code == 0, first.output
    assert (run / "manifest.json").exists() and (run / "part-00000.jsonl").exists()

    again = netral("score", path, "-o", run, "--model", tiny_model)
    assert again.exit_code == 2
    assert "already holds a scoring run" in again.stderr and "--resume" in again.stderr

    resumed = netral("score", path, "-o", run, "--model", tiny_model, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert "30 rows read: 30 scored" in resumed.stderr

    report = netral("report", run)
    assert report.exit_code == 0, report.output
    assert "30 rows, 15 flagged (50.0%)" in report.stdout


def test_a_second_scorer_process_is_refused(tmp_path, feed_rows, tiny_model):
    run = tmp_path / "run"
    first = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "netral_nlp.cli",
            "score",
            "-",
            "-o",
            str(run),
            "--model",
            str(tiny_model),
            "-q",
        ],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert first.stdin is not None
    first.stdin.write(b"".join(json.dumps(r).encode() + b"\n" for r in feed_rows(5)))
    first.stdin.flush()  # stdin stays open: the first scorer holds the directory
    deadline = time.monotonic() + 30
    while not (run / "manifest.json").exists():
        assert first.poll() is None and time.monotonic() < deadline, first.stderr.read().decode()
        time.sleep(0.02)

    second = netral("score", "-", "-o", run, "--model", tiny_model, input="{}\n")
    assert second.exit_code == 2
    assert "another `netral score` is writing to this directory" in second.stderr

    first.stdin.close()
    assert first.wait(timeout=30) == 0, first.stderr.read().decode()


# --------------------------------------------------------------------------- report


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_report_of_a_scored_file(tmp_path, write_jsonl, feed_rows, tiny_model, suffix):
    path = write_jsonl("in.jsonl", feed_rows(12))
    out = tmp_path / f"scored{suffix}"
    assert netral("score", path, "-o", out, "--model", tiny_model, "-q").exit_code == 0

    result = netral("report", out, "--top", "3")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "12 rows, 6 flagged (50.0%); model tiny@0.0.1" in text
    assert "Kampanye di media sosial (kampanye_medsos)" in text
    assert "Top 3 flagged items by score" in text
    assert text.count("  score ") == 3 and "»" in text
    assert "\x1b[" not in text  # plain text when not a terminal
    english = netral("report", out, "--lang", "en")
    assert "Campaigning on social media" in english.stdout


def test_report_shows_text_when_the_file_has_it(tmp_path, write_jsonl):
    row = {
        "id": "x[1]",
        "score": 0.9,
        "flag": True,
        "categories": ["ajakan_dukungan"],
        "evidence": ["ajak [bold]pilih[/bold]"],
        "text": "Pak camat   ajak warga pilih " + "panjang " * 100,
    }
    path = write_jsonl("scored.jsonl", [row, "{not json"])
    result = netral("report", path)
    assert result.exit_code == 0, result.output
    assert "x[1]" in result.stdout and "ajak [bold]pilih[/bold]" in result.stdout  # no markup
    assert "text: Pak camat ajak warga pilih panjang" in result.stdout and "…" in result.stdout
    assert "1 unreadable rows skipped" in result.stdout


def test_report_errors(tmp_path, write_jsonl):
    assert netral("report", tmp_path / "none.jsonl").exit_code == 2
    path = write_jsonl("foreign.jsonl", [{"a": 1}])
    result = netral("report", path)
    assert result.exit_code == 2 and "no scored rows" in result.stderr


def test_print_metrics_is_readable_plain_text(tiny_model, capsys, monkeypatch):
    monkeypatch.setattr("netral_nlp.evaluate.N_BOOTSTRAP", 50)
    clf = load_model(tiny_model)
    texts = [
        "camat ikut kampanye paslon nomor dua",
        "hujan deras",
        "lurah jadi tim sukses",
        "resep rendang",
    ]
    preds = clf.predict(texts)
    metrics = evaluate(
        [True, False, True, False], [["kampanye_medsos"], [], ["keterlibatan_parpol"], []], preds
    )
    print_metrics(metrics, title="tiny on synthetic [test]")
    out = capsys.readouterr().out
    assert "tiny on synthetic [test]" in out
    for needle in (
        "precision",
        "recall",
        "F1 [95% CI]",
        "PR-AUC",
        "tp ",
        "Brier",
        "ECE",
        "category macro-F1",
    ):
        assert needle in out
    assert all(name in out for name in CATEGORY_NAMES)
    assert "\x1b[" not in out


# --------------------------------------------------------------------------- paths that collide


def tree(root: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every path under ``root`` with its mtime, size and (regular files) bytes, links
    not followed: equal before and after means nothing was touched."""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        data = path.read_bytes() if path.is_file() and not path.is_symlink() else b""
        out[str(path.relative_to(root))] = (st.st_mtime_ns, st.st_size, data)
    return out


def _symlink(link: Path, target: str) -> None:
    link.symlink_to(target)


COLLISIONS = {
    "output is the input": ([], ["in.jsonl", "-o", "in.jsonl"]),
    "output is the input, spelled differently": ([], ["in.jsonl", "-o", "./sub/../in.jsonl"]),
    "error file is the input": ([], ["in.jsonl", "-o", "out.jsonl", "--errors", "in.jsonl"]),
    "error file is the output": ([], ["in.jsonl", "-o", "out.jsonl", "--errors", "out.jsonl"]),
    "output is a symlink to the input": (
        [lambda d: _symlink(d / "link.jsonl", "in.jsonl")],
        ["in.jsonl", "-o", "link.jsonl"],
    ),
    "error file is a hard link to the input": (
        [lambda d: os.link(d / "in.jsonl", d / "hard.jsonl")],
        ["in.jsonl", "-o", "out.jsonl", "--errors", "hard.jsonl"],
    ),
    "error file through a symlinked folder is the output": (
        [lambda d: _symlink(d / "alias", "sub")],
        ["in.jsonl", "-o", "sub/out.jsonl", "--errors", "alias/out.jsonl"],
    ),
    "the default error file is the input": (
        [lambda d: (d / "in.jsonl").rename(d / "out.jsonl.errors.jsonl")],
        ["out.jsonl.errors.jsonl", "-o", "out.jsonl"],
    ),
    "stdout's default error file is the input": (
        [lambda d: (d / "in.jsonl").rename(d / "netral-errors.jsonl")],
        ["netral-errors.jsonl"],
    ),
}


@pytest.mark.parametrize("case", list(COLLISIONS))
def test_output_or_error_file_that_is_the_input_or_each_other_is_refused_untouched(
    tmp_path, write_jsonl, feed_rows, tiny_model, monkeypatch, case
):
    """Before: -o INPUT replaced the input, --errors INPUT deleted it, --errors = -o lost
    the rejected rows; all with exit code 0."""
    write_jsonl("in.jsonl", [*feed_rows(3), "{broken"])
    (tmp_path / "sub").mkdir()
    setup, args = COLLISIONS[case]
    for step in setup:
        step(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = tree(tmp_path)

    result = netral("score", *args, "--model", tiny_model, "--workers", "1")

    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: refusing to write ") and result.stderr.count("\n") == 1
    assert "it is the same file as" in result.stderr
    assert tree(tmp_path) == before


def test_a_run_directory_holding_the_input_is_refused(tmp_path, write_jsonl, feed_rows, tiny_model):
    """Before: resuming an interrupted run removed the shards its manifest does not list,
    and here that shard was the input (reached through a symlink)."""
    run = tmp_path / "run"
    args = ("--model", tiny_model, "--workers", "1", "--batch-size", "10", "--shard-rows", "10")
    assert netral("score", write_jsonl("in.jsonl", feed_rows(30)), "-o", run, *args).exit_code == 0
    manifest = json.loads((run / "manifest.json").read_text())
    manifest |= {"shards": manifest["shards"][:2], "complete": False}  # as if killed
    (run / "manifest.json").write_text(json.dumps(manifest))
    feed = tmp_path / "feed.jsonl"
    feed.symlink_to(run / "part-00002.jsonl")
    before = tree(tmp_path)

    result = netral("score", feed, "-o", run, "--resume", "--force", *args)

    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"error: refusing to write to {run}: it holds the input {feed} (as part-00002.jsonl); "
        "choose another -o\n"
    )
    assert tree(tmp_path) == before


# --------------------------------------------------------------------------- unwritable output


def _under(root: Path, path: Any) -> bool:
    if isinstance(path, int):
        return False
    p = Path(os.path.abspath(os.fsdecode(path)))
    return p == root or root in p.parents


@pytest.fixture(params=["EACCES", "EROFS"])
def unwritable(request, tmp_path, monkeypatch) -> Path:
    """A folder nothing can be written into: mode 0555 (EACCES), or on a read-only file
    system (EROFS, where even removing a file that is not there fails). Root ignores the
    mode and tests cannot mount, so then the os calls that write are made to fail as the
    kernel would."""
    root = tmp_path / "locked"
    root.mkdir()
    root.chmod(0o555)
    request.addfinalizer(lambda: root.chmod(0o755))
    code = getattr(errno, request.param)
    if request.param == "EACCES" and not os.access(root, os.W_OK):
        return root  # a real read-only folder: not root
    real = {name: getattr(os, name) for name in ("open", "mkdir", "unlink", "replace", "rename")}
    real_io_open = io.open

    def deny(path: Any) -> NoReturn:
        raise OSError(code, os.strerror(code), os.fsdecode(path))

    def os_open(path, flags, *args, **kwargs):
        if _under(root, path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            deny(path)
        return real["open"](path, flags, *args, **kwargs)

    def io_open(file, mode="r", *args, **kwargs):
        if _under(root, file) and set(mode) & set("wax+"):
            deny(file)
        return real_io_open(file, mode, *args, **kwargs)

    def mkdir(path, *args, **kwargs):
        if _under(root, path) and not os.path.exists(path):
            deny(path)
        return real["mkdir"](path, *args, **kwargs)

    def unlink(path, *args, **kwargs):
        if _under(root, path) and (code == errno.EROFS or os.path.lexists(path)):
            deny(path)
        return real["unlink"](path, *args, **kwargs)

    def move(name):
        def moved(src, dst, *args, **kwargs):
            if _under(root, src) or _under(root, dst):
                deny(dst)
            return real[name](src, dst, *args, **kwargs)

        return moved

    for name, fake in [("open", os_open), ("mkdir", mkdir), ("unlink", unlink)]:
        monkeypatch.setattr(os, name, fake)
    monkeypatch.setattr(os, "replace", move("replace"))
    monkeypatch.setattr(os, "rename", move("rename"))
    monkeypatch.setattr(io, "open", io_open)
    return root


@pytest.mark.parametrize("output", ["out.jsonl", "out.parquet", "run", "."])
def test_an_unwritable_output_folder_is_one_error_line_naming_it(
    unwritable, write_jsonl, feed_rows, tiny_model, output
):
    """Before: a traceback (the cleanup in `finally` failed too and hid the real error)."""
    source = write_jsonl("in.jsonl", [*feed_rows(3), "{broken"])
    out = unwritable / output
    result = netral("score", source, "-o", out, "--model", tiny_model, "--workers", "1")

    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    # the output, or first the stale error file beside it that the run removes
    assert re.match(
        rf"error: cannot write {re.escape(str(out))}(\.errors\.jsonl)?: ", result.stderr
    )
    assert result.stderr.count("\n") == 1
    assert list(unwritable.iterdir()) == []


def test_an_unwritable_error_file_is_one_error_line_naming_it(
    unwritable, tmp_path, write_jsonl, feed_rows, tiny_model
):
    source = write_jsonl("in.jsonl", [*feed_rows(3), "{broken"])
    errors = unwritable / "rejected.jsonl"
    out = tmp_path / "out.jsonl"
    result = netral("score", source, "-o", out, "--errors", errors, "--model", tiny_model)

    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: cannot write {errors}: ")
    assert result.stderr.count("\n") == 1
    assert not out.exists() and not (tmp_path / ".out.jsonl.partial").exists()


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (errno.ENOSPC, "disk full while writing {out}; nothing was left at OUTPUT"),
        (errno.EIO, "cannot write {out}: Input/output error"),
    ],
)
def test_other_write_failures_are_one_error_line(
    tmp_path, write_jsonl, feed_rows, tiny_model, monkeypatch, code, message
):
    from netral_nlp.output import RowWriter

    def fails(self, fsync=False):
        self.abort()
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(RowWriter, "close", fails)  # the last write, flushed at the end
    out = tmp_path / "out.jsonl"
    result = netral(
        "score", write_jsonl("in.jsonl", feed_rows(3)), "-o", out, "--model", tiny_model
    )

    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: " + message.format(out=out))
    assert result.stderr.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]
