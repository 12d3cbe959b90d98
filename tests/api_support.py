"""Helpers for the service tests: a fake classifier, a tiny trained baseline, a hostile
HTTP server on 127.0.0.1 and a stub DNS resolver. The fixtures are in api_fixtures.py."""

from __future__ import annotations

import contextlib
import gzip
import random
import re
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from netral_nlp.labels import CATEGORY_NAMES
from netral_nlp.manifest import Manifest
from netral_nlp.prediction import Prediction, Span

# ---------------------------------------------------------------- classifiers

_TRIGGERS = {
    "kampanye": ("partisan_act", "kegiatan_kampanye"),
    "coblos": ("partisan_act", "ajakan_dukungan"),
    "dukung": ("partisan_act", "ajakan_dukungan"),
    "camat": ("asn_role", None),
    "guru": ("asn_role", None),
    "asn": ("asn_role", None),
    "paslon": ("candidate", None),
}
FLAG_TEXT = "Camat Sukamaju ikut kampanye paslon 02 dan mengajak warga coblos nomor dua."
CLEAR_TEXT = "Hari ini cuaca cerah dan pasar ramai seperti biasa."


class FakeClassifier:
    """Deterministic stand-in for a model: flags texts with ``kampanye`` or ``coblos``.

    ``gate``, when set, makes ``predict`` wait for it (to hold requests in flight);
    ``fail_on``, when set, makes it raise for a text containing that word (a bug).
    """

    def __init__(self) -> None:
        self.manifest = Manifest(
            name="fake",
            version="0.0.1",
            kind="baseline",
            thresholds={"flag": 0.5, **{c: 0.5 for c in CATEGORY_NAMES}},
            metrics={"test": {"flag": {"f1": 1.0}}},
        )
        self.gate: threading.Event | None = None
        self.fail_on: str | None = None
        self.calls = 0

    def predict(
        self, texts: Sequence[str], author_contexts: Sequence[str | None] | None = None
    ) -> list[Prediction]:
        self.calls += 1
        if self.gate is not None:
            self.gate.wait(10)
        if self.fail_on is not None and any(self.fail_on in t for t in texts):
            raise RuntimeError("a bug in the model")
        return [self._one(t) for t in texts]

    def _one(self, text: str) -> Prediction:
        spans, categories = [], []
        for m in re.finditer(r"\w+", text):
            kind, category = _TRIGGERS.get(m.group().lower(), (None, None))
            if kind:
                spans.append(Span(m.start(), m.end(), kind, m.group()))
            if category and category not in categories:
                categories.append(category)
        score = 0.9 if categories else 0.1
        flag = score >= 0.5
        cat_scores = {c: (0.8 if c in categories else 0.05) for c in CATEGORY_NAMES}
        if flag and spans:
            spans.insert(
                0,
                Span(
                    spans[0].start, spans[-1].end, "actor_act", text[spans[0].start : spans[-1].end]
                ),
            )
        return Prediction(
            score=score,
            flag=flag,
            categories=[c for c in CATEGORY_NAMES if c in categories] if flag else [],
            category_scores=cat_scores,
            evidence=[s.text for s in spans[:1]],
            spans=spans,
        )

    def save(self, directory: str | Path) -> None:  # pragma: no cover - protocol only
        raise NotImplementedError


_ROLES = [
    "Guru SDN 4",
    "Camat Cibeber",
    "Kepala dinas kesehatan",
    "Lurah Mekarsari",
    "Seorang PNS pemkab",
    "Kabag umum setda",
]
_OTHERS = [
    "Kepala desa Sukaraja",
    "Seorang warga",
    "Kader partai",
    "Anggota DPRD",
    "Pengusaha lokal",
    "Mahasiswa",
]
_ACTS = [
    ("ikut kampanye akbar paslon nomor {n} di lapangan", "kegiatan_kampanye"),
    ("membagikan foto paslon {n} di grup WhatsApp dan Facebook", "kampanye_medsos"),
    ("mengajak warga mencoblos paslon nomor {n}", "ajakan_dukungan"),
    ("memakai mobil dinas untuk mengantar tim sukses paslon {n}", "penyalahgunaan_jabatan"),
    ("resmi bergabung dengan tim pemenangan paslon {n}", "keterlibatan_parpol"),
]
_NEUTRAL = [
    "mengingatkan semua pegawai agar menjaga netralitas saat pemilu",
    "membuka sosialisasi aturan netralitas ASN di aula kantor",
    "mengajak warga datang ke TPS tanggal 14 dan jangan golput",
    "meninjau gudang logistik surat suara bersama KPU",
]


