"""The HTTP service through TestClient: every route, every error code of RELIABILITY.md's
service and fetcher lists, and the page's forms. A fake classifier keeps it fast."""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from api_support import (
    CLEAR_TEXT,
    FLAG_TEXT,
    FakeClassifier,
    HostileServer,
    StubResolver,
    live_server,
)
from fastapi.testclient import TestClient

import netral_nlp.api
from netral_nlp.api import create_app
from netral_nlp.api.settings import Settings
from netral_nlp.limits import MAX_TEXT_CHARS
from netral_nlp.prediction import Prediction, Span

pytest_plugins = ["api_fixtures"]
ORIGIN = "http://127.0.0.1"  # a loopback name: allowed by default (NETRAL_ALLOWED_HOSTS)
MakeClient = Callable[..., TestClient]
JSON = {"content-type": "application/json"}


@pytest.fixture
def make_client(tmp_path: Path, hostile_server: HostileServer) -> Iterator[MakeClient]:
    """``make_client(classifier=None, **settings)``: a started app on a fresh queue."""
    with ExitStack() as stack:

        def make(classifier: FakeClassifier | None = None, **overrides: Any) -> TestClient:
            values: dict[str, Any] = {
                "db": tmp_path / "queue.db",
                "fetch_allow": ["127.0.0.1"],
                "fetch_ports": [80, 443, hostile_server.port],
                "fetch_timeout_s": 1.0,
            }
            app = create_app(
                Settings(**(values | overrides)),
                classifier=classifier or FakeClassifier(),
                resolver=StubResolver({"news.test": ["127.0.0.1"]}),
            )
            return stack.enter_context(TestClient(app, base_url=ORIGIN))

        yield make


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    return make_client()


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


# ------------------------------------------------------------------ scoring


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "model": "fake@0.0.1"}


def test_score_text_answers_the_contract_row(client: TestClient) -> None:
    r = client.post("/v1/score", json={"text": FLAG_TEXT, "id": "a1", "author_context": "camat"})
    assert r.status_code == 200
    row = r.json()
    assert {"id", "score", "flag", "categories", "category_scores", "evidence", "model"} <= set(row)
    assert row["id"] == "a1" and row["flag"] is True and 0 <= row["score"] <= 1
    assert row["model"] == "fake@0.0.1"
    assert row["categories"] == ["kegiatan_kampanye", "ajakan_dukungan"]
    for span in row["evidence_spans"]:
        assert FLAG_TEXT[span["start"] : span["end"]] == span["text"]
    assert row["queue_id"]


def test_flagged_items_are_queued_unless_opted_out(client: TestClient) -> None:
    assert client.post("/v1/score", json={"text": CLEAR_TEXT}).json()["queue_id"] is None
    assert (
        client.post("/v1/score", json={"text": FLAG_TEXT, "queue": False}).json()["queue_id"]
        is None
    )
    assert client.get("/v1/queue").json()["counts"]["pending"] == 0
    first = client.post("/v1/score", json={"text": FLAG_TEXT}).json()["queue_id"]
    again = client.post("/v1/score", json={"text": FLAG_TEXT}).json()["queue_id"]
    assert first == again  # an identical pending item is not queued twice
    assert client.get("/v1/queue").json()["counts"]["pending"] == 1


def test_score_url(client: TestClient, hostile_server: HostileServer) -> None:
    r = client.post("/v1/score", json={"url": f"http://news.test:{hostile_server.port}/to-article"})
    assert r.status_code == 200, r.text
    row = r.json()
    assert row["url"] == f"http://news.test:{hostile_server.port}/article"
    assert row["title"] == "Camat ikut kampanye" and row["date"] == "2024-01-05"
    assert "ikut kampanye paslon 02" in row["text"] and row["flag"] is True
    for span in row["evidence_spans"]:
        assert row["text"][span["start"] : span["end"]] == span["text"]
    item = client.get(f"/v1/queue/{row['queue_id']}").json()
    assert item["url"] == row["url"] and item["source_type"] == "news"


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("http://10.0.0.1/", 422, "url_blocked"),
        ("file:///etc/passwd", 422, "url_invalid"),
        ("{base}/to-loopback", 422, "url_blocked"),
        ("{base}/empty", 422, "url_no_text"),
        ("{base}/error", 502, "url_http_status"),
        ("{base}/image", 502, "url_content_type"),
        ("{base}/bomb", 502, "url_too_large"),
        ("{base}/loop", 502, "url_redirects"),
        ("{base}/garbage", 502, "url_unreadable"),
        ("{base}/hang", 504, "url_timeout"),
    ],
)
def test_url_errors(
    client: TestClient, hostile_server: HostileServer, path: str, status: int, code: str
) -> None:
    r = client.post("/v1/score", json={"url": path.format(base=hostile_server.base)})
    _error(r, status, code)


