"""The SQLite review queue: WAL, busy timeout, BEGIN IMMEDIATE writes, one winner among
concurrent reviewers, durability across kill -9 of the server, and the export of the
decisions (their import as corpus rows is tests/test_annotation_tools.py's)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx2
import pytest
from api_support import FLAG_TEXT, FakeClassifier, StubResolver, free_port, wait_for_port
from fastapi.testclient import TestClient

from netral_nlp.api import create_app
from netral_nlp.api.queue import (
    Decision,
    NewItem,
    QueueDatabaseError,
    QueueError,
    ReviewQueue,
    export_decisions,
)
from netral_nlp.api.settings import Settings

pytest_plugins = ["api_fixtures"]


def _new(text: str = FLAG_TEXT, **overrides: Any) -> NewItem:
    values: dict[str, Any] = {
        "text": text,
        "score": 0.91,
        "categories": ["kegiatan_kampanye"],
        "category_scores": {"kegiatan_kampanye": 0.8, "ajakan_dukungan": 0.3},
        "evidence_spans": [{"start": 0, "end": 5, "kind": "asn_role", "text": text[:5]}],
        "model": "tiny@0.1",
    }
    return NewItem(**(values | overrides))


@pytest.fixture
def queue(tmp_path: Path) -> ReviewQueue:
    return ReviewQueue(tmp_path / "q.db")


def test_database_settings(queue: ReviewQueue) -> None:
    with queue._connect() as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
        assert con.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_every_write_is_begin_immediate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    statements: list[str] = []
    real_connect = sqlite3.connect

    def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        con = real_connect(*args, **kwargs)
        con.set_trace_callback(statements.append)
        return con

    monkeypatch.setattr(sqlite3, "connect", traced)
    queue = ReviewQueue(tmp_path / "traced.db")
    item_id = queue.add(_new())
    queue.decide(item_id, Decision("confirmed", "rina"))
    writes = [
        i for i, s in enumerate(statements) if s.lstrip().upper().startswith(("INSERT", "UPDATE"))
    ]
    assert len(writes) == 2
    for i in writes:
        begins = [s for s in statements[:i] if s.strip().upper().startswith("BEGIN")]
        assert begins and begins[-1].strip().upper() == "BEGIN IMMEDIATE"


def test_add_list_decide(queue: ReviewQueue) -> None:
    a = queue.add(_new("teks pertama"))
    b = queue.add(_new("teks kedua", url="https://berita.example/a", title="Judul"))
    assert queue.add(_new("teks pertama")) == a  # identical pending item: same id
    assert [i.id for i in queue.items("pending")] == [a, b]
    assert queue.counts() == {"pending": 2, "confirmed": 0, "dismissed": 0}
    done = queue.decide(a, Decision("confirmed", "rina", ["ajakan_dukungan"], note="jelas"))
    assert (done.status, done.reviewer, done.decided_categories) == (
        "confirmed",
        "rina",
        ["ajakan_dukungan"],
    )
    assert done.decided_at is not None
    kept = queue.decide(b, Decision("confirmed", "rina"))
    assert kept.decided_categories == ["kegiatan_kampanye"]  # none given: the model's
    with pytest.raises(QueueError) as info:
        queue.decide(a, Decision("dismissed", "dodi"))
    assert info.value.code == "already_decided"
    with pytest.raises(QueueError):
        queue.get("missing")


@pytest.mark.parametrize(("limit", "offset"), [(50, 2**63), (2**63, 0), (0, 0), (50, -1)])
def test_paging_out_of_bounds_is_a_queue_error(queue: ReviewQueue, limit: int, offset: int) -> None:
    with pytest.raises(QueueError) as info:
        queue.items("pending", limit, offset)
    assert info.value.code == "validation_error"


def _race(db: Path, item_id: str) -> list[str]:
    """Two reviewers, each with their own connection, decide ``item_id`` at once."""
    barrier = threading.Barrier(2)
    results: list[str] = []

    def decide(decision: str) -> None:
        reviewer = ReviewQueue(db)
        barrier.wait()
        try:
            reviewer.decide(item_id, Decision(decision, decision))
            results.append("ok")
        except QueueError as exc:
            results.append(exc.code)

    threads = [threading.Thread(target=decide, args=(d,)) for d in ("confirmed", "dismissed")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(results)


def test_two_concurrent_decisions_one_wins(tmp_path: Path) -> None:
    queue = ReviewQueue(tmp_path / "race.db")
    for round_ in range(15):
        item_id = queue.add(_new(f"teks ke-{round_}"))
        assert _race(tmp_path / "race.db", item_id) == ["already_decided", "ok"]
    out = tmp_path / "rows.jsonl"
    assert export_decisions(tmp_path / "race.db", out) == 15
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 15  # exactly one annotation row per item


def test_two_concurrent_http_decisions_one_200_one_409(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "http.db")
    with TestClient(
        create_app(settings, classifier=FakeClassifier(), resolver=StubResolver({})),
        base_url="http://localhost",
    ) as client:
        item_id = client.post("/v1/score", json={"text": FLAG_TEXT}).json()["queue_id"]
        barrier = threading.Barrier(2)
        statuses: list[int] = []

        def decide(decision: str) -> None:
            barrier.wait()
            r = client.post(f"/v1/queue/{item_id}/decision", json={"decision": decision})
            statuses.append(r.status_code)

        threads = [threading.Thread(target=decide, args=(d,)) for d in ("confirmed", "dismissed")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(statuses) == [200, 409]
    assert export_decisions(tmp_path / "http.db", tmp_path / "out.jsonl") == 1


def test_export_writes_every_decision_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = ReviewQueue(tmp_path / "q.db")
    confirmed = queue.add(_new("Camat ikut kampanye paslon dua.", author_context="camat"))
    dismissed = queue.add(_new("Guru SD mengingatkan netralitas.", url="https://b.example/x"))
    queue.add(_new("Masih menunggu tinjauan dari monitor."))
    queue.decide(confirmed, Decision("confirmed", "rina", ["ajakan_dukungan"], note="foto ada"))
    queue.decide(dismissed, Decision("dismissed", "dodi", partisan=True))
    monkeypatch.setenv("NETRAL_DB", str(tmp_path / "q.db"))
    out = tmp_path / "export" / "queue.jsonl"
    out.parent.mkdir()
    assert export_decisions(None, out) == 2  # None: $NETRAL_DB; the pending item stays
    # Decision order; two decisions in the same millisecond tie, so compare by id.
    rows = {r["id"]: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert rows == {i: queue.get(i).public() for i in (confirmed, dismissed)}
    c, d = rows[confirmed], rows[dismissed]
    assert c["decided_categories"] == ["ajakan_dukungan"] and c["note"] == "foto ada"
    assert (d["status"], d["partisan"], d["asn"], d["source_type"]) == (
        "dismissed",
        True,
        None,
        "news",
    )


def test_export_of_a_missing_database_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        export_decisions(tmp_path / "none.db", tmp_path / "out.jsonl")


def test_an_acknowledged_decision_survives_kill_9(tmp_path: Path, tiny_model_dir: Path) -> None:
    db = tmp_path / "durable.db"
    queue = ReviewQueue(db)
    ids = [queue.add(_new(f"teks nomor {i}")) for i in range(5)]
    port = free_port()
    env = os.environ | {"NETRAL_DB": str(db), "NETRAL_MODEL": str(tiny_model_dir)}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "netral_nlp.api:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, timeout=30)
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False) as http:
            for item_id in ids:
                r = http.post(
                    f"/v1/queue/{item_id}/decision",
                    json={"decision": "confirmed", "reviewer": "rina"},
                )
                assert r.status_code == 200
        os.kill(server.pid, signal.SIGKILL)  # at once after the last acknowledgement
        server.wait(10)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)
    assert server.returncode == -signal.SIGKILL
    after = ReviewQueue(db)
    assert [after.get(i).status for i in ids] == ["confirmed"] * 5
    assert after.counts()["confirmed"] == 5


def _not_a_queue(tmp_path: Path) -> dict[str, Path]:
    other = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(other)) as con:
        con.execute("CREATE TABLE items (id TEXT)")
    text = tmp_path / "notes.db"
    text.write_text("this is not a database\n" * 100)
    return {"text": text, "other": other, "directory": tmp_path}


@pytest.mark.parametrize("kind", ["text", "other", "directory"])
def test_a_file_that_is_not_a_queue_is_one_clear_error(tmp_path: Path, kind: str) -> None:
    path = _not_a_queue(tmp_path)[kind]
    with pytest.raises(QueueDatabaseError, match=str(path)):
        ReviewQueue(path)


@pytest.mark.parametrize("kind", ["text", "other"])
def test_serve_and_export_refuse_a_db_that_is_not_a_queue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    import uvicorn
    from typer.testing import CliRunner

    import netral_nlp.model
    from netral_nlp.cli import app

    path = _not_a_queue(tmp_path)[kind]
    monkeypatch.setattr(netral_nlp.model, "load_model", lambda _: FakeClassifier())
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("the server started"))
    monkeypatch.setenv("NETRAL_DB", str(path))
    runner = CliRunner()
    for args in (["serve"], ["queue", "export", "-o", str(tmp_path / "out.jsonl")]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.output
        assert str(path) in lines[0] and "Traceback" not in result.output


def test_cli_queue_export(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from netral_nlp.cli import app

    queue = ReviewQueue(tmp_path / "q.db")
    queue.decide(queue.add(_new()), Decision("dismissed", "rina", asn=True))
    out = tmp_path / "reviewed.jsonl"
    result = CliRunner().invoke(
        app, ["queue", "export", "-o", str(out), "--db", str(tmp_path / "q.db")]
    )
    assert result.exit_code == 0, result.output
    assert f"wrote 1 decisions to {out}" in result.output
    assert f"netral annotations import {out} --from queue" in result.output
    missing = CliRunner().invoke(
        app, ["queue", "export", "-o", str(out), "--db", str(tmp_path / "none.db")]
    )
    assert missing.exit_code == 2