def _synthetic(seed: int = 7) -> list[dict[str, Any]]:
    """~150 labelled texts: ASN + partisan act (flag), non-ASN acts, neutral ASN news."""
    rng = random.Random(seed)
    rows = []
    for i in range(60):
        act, cat = _ACTS[i % len(_ACTS)]
        rows.append(
            {
                "text": f"{rng.choice(_ROLES)} {act.format(n=rng.randint(1, 3))}.",
                "flag": True,
                "categories": [cat],
            }
        )
    for i in range(45):
        act, _ = _ACTS[i % len(_ACTS)]
        rows.append(
            {
                "text": f"{rng.choice(_OTHERS)} {act.format(n=rng.randint(1, 3))}.",
                "flag": False,
                "categories": [],
            }
        )
    for i in range(45):
        rows.append(
            {
                "text": f"{rng.choice(_ROLES)} {_NEUTRAL[i % len(_NEUTRAL)]}.",
                "flag": False,
                "categories": [],
            }
        )
    return rows


@dataclass
class _Item:
    text: str
    flag: bool
    categories: list[str] = field(default_factory=list)


def train_tiny_model(directory: Path) -> Path:
    """Fit and save a small baseline on synthetic texts (a few seconds)."""
    from netral_nlp.baseline import BaselineConfig
    from netral_nlp.features import FeatureConfig
    from netral_nlp.train import fit_baseline

    items = [_Item(r["text"], r["flag"], r["categories"]) for r in _synthetic()]
    config = BaselineConfig(
        features=FeatureConfig(word_bits=16, char_bits=16, author_bits=12), calibration_folds=3
    )
    # Fixed thresholds: tuning them would cost seconds and teach these tests nothing.
    thresholds = {"flag": 0.5, **{c: 0.4 for c in CATEGORY_NAMES}}
    fit_baseline(items, config, name="tiny", version="0.1", thresholds=thresholds).save(directory)
    return directory


# ---------------------------------------------------------------- hostile servers

Handler = Callable[[socket.socket, str, dict[str, str]], None]


def _send(conn: socket.socket, status: str, headers: dict[str, str], body: bytes = b"") -> None:
    head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    conn.sendall(head.encode("latin-1") + b"\r\n" + body)


def _html(title: str, body: str) -> bytes:
    return (
        f'<html><head><meta charset="utf-8"><title>{title}</title>'
        '<meta property="article:published_time" content="2024-01-05T10:00:00+07:00"></head>'
        f"<body><nav>Menu Beranda Politik</nav><article><h1>{title}</h1>"
        f"<p>{body}</p><p>Bawaslu kabupaten sedang memeriksa laporan warga tentang kejadian ini"
        " dan akan memanggil pihak terkait pekan depan.</p></article><footer>Hak cipta</footer>"
        "</body></html>"
    ).encode()


def _gzip_bomb(mib: int) -> bytes:
    """``mib`` MiB of zeros, gzipped to about a thousandth of that."""
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = b"\0" * (1 << 20)
    return b"".join([*(z.compress(zeros) for _ in range(mib)), z.flush()])