@pytest.mark.parametrize("location", ["http:foo", "http://xn--/", ":https:ffff"])
def test_a_broken_redirect_is_not_a_500(
    client: TestClient, hostile_server: HostileServer, location: str
) -> None:
    url = f"{hostile_server.base}/redirect?to={quote(location, safe='')}"
    r = client.post("/v1/score", json={"url": url})
    assert r.status_code in (422, 502), r.text
    assert r.json()["error"]["code"] in ("url_invalid", "url_blocked", "url_http_status")
    page = client.post("/", data={"csrf": _csrf(client), "url": url}, headers={"Origin": ORIGIN})
    assert page.status_code == r.status_code


def test_batch_keeps_order_and_ids(client: TestClient) -> None:
    items = [{"id": i, "text": FLAG_TEXT if i % 2 else CLEAR_TEXT} for i in range(10)]
    rows = client.post("/v1/score/batch", json={"items": items, "queue": False}).json()["rows"]
    assert [r["id"] for r in rows] == list(range(10))
    assert [r["flag"] for r in rows] == [bool(i % 2) for i in range(10)]


def test_batch_limits(client: TestClient) -> None:
    ok = client.post("/v1/score/batch", json={"items": [{"text": "a"}] * 256, "queue": False})
    assert ok.status_code == 200 and len(ok.json()["rows"]) == 256
    err = _error(
        client.post("/v1/score/batch", json={"items": [{"text": "a"}] * 257}),
        422,
        "validation_error",
    )
    assert "256" in err["message"]
    _error(client.post("/v1/score/batch", json={"items": []}), 422, "validation_error")
    _error(
        client.post("/v1/score/batch", json={"items": [{"url": "http://x.test/"}]}),
        422,
        "validation_error",
    )


def test_model_info(client: TestClient) -> None:
    info = client.get("/v1/model").json()
    assert (info["name"], info["version"], info["kind"]) == ("fake", "0.0.1", "baseline")
    assert info["thresholds"]["flag"] == 0.5 and len(info["categories"]) == 5
    assert info["category_names"]["kampanye_medsos"]["id"] == "Kampanye di media sosial"
    assert info["metrics"] == {"test": {"flag": {"f1": 1.0}}}


def test_openapi_documents_the_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/v1/score",
        "/v1/score/batch",
        "/v1/model",
        "/healthz",
        "/v1/queue",
        "/v1/queue/{item_id}/decision",
    ):
        assert path in paths


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("get", "/healthz", {200, 400, 500}),
        ("post", "/v1/score", {200, 400, 401, 403, 408, 413, 415, 422, 500, 502, 503, 504}),
        ("post", "/v1/score/batch", {200, 400, 401, 403, 408, 413, 415, 422, 500, 503}),
        ("get", "/v1/model", {200, 400, 401, 500}),
        ("get", "/v1/queue", {200, 400, 401, 422, 500}),
        ("get", "/v1/queue/{item_id}", {200, 400, 401, 404, 500}),
        (
            "post",
            "/v1/queue/{item_id}/decision",
            {200, 400, 401, 403, 404, 408, 409, 413, 415, 422, 500, 503},
        ),
    ],
)
def test_openapi_lists_every_status_a_route_answers(
    client: TestClient, method: str, path: str, statuses: set[int]
) -> None:
    responses = client.get("/openapi.json").json()["paths"][path][method]["responses"]
    assert {int(s) for s in responses} >= statuses
    for status, entry in responses.items():
        if int(status) >= 400:  # the one error shape, naming its codes
            assert entry["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorBody"
            }


# ------------------------------------------------------------------ queue routes


