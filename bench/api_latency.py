"""Latency and throughput of ``POST /v1/score`` on 127.0.0.1.

Starts ``netral serve``'s server (one uvicorn worker, access log on) with the default
model in a subprocess, then measures over a bounded run:

- p50 and p99 latency for one ~40-word text at concurrency 1;
- requests per second at concurrency 16 (keep-alive connections, one thread each).

Goals on the 2-core reference machine: p50 <= 5 ms, p99 <= 20 ms, >= 400 req/s, no errors.
The last line is key=value pairs for scripts. Usage:

    .venv/bin/python bench/api_latency.py [--model DIR] [--requests 2000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

TEXT = (
    "Beredar video seorang camat di Kabupaten Garut ikut berjoget di panggung kampanye "
    "paslon nomor urut 2 sambil mengacungkan dua jari. Warga melaporkan kejadian itu ke "
    "Bawaslu setempat, yang kini memanggil camat tersebut untuk dimintai klarifikasi soal "
    "netralitas ASN."
)
GOALS = {"p50_ms": 5.0, "p99_ms": 20.0, "rps_c16": 400.0}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(model: str | None, port: int, db: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {"NETRAL_DB": str(db)}
    code = "import sys; from netral_nlp.api import run; run(model=sys.argv[1] or None, port=int(sys.argv[2]))"
    return subprocess.Popen(
        [sys.executable, "-c", code, model or "", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_healthy(port: int, server: subprocess.Popen[bytes], timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server exited at start-up (is there a model? try --model DIR)")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            if response.status == 200:
                return json.loads(response.read())["model"]
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not become healthy in time")


class _Client:
    """One keep-alive connection posting the same body."""

    def __init__(self, port: int, body: bytes) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.body = body
        self.headers = {"Content-Type": "application/json"}

    def post(self) -> int:
        self.conn.request("POST", "/v1/score", body=self.body, headers=self.headers)
        response = self.conn.getresponse()
        response.read()
        return response.status


def _latency(port: int, body: bytes, n: int, seconds: float) -> tuple[list[float], int]:
    client = _Client(port, body)
    for _ in range(100):  # warm-up
        client.post()
    times, errors = [], 0
    stop = time.monotonic() + seconds
    while len(times) < n and time.monotonic() < stop:
        start = time.perf_counter()
        errors += client.post() != 200
        times.append((time.perf_counter() - start) * 1000)
    return times, errors


def _throughput(port: int, body: bytes, concurrency: int, seconds: float) -> tuple[float, int, int]:
    counts = [0] * concurrency
    errors = [0] * concurrency
    stop = threading.Event()

    def worker(i: int) -> None:
        client = _Client(port, body)
        while not stop.is_set():
            try:
                errors[i] += client.post() != 200
            except OSError:
                errors[i] += 1
                client = _Client(port, body)
            counts[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    return sum(counts) / elapsed, sum(counts), sum(errors)


def _model_alone(model: str | None, n: int = 300) -> float:
    """p50 ms of ``predict`` on the same text in this process: the floor under the service."""
    from netral_nlp.model import load_model

    clf = load_model(model)
    for _ in range(20):
        clf.predict([TEXT])
    times = []
    for _ in range(n):
        start = time.perf_counter()
        clf.predict([TEXT])
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="model directory (default: the shipped baseline)")
    parser.add_argument("--requests", type=int, default=2000, help="requests at concurrency 1")
    parser.add_argument("--seconds", type=float, default=5.0, help="time cap of each phase")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--queue", action="store_true", help="let flagged items be queued (off: measure scoring)"
    )
    args = parser.parse_args()

    body = json.dumps({"text": TEXT, "queue": args.queue}).encode()
    load_before = os.getloadavg()[0]
    model_p50 = _model_alone(args.model)
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = _start_server(args.model, port, Path(tmp) / "bench-queue.db")
        try:
            model = _wait_healthy(port, server)
            times, errors_c1 = _latency(port, body, args.requests, args.seconds)
            rps, total, errors_c16 = _throughput(port, body, args.concurrency, args.seconds)
        finally:
            server.terminate()
            server.wait(10)

    q = statistics.quantiles(times, n=100, method="inclusive")
    figures = {
        "p50_ms": round(statistics.median(times), 2),
        "p99_ms": round(q[98], 2),
        "rps_c16": round(rps, 1),
    }
    print(
        f"model {model}; text of {len(TEXT.split())} words; queueing {'on' if args.queue else 'off'}"
    )
    print(
        f"predict() alone: p50 {model_p50:.2f} ms; load average {load_before:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after (others' work on this machine skews every figure)"
    )
    print(
        f"concurrency 1: {len(times)} requests, p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, errors {errors_c1}"
    )
    print(
        f"concurrency {args.concurrency}: {total} requests in {args.seconds:g} s, {figures['rps_c16']} req/s, errors {errors_c16}"
    )
    ok = (
        figures["p50_ms"] <= GOALS["p50_ms"]
        and figures["p99_ms"] <= GOALS["p99_ms"]
        and figures["rps_c16"] >= GOALS["rps_c16"]
        and errors_c1 + errors_c16 == 0
    )
    print(
        f"goals (p50 <= 5 ms, p99 <= 20 ms, >= 400 req/s, no errors): {'met' if ok else 'NOT met'}"
    )
    print(
        f"p50_ms={figures['p50_ms']} p99_ms={figures['p99_ms']} rps_c16={figures['rps_c16']} "
        f"errors={errors_c1 + errors_c16} model_p50_ms={model_p50:.2f} goals_met={str(ok).lower()}"
    )


if __name__ == "__main__":
    main()