class HostileServer:
    """A raw HTTP/1.1 server on 127.0.0.1 whose paths misbehave in known ways.

    ``hits`` counts requests per path; ``hosts`` records the Host headers received.
    """

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.stop = threading.Event()
        self.hits: dict[str, int] = {}
        self.hosts: list[str] = []
        self.routes: dict[str, Handler] = {}
        self._install_routes()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                lines = data.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {
                    k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])
                }
                self.hits[path] = self.hits.get(path, 0) + 1
                self.hosts.append(headers.get("host", ""))
                route = self.routes.get(path.split("?")[0], self._not_found)
                route(conn, path, headers)
            except OSError:
                return

    def _not_found(self, conn: socket.socket, path: str, headers: dict[str, str]) -> None:
        _send(
            conn,
            "404 Not Found",
            {"Content-Type": "text/plain", "Content-Length": "9", "Connection": "close"},
            b"not found",
        )

    def _install_routes(self) -> None:
        def fixed(
            status: str, ctype: str, body: bytes, extra: dict[str, str] | None = None
        ) -> Handler:
            def handler(conn: socket.socket, path: str, headers: dict[str, str]) -> None:
                hdrs = {
                    "Content-Type": ctype,
                    "Content-Length": str(len(body)),
                    "Connection": "close",
                }
                _send(conn, status, hdrs | (extra or {}), body)

            return handler

        def redirect_to(location: str) -> Handler:
            return fixed("302 Found", "text/plain", b"", {"Location": location})

        def chain(conn: socket.socket, path: str, headers: dict[str, str]) -> None:
            n = int(path.split("/")[-1])
            target = "/article" if n == 0 else f"/chain/{n - 1}"
            redirect_to(target)(conn, path, headers)

        def redirect_query(conn: socket.socket, path: str, headers: dict[str, str]) -> None:
            """``/redirect?to=<percent-encoded Location>``: any Location, however broken."""
            location = unquote(path.partition("?to=")[2])
            head = f"HTTP/1.1 302 Found\r\nLocation: {location}\r\n".encode()
            conn.sendall(head + b"Content-Length: 0\r\nConnection: close\r\n\r\n")

        def garbage(conn: socket.socket, path: str, headers: dict[str, str]) -> None:
            conn.sendall(b"SPAM SPAM SPAM\r\n\r\n")

        def hang(conn: socket.socket, path: str, headers: dict[str, str]) -> None:
            self.stop.wait(30)

        def drip(conn: socket.socket, path: str, headers: dict[str, str]) -> None:
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n"
            )
            while not self.stop.is_set():
                conn.sendall(b"a")
                time.sleep(0.2)

        def drip_headers(conn: socket.socket, path: str, headers: dict[str, str]) -> None:
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000:
                if self.stop.is_set():
                    return
                conn.sendall(bytes([byte]))
                time.sleep(0.05)

        def huge_chunked(conn: socket.socket, path: str, headers: dict[str, str]) -> None:
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            chunk = b"x" * 65536
            for _ in range(64):  # 4 MiB, no Content-Length
                conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            conn.sendall(b"0\r\n\r\n")

        bomb = _gzip_bomb(64)
        article = _html(
            "Camat ikut kampanye",
            "Camat Sukamaju terlihat ikut kampanye paslon 02 di lapangan desa.",
        )
        cp1252 = "Caf\u00e9 \u201ckampanye\u201d \u2013 guru".encode("cp1252")
        self.routes.update(
            {
                "/article": fixed("200 OK", "text/html; charset=utf-8", article),
                "/plain": fixed("200 OK", "text/plain", FLAG_TEXT.encode()),
                "/empty": fixed("200 OK", "text/html", b"<html><body></body></html>"),
                "/cp1252": fixed("200 OK", "text/plain; charset=windows-1252", cp1252),
                "/latin1-meta": fixed(
                    "200 OK",
                    "text/html",
                    b'<html><head><meta charset="iso-8859-1"><title>t</title></head><body><article><p>'
                    + "Caf\u00e9 \u201ckampanye\u201d paslon di kecamatan bersama warga desa setempat hari ini.".encode(
                        "cp1252"
                    )
                    + b"</p></article></body></html>",
                ),
                "/gzip": fixed(
                    "200 OK", "text/html", gzip.compress(article), {"Content-Encoding": "gzip"}
                ),
                "/bomb": fixed("200 OK", "text/html", bomb, {"Content-Encoding": "gzip"}),
                "/huge": fixed("200 OK", "text/html", b"x" * 3_000_000),
                "/huge-chunked": huge_chunked,
                "/binary": fixed("200 OK", "application/octet-stream", b"\x00\x01" * 100),
                "/image": fixed("200 OK", "image/png", b"\x89PNG" * 10),
                "/no-type": fixed("200 OK", "", b"hello"),
                "/error": fixed("500 Internal Server Error", "text/html", b"oops"),
                "/garbage": garbage,
                "/hang": hang,
                "/drip": drip,
                "/drip-headers": drip_headers,
                "/redirect": redirect_query,
                "/to-article": redirect_to("/article"),
                "/to-loopback": redirect_to(f"http://127.0.0.2:{self.port}/article"),
                "/to-localhost": redirect_to(f"http://localhost:{self.port}/article"),
                "/to-metadata": redirect_to("http://169.254.169.254/latest/meta-data/"),
                "/to-file": redirect_to("file:///etc/passwd"),
                "/to-ftp": redirect_to("ftp://example.com/x"),
                "/loop": redirect_to("/loop"),
            }
        )
        for n in range(8):
            self.routes[f"/chain/{n}"] = chain

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


class StubResolver:
    """DNS answers from a table; records every question. A list of lists answers in turn
    (the last answer repeats), which is how a rebinding name behaves."""

    def __init__(self, table: dict[str, list[str] | list[list[str]]]) -> None:
        self.table = table
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        answer = self.table.get(host)
        if answer is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        if answer and isinstance(answer[0], list):
            seq = answer  # type: ignore[assignment]
            return list(seq[min(self.asked.count(host), len(seq)) - 1])
        return list(answer)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def live_server(app: Any) -> Iterator[int]:
    """``app`` under uvicorn in a thread on 127.0.0.1; yields the port. uvicorn leaves
    logging alone (log_config=None), so its records reach caplog."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for_port(port)
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")