def test_queue_routes(client: TestClient) -> None:
    item_id = client.post("/v1/score", json={"text": FLAG_TEXT}).json()["queue_id"]
    listed = client.get("/v1/queue", params={"status": "pending"}).json()
    assert [i["id"] for i in listed["items"]] == [item_id]
    r = client.post(
        f"/v1/queue/{item_id}/decision",
        json={
            "decision": "confirmed",
            "categories": ["kegiatan_kampanye"],
            "note": "ok",
            "reviewer": "rina",
        },
    )
    assert r.status_code == 200
    assert r.json()["status"] == "confirmed" and r.json()["reviewer"] == "rina"
    assert r.json()["decided_categories"] == ["kegiatan_kampanye"]
    _error(
        client.post(f"/v1/queue/{item_id}/decision", json={"decision": "dismissed"}),
        409,
        "already_decided",
    )
    assert [i["id"] for i in client.get("/v1/queue?status=confirmed").json()["items"]] == [item_id]
    _error(client.get("/v1/queue?status=lost"), 422, "validation_error")
    _error(client.get("/v1/queue/nope"), 404, "not_found")
    _error(client.post("/v1/queue/nope/decision", json={"decision": "dismissed"}), 404, "not_found")


@pytest.mark.parametrize(
    "query",
    [
        "offset=9223372036854775808",
        "offset=1000000001",
        "offset=-1",
        "limit=9223372036854775808",
        "limit=501",
        "limit=0",
    ],
)
def test_queue_paging_is_bounded(client: TestClient, query: str) -> None:
    # offset 2**63 overflowed SQLite's 64-bit OFFSET: a 500 on the API and the page.
    _error(client.get(f"/v1/queue?{query}"), 422, "validation_error")
    if query.startswith("offset"):
        _error(client.get(f"/queue?{query}"), 422, "validation_error")


def test_decision_validation(client: TestClient) -> None:
    item_id = client.post("/v1/score", json={"text": FLAG_TEXT}).json()["queue_id"]
    url = f"/v1/queue/{item_id}/decision"
    _error(client.post(url, json={"decision": "maybe"}), 422, "validation_error")
    _error(
        client.post(url, json={"decision": "confirmed", "categories": ["kampanye"]}),
        422,
        "validation_error",
    )
    _error(
        client.post(url, json={"decision": "dismissed", "categories": ["kampanye_medsos"]}),
        422,
        "validation_error",
    )
    _error(client.post(url, json={"decision": "dismissed", "extra": 1}), 422, "validation_error")
    r = client.post(url, json={"decision": "dismissed", "partisan": True})
    assert r.status_code == 200 and r.json()["partisan"] is True and r.json()["asn"] is None


# ------------------------------------------------------------------ service errors


def test_validation_errors_do_not_echo_the_text(client: TestClient) -> None:
    secret = "RAHASIA budi@example.com 081234567890"
    bodies = [
        ({"text": secret, "url": "http://example.com/"}, 422, "validation_error"),
        ({"text": secret, "unknown": secret}, 422, "validation_error"),
        ({"text": secret * 3000}, 413, "text_too_long"),
        ({"text": secret, "author_context": secret * 3000}, 413, "text_too_long"),
        ({"text": 5}, 422, "validation_error"),
    ]
    for body, status, code in bodies:
        r = client.post("/v1/score", json=body)
        _error(r, status, code)
        assert "RAHASIA" not in r.text and "budi@" not in r.text


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("/v1/score", {"text": "a" * (MAX_TEXT_CHARS + 1)}),
        ("/v1/score", {"text": "a", "author_context": "a" * (MAX_TEXT_CHARS + 1)}),
        ("/v1/score/batch", {"items": [{"text": "a"}, {"text": "a" * (MAX_TEXT_CHARS + 1)}]}),
    ],
)
def test_over_long_text_names_the_limit(client: TestClient, route: str, body: Any) -> None:
    # One limit, limits.MAX_TEXT_CHARS (it was 50,000 here and 100,000 in the readers).
    err = _error(client.post(route, json=body), 413, "text_too_long")
    assert "text limit of 100,000" in err["message"] and "MAX_TEXT_CHARS" in err["message"]
    ok = {"text": "a" * MAX_TEXT_CHARS, "queue": False}
    assert client.post("/v1/score", json=ok).status_code == 200


def test_page_names_the_text_limit(client: TestClient) -> None:
    data = {"csrf": _csrf(client), "text": "a" * (MAX_TEXT_CHARS + 1)}
    r = client.post("/", data=data, headers={"origin": ORIGIN})
    assert r.status_code == 413 and "batas teks 100.000 karakter" in r.text
    assert f'maxlength="{MAX_TEXT_CHARS}"' in client.get("/").text


