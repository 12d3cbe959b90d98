"""Fuzz the running service with schemathesis, every check: ``make fuzz``.

Serves the app with the shipped model (or ``--model``) under uvicorn on 127.0.0.1, with
a fresh review queue in a temporary folder and URL fetching refused for every port, so
no case leaves the machine; then runs ``st run`` with ``--checks all`` against its
OpenAPI document and exits with st's status. Passing means no 500, no status the OpenAPI
document does not list, and every body in its schema. Settings: tests/schemathesis.toml.

    .venv/bin/python tests/fuzz_service.py [--max-examples 300] [--seed 1] [--model DIR]

The default (300 examples per operation, about 4,000 requests) takes about a minute on
two cores.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

CONFIG = Path(__file__).with_name("schemathesis.toml")


@contextlib.contextmanager
def serving(model: str | None, db: Path) -> Iterator[int]:
    """The app on a free port of 127.0.0.1, in a thread; yields the port."""
    import uvicorn

    from netral_nlp.api import create_app
    from netral_nlp.api.settings import Settings
    from netral_nlp.model import load_model

    settings = Settings(db=db, fetch_ports=[])  # no port is fetchable: url_blocked
    app = create_app(settings, classifier=load_model(model))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise SystemExit("the service did not start")
            time.sleep(0.05)
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


def st_command(port: int, max_examples: int, seed: int, workers: int) -> list[str]:
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or "st"
    return [
        st,
        "--config-file",
        str(CONFIG),
        "--no-color",
        "run",
        f"http://127.0.0.1:{port}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        "--workers",
        str(workers),
        "--generation-database",
        "none",
    ]


def fuzz(max_examples: int = 300, seed: int = 1, workers: int = 2, model: str | None = None) -> int:
    """Run the fuzzer against a fresh service; st's exit status (0: no failure)."""
    with tempfile.TemporaryDirectory() as tmp, serving(model, Path(tmp) / "queue.db") as port:
        return subprocess.call(st_command(port, max_examples, seed, workers))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=300, help="Cases per operation.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--model", default=None, help="Model directory; default the shipped.")
    args = parser.parse_args()
    sys.exit(fuzz(args.max_examples, args.seed, args.workers, args.model))


if __name__ == "__main__":
    main()