# Bodies the errors table calls validation_error (422): FastAPI answered 400 to those
# json.loads refuses with something other than a syntax error.
UNPARSABLE = {
    "invalid UTF-8": b'{"text": "\xff\xfe kampanye"}',
    "an integer of 5000 digits": b'{"text": "a", "id": ' + b"9" * 5000 + b"}",
    "nesting 100,000 deep": b'{"text": "a", "id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
}


@pytest.mark.parametrize("name", UNPARSABLE)
def test_unparsable_bodies_are_422(client: TestClient, name: str) -> None:
    headers = {"content-type": "application/json"}
    for route in ("/v1/score", "/v1/score/batch"):
        err = _error(
            client.post(route, content=UNPARSABLE[name], headers=headers), 422, "validation_error"
        )
        assert err["message"].startswith("body: not valid JSON")


@pytest.mark.parametrize(
    "body",
    [
        {"text": "a", "queue": 0},
        {"text": "a", "queue": "yes"},
        {"text": "a", "queue": "true"},
        {"text": "a", "id": True},
        {"text": "a", "id": 1.0},
        {"text": "a", "id": 2**53},
        {"text": "a \ud800"},
    ],
)
def test_types_are_strict(client: TestClient, body: dict[str, Any]) -> None:
    content = json.dumps(body).encode()  # ensure_ascii spells the lone surrogate \\ud800
    r = client.post("/v1/score", content=content, headers={"content-type": "application/json"})
    _error(r, 422, "validation_error")


def test_strict_booleans_in_batches_and_decisions(client: TestClient) -> None:
    _error(
        client.post("/v1/score/batch", json={"items": [{"text": "a"}], "queue": 1}),
        422,
        "validation_error",
    )
    item_id = client.post("/v1/score", json={"text": FLAG_TEXT}).json()["queue_id"]
    r = client.post(f"/v1/queue/{item_id}/decision", json={"decision": "dismissed", "asn": "no"})
    _error(r, 422, "validation_error")


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_batch_refuses_blank_text_as_score_does(client: TestClient, text: str) -> None:
    _error(client.post("/v1/score", json={"text": text}), 422, "validation_error")
    body = {"items": [{"text": "ok"}, {"text": text}]}
    err = _error(client.post("/v1/score/batch", json=body), 422, "validation_error")
    assert err["message"].startswith("items.1.text")


def test_broken_and_empty_bodies(client: TestClient) -> None:
    headers = {"content-type": "application/json"}
    _error(client.post("/v1/score", content=b"{not json", headers=headers), 422, "validation_error")
    _error(client.post("/v1/score", content=b"", headers=headers), 422, "validation_error")
    _error(client.post("/v1/score", json={"text": "   "}), 422, "validation_error")
    _error(client.post("/v1/score", json=[1, 2]), 422, "validation_error")


def test_body_cap_counts_streamed_bytes(make_client: MakeClient) -> None:
    client = make_client(max_body_bytes=2048)
    big = b'{"text": "' + b"a" * 5000 + b'"}'
    _error(
        client.post("/v1/score", content=big, headers={"content-type": "application/json"}),
        413,
        "body_too_large",
    )

    def stream() -> Iterator[bytes]:  # chunked: no Content-Length to trust
        yield b'{"text": "'
        for _ in range(10):
            yield b"a" * 1000
        yield b'"}'

    r = client.post("/v1/score", content=stream(), headers={"content-type": "application/json"})
    _error(r, 413, "body_too_large")
    lying = {"content-type": "application/json", "content-length": "20"}
    r = client.post("/v1/score", content=stream(), headers=lying)
    _error(r, 413, "body_too_large")
    assert client.get("/healthz").status_code == 200


def test_json_only_for_api_posts(client: TestClient) -> None:
    r = client.post("/v1/score", content=b'{"text": "x"}', headers={"content-type": "text/plain"})
    _error(r, 415, "unsupported_media_type")
    _error(client.post("/v1/score", data={"text": "x"}), 415, "unsupported_media_type")


def test_not_found_and_method_not_allowed(client: TestClient) -> None:
    _error(client.get("/v1/nothing"), 404, "not_found")
    _error(client.get("/v1/score"), 405, "method_not_allowed")


def test_api_keys(make_client: MakeClient) -> None:
    client = make_client(api_keys=["rina:s3cret-key", "bare-key"])
    _error(client.get("/v1/model"), 401, "unauthorized")
    _error(client.get("/v1/model", headers={"x-api-key": "wrong"}), 401, "unauthorized")
    assert client.get("/v1/model", headers={"x-api-key": "s3cret-key"}).status_code == 200
    assert client.get("/v1/model", headers={"authorization": "Bearer bare-key"}).status_code == 200
    assert client.get("/healthz").status_code == 200  # health stays open for probes
    headers = {"x-api-key": "s3cret-key"}
    item_id = client.post("/v1/score", json={"text": FLAG_TEXT}, headers=headers).json()["queue_id"]
    r = client.post(
        f"/v1/queue/{item_id}/decision",
        json={"decision": "confirmed", "reviewer": "spoof"},
        headers=headers,
    )
    assert r.json()["reviewer"] == "rina"  # the key names the reviewer


def test_cross_origin_calls_and_cors(make_client: MakeClient) -> None:
    client = make_client()
    r = client.post("/v1/score", json={"text": "x"}, headers={"origin": "https://evil.example"})
    _error(r, 403, "cross_origin")
    assert (
        client.post("/v1/score", json={"text": "x"}, headers={"origin": ORIGIN}).status_code == 200
    )
    preflight = client.options(
        "/v1/score",
        headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    allowed = make_client(
        cors_origins=["https://monitor.example"],
        db=Path(client.app.state.settings.db).with_name("q2.db"),
    )
    r = allowed.post("/v1/score", json={"text": "x"}, headers={"origin": "https://monitor.example"})
    assert (
        r.status_code == 200
        and r.headers["access-control-allow-origin"] == "https://monitor.example"
    )


REBOUND = {"host": "evil.example", "origin": "http://evil.example"}


def test_a_rebound_host_is_refused(client: TestClient) -> None:
    # DNS rebinding: a page on evil.example whose name now points at 127.0.0.1 sends
    # Host and Origin naming evil.example; both used to pass, and the queue answered 200.
    item_id = client.post("/v1/score", json={"text": FLAG_TEXT}).json()["queue_id"]
    _error(client.get("/v1/queue", headers=REBOUND), 400, "host_not_allowed")
    _error(client.get("/healthz", headers=REBOUND), 400, "host_not_allowed")
    _error(client.get("/", headers=REBOUND), 400, "host_not_allowed")
    decision = client.post(
        f"/v1/queue/{item_id}/decision", json={"decision": "dismissed"}, headers=REBOUND
    )
    _error(decision, 400, "host_not_allowed")
    assert client.get(f"/v1/queue/{item_id}").json()["status"] == "pending"


@pytest.mark.parametrize("host", ["localhost:8000", "127.0.0.1", "[::1]:8000", "LOCALHOST"])
def test_loopback_hosts_are_allowed_by_default(client: TestClient, host: str) -> None:
    assert client.get("/healthz", headers={"host": host}).status_code == 200


def test_allowed_hosts_and_the_public_origin(make_client: MakeClient) -> None:
    client = make_client(
        allowed_hosts=["*.netral.example"], public_origin="https://review.example.org"
    )
    assert client.get("/healthz", headers={"host": "a.netral.example"}).status_code == 200
    assert client.get("/healthz", headers={"host": "review.example.org"}).status_code == 200
    _error(client.get("/healthz", headers={"host": "localhost"}), 400, "host_not_allowed")


def _request(host: str, origin: str) -> Any:
    from starlette.requests import Request

    headers = [(b"host", host.encode()), (b"origin", origin.encode())]
    return Request({"type": "http", "scheme": "http", "headers": headers, "path": "/"})


def test_the_origin_check_compares_against_the_allowed_hosts() -> None:
    from netral_nlp.api.security import same_site

    settings = Settings()
    assert same_site(
        _request("127.0.0.1:8000", "http://127.0.0.1:8000"), "http://127.0.0.1:8000", settings
    )
    # Host and Origin agree, but neither is an allowed host: not this site.
    rebound = _request("evil.example", "http://evil.example")
    assert not same_site(rebound, "http://evil.example", settings)
    assert same_site(rebound, "http://evil.example", Settings(allowed_hosts=["evil.example"]))


def test_serve_allows_the_address_it_binds(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    import netral_nlp.model
    from netral_nlp.api import run

    apps: list[Any] = []
    monkeypatch.setattr(netral_nlp.model, "load_model", lambda _: FakeClassifier())
    monkeypatch.setattr(uvicorn, "run", lambda app, **_: apps.append(app))
    monkeypatch.setenv("NETRAL_DB", ":memory:")
    for name in ("netral_nlp.access", "netral_nlp.api"):  # run() sets up their handlers
        logger = logging.getLogger(name)
        for attr in ("handlers", "propagate", "level"):
            monkeypatch.setattr(logger, attr, getattr(logger, attr))
    run(host="192.168.1.20")
    run(host="0.0.0.0")
    assert apps[0].state.settings.allowed_hosts == [
        "localhost",
        "127.0.0.1",
        "[::1]",
        "192.168.1.20",
    ]
    assert apps[1].state.settings.allowed_hosts == ["localhost", "127.0.0.1", "[::1]"]


def test_a_500_is_logged_once_and_keeps_the_connection(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    classifier = FakeClassifier()
    classifier.fail_on = "BOOM"
    app = create_app(Settings(db=tmp_path / "q.db"), classifier=classifier)
    with live_server(app) as port, caplog.at_level(logging.INFO):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("POST", "/v1/score", body=b'{"text": "BOOM"}', headers=JSON)
        r = conn.getresponse()
        body = json.loads(r.read())
        assert r.status == 500 and body["error"]["code"] == "internal_error"
        assert r.getheader("connection") != "close"
        sock = conn.sock
        conn.request("GET", "/healthz")
        assert conn.getresponse().status == 200 and conn.sock is sock  # the same connection
        conn.close()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].name == "netral_nlp.api", errors
    assert errors[0].exc_info and "BOOM" not in errors[0].getMessage()


@pytest.mark.parametrize("drip", [False, True])
def test_a_stalled_upload_is_cut_off(tmp_path: Path, drip: bool) -> None:
    app = create_app(
        Settings(db=tmp_path / "q.db", body_timeout_s=0.5), classifier=FakeClassifier()
    )
    with live_server(app) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            b"POST /v1/score HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
        )
        start = time.monotonic()
        sock.settimeout(0.1)
        answer = b""
        while b"\r\n\r\n" not in answer and time.monotonic() - start < 5:
            if drip:
                sock.sendall(b" ")  # a byte every 0.1 s: never finished, never quiet
            try:
                answer += sock.recv(4096)
            except TimeoutError:
                continue
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert time.monotonic() - start < 2


def test_overload_answers_503_quickly_and_healthz_stays_fast(make_client: MakeClient) -> None:
    classifier = FakeClassifier()
    client = make_client(classifier=classifier, max_inflight=1)
    classifier.gate = threading.Event()
    held: list[int] = []
    worker = threading.Thread(
        target=lambda: held.append(client.post("/v1/score", json={"text": "x"}).status_code)
    )
    calls = classifier.calls
    worker.start()
    try:
        deadline = time.monotonic() + 5
        while classifier.calls == calls and time.monotonic() < deadline:
            time.sleep(0.01)
        start = time.monotonic()
        r = client.post("/v1/score", json={"text": "y"})
        _error(r, 503, "overloaded")
        assert r.headers["retry-after"] == "1"
        assert client.get("/healthz").status_code == 200
        assert time.monotonic() - start < 1.0
    finally:
        classifier.gate.set()
        worker.join(10)
    assert held == [200]


def test_access_log_has_no_texts_keys_or_personal_data(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(api_keys=["rina:kunci-rahasia-123"])
    personal = "Budi budi.santoso@example.com 0812-3456-7890 NIK 3201234567890001 kampanye"
    with caplog.at_level(logging.DEBUG):
        headers = {"x-api-key": "kunci-rahasia-123"}
        client.post(
            "/v1/score", json={"text": personal, "author_context": personal}, headers=headers
        )
        client.post("/v1/score", json={"text": personal, "bad": 1}, headers=headers)
        client.get("/v1/queue?status=pending&q=" + "3201234567890001", headers=headers)
    records = [r for r in caplog.records if r.name == "netral_nlp.access"]
    assert len(records) == 3 and '"path": "/v1/score"' in records[0].getMessage()
    server_side = [
        r for r in caplog.records if r.name.startswith(("netral_nlp", "uvicorn", "fastapi"))
    ]
    logged = "\n".join(r.getMessage() for r in server_side).lower()  # not the test client's
    for needle in ("budi", "0812", "3201234567890001", "kunci-rahasia", "kampanye"):
        assert needle not in logged


# ------------------------------------------------------------------ the page


def _csrf(client: TestClient) -> str:
    client.get("/")
    return client.cookies["netral_csrf"]


def test_page_is_indonesian_with_an_english_toggle(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200 and '<html lang="id">' in r.text and "Periksa" in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    en = client.get("/?lang=en")
    assert '<html lang="en">' in en.text and "Review queue" in en.text
    assert '<html lang="en">' in client.get("/").text  # the choice is remembered


def test_page_scores_and_highlights_escaped_text(client: TestClient) -> None:
    text = "<script>alert(1)</script> Guru ikut kampanye & coblos paslon"
    r = client.post(
        "/", data={"csrf": _csrf(client), "text": text, "queue": "1"}, headers={"origin": ORIGIN}
    )
    assert r.status_code == 200
    assert "<script>alert(1)</script>" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert '<mark class="k-actor_act k-partisan_act' in r.text
    assert "Ikut kegiatan kampanye" in r.text and "DITANDAI" in r.text
    assert client.get("/v1/queue").json()["counts"]["pending"] == 1


def test_every_span_kind_has_a_label_and_a_colour() -> None:
    from netral_nlp.api.i18n import STRINGS
    from netral_nlp.prediction import SPAN_KINDS

    css = (Path(netral_nlp.api.__file__).parent / "static" / "app.css").read_text()
    for kind in SPAN_KINDS:
        assert f"mark.k-{kind} " in css, kind
        for lang, strings in STRINGS.items():
            assert strings.get(f"k_{kind}"), (lang, kind)


class SentenceClassifier(FakeClassifier):
    """Emits the transformer's kind of span: the sentence of the window that fired."""

    def _one(self, text: str) -> Prediction:
        pred = super()._one(text)
        pred.spans = [Span(0, len(text), "sentence", text)]
        return pred


def test_sentence_spans_are_highlighted_and_labelled(make_client: MakeClient) -> None:
    client = make_client(SentenceClassifier())
    r = client.post(
        "/", data={"csrf": _csrf(client), "text": FLAG_TEXT}, headers={"origin": ORIGIN}
    )
    assert '<mark class="k-sentence " title="kalimat yang memicu model">' in r.text
    assert (
        client.post("/v1/score", json={"text": FLAG_TEXT}).json()["evidence_spans"][0]["kind"]
        == "sentence"
    )


def test_queue_returns_only_known_span_kinds(client: TestClient, tmp_path: Path) -> None:
    item_id = client.post("/v1/score", json={"text": FLAG_TEXT}).json()["queue_id"]
    with contextlib.closing(sqlite3.connect(tmp_path / "queue.db")) as con, con:
        spans = [{"start": 0, "end": 5, "kind": "legacy_kind", "text": FLAG_TEXT[:5]}]
        con.execute(
            "UPDATE items SET evidence_spans = ? WHERE id = ?", (json.dumps(spans), item_id)
        )
    assert client.get(f"/v1/queue/{item_id}").json()["evidence_spans"] == []
    assert client.get("/v1/queue").status_code == 200
    assert client.get("/queue").status_code == 200


def test_page_forms_need_csrf_and_same_origin(client: TestClient) -> None:
    token = _csrf(client)
    assert (
        client.post(
            "/", data={"csrf": "forged", "text": FLAG_TEXT}, headers={"origin": ORIGIN}
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/", data={"csrf": token, "text": FLAG_TEXT}, headers={"origin": "https://evil.example"}
        ).status_code
        == 403
    )
    assert (
        client.post("/", data={"csrf": token, "text": FLAG_TEXT}).status_code == 403
    )  # no Origin nor Referer
    ok = client.post(
        "/", data={"csrf": token, "text": FLAG_TEXT}, headers={"referer": f"{ORIGIN}/"}
    )
    assert ok.status_code == 200
    assert client.get("/v1/queue").json()["counts"]["pending"] == 0  # queue box unticked


def test_page_input_errors(client: TestClient, hostile_server: HostileServer) -> None:
    token = _csrf(client)
    headers = {"origin": ORIGIN}
    assert client.post("/", data={"csrf": token}, headers=headers).status_code == 422
    both = client.post(
        "/", data={"csrf": token, "text": "a", "url": "http://x.test"}, headers=headers
    )
    assert both.status_code == 422 and "jangan keduanya" in both.text
    blocked = client.post("/", data={"csrf": token, "url": "http://10.0.0.1/"}, headers=headers)
    assert blocked.status_code == 422 and "tidak publik" in blocked.text
    url = f"http://news.test:{hostile_server.port}/article"
    fetched = client.post("/", data={"csrf": token, "url": url}, headers=headers)
    assert fetched.status_code == 200 and "Camat ikut kampanye" in fetched.text


def test_page_queue_confirm_correct_and_conflict(client: TestClient) -> None:
    token = _csrf(client)
    item_id = client.post("/v1/score", json={"text": FLAG_TEXT}).json()["queue_id"]
    page = client.get("/queue")
    assert f'id="item-{item_id}"' in page.text and "<mark" in page.text
    form = {
        "csrf": token,
        "decision": "confirmed",
        "categories": ["penyalahgunaan_jabatan"],
        "reviewer": "rina",
    }
    r = client.post(
        f"/queue/{item_id}", data=form, headers={"origin": ORIGIN}, follow_redirects=False
    )
    assert r.status_code == 303 and "done=confirmed" in r.headers["location"]
    item = client.get(f"/v1/queue/{item_id}").json()
    assert item["decided_categories"] == ["penyalahgunaan_jabatan"] and item["reviewer"] == "rina"
    again = client.post(
        f"/queue/{item_id}", data=form | {"decision": "dismissed"}, headers={"origin": ORIGIN}
    )
    assert again.status_code == 409 and "sudah diputuskan" in again.text
    assert "rina" in client.get("/queue?status=confirmed").text


def test_page_confirm_needs_a_category(client: TestClient) -> None:
    token = _csrf(client)
    item_id = client.post("/v1/score", json={"text": FLAG_TEXT}).json()["queue_id"]
    r = client.post(
        f"/queue/{item_id}",
        data={"csrf": token, "decision": "confirmed"},
        headers={"origin": ORIGIN},
    )
    assert r.status_code == 422 and "minimal satu kategori" in r.text
    assert client.get(f"/v1/queue/{item_id}").json()["status"] == "pending"


def test_page_login_when_keys_are_configured(make_client: MakeClient) -> None:
    client = make_client(api_keys=["rina:s3cret"])
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("/login")
    token = _csrf_from(client, "/login")
    bad = client.post("/login", data={"csrf": token, "key": "nope"}, headers={"origin": ORIGIN})
    assert bad.status_code == 401
    ok = client.post(
        "/login",
        data={"csrf": token, "key": "s3cret"},
        headers={"origin": ORIGIN},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert client.get("/").status_code == 200


def _csrf_from(client: TestClient, path: str) -> str:
    client.get(path)
    return client.cookies["netral_csrf"]


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETRAL_API_KEYS", "rina:k1, k2")
    monkeypatch.setenv("NETRAL_FETCH_ALLOW", "10.0.0.0/8,intranet.example")
    monkeypatch.setenv("NETRAL_FETCH_PORTS", "80,443,8080")
    monkeypatch.setenv("NETRAL_MODEL", "")
    settings = Settings()
    assert settings.api_keys == ["rina:k1", "k2"]
    assert settings.fetch_allow == ["10.0.0.0/8", "intranet.example"]
    assert settings.fetch_ports == [80, 443, 8080]
    assert settings.model is None and settings.cors_origins == []
    monkeypatch.setenv("NETRAL_FETCH_ALLOW", "10.0.0.0/33")
    with pytest.raises(ValueError):
        Settings()
    monkeypatch.delenv("NETRAL_FETCH_ALLOW")
    monkeypatch.setenv("NETRAL_ALLOWED_HOSTS", "Netral.LAN, *.example.org,[::1]")
    assert Settings().allowed_hosts == ["netral.lan", "*.example.org", "[::1]"]
    monkeypatch.setenv("NETRAL_ALLOWED_HOSTS", "netral.*")
    with pytest.raises(ValueError, match="netral"):
        Settings()


def test_the_env_example_names_every_setting() -> None:
    example = (Path(__file__).parents[1] / "serve" / "netral.env.example").read_text()
    for name in Settings.model_fields:
        assert f"NETRAL_{name.upper()}=" in example, name


# ------------------------------------------------------------------ fuzzing


@pytest.mark.slow
def test_schemathesis_finds_no_500_and_no_undocumented_status() -> None:
    """`make fuzz` in short: every schemathesis check, ~1,500 cases against a live
    service with the shipped model (about 20 s)."""
    pytest.importorskip("schemathesis")
    from fuzz_service import fuzz

    assert fuzz(max_examples=100, seed=2) == 0
