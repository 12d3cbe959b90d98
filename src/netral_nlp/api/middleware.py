"""Plain ASGI middleware (cheaper than Starlette's BaseHTTPMiddleware on the hot path)."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Sequence
from typing import Any

import anyio
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import STATUS, error_body

access_log = logging.getLogger("netral_nlp.access")
log = logging.getLogger("netral_nlp.api")

_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


_HOST_PASSED = "netral.host_passed"


class HostCheck:
    """Starlette's TrustedHostMiddleware (which Host names are served, port ignored), with
    its plain-text refusal replaced by the one error shape: 400 ``host_not_allowed``."""

    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str]) -> None:
        self.app = app
        self._check = TrustedHostMiddleware(self._passed, list(allowed_hosts), www_redirect=False)

    async def _passed(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[_HOST_PASSED] = True
        await self.app(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def refuse_in_our_shape(message: Message) -> None:
            if scope.get(_HOST_PASSED):
                await send(message)
            elif message["type"] == "http.response.start":
                await _send_json(
                    send,
                    "host_not_allowed",
                    "the Host header names a host this service does not answer for"
                    " (NETRAL_ALLOWED_HOSTS)",
                )

        await self._check(scope, receive, refuse_in_our_shape)


async def _send_json(send: Send, code: str, message: str, close: bool = False) -> None:
    """A whole error response in the one shape, sent from middleware."""
    payload = json.dumps(error_body(code, message)).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": STATUS[code], "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class ServerErrors:
    """An unexpected exception becomes one logged traceback and a 500 in the one shape,
    answered here, inside the app. Starlette's handler for ``Exception`` re-raises after
    answering, so uvicorn logged every 500 a second time and dropped the keep-alive
    connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            route = getattr(scope.get("route"), "path", None) or "(no route)"
            log.exception("unhandled error on %s %s", scope["method"], route)
            if not started:  # else the answer is half sent: the server closes the connection
                message = "an unexpected error occurred; it was logged"
                await _send_json(send, "internal_error", message)


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, counting the bytes that arrive
    (a missing or lying Content-Length changes nothing), and bodies that take longer than
    ``timeout_s`` to arrive with 408 (a client dripping bytes or gone quiet would hold a
    connection and a body buffer for ever). The body is read up front and replayed to the
    app, so no handler ever sees more than the cap."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout_s: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _BODYLESS:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        chunks: list[bytes] = []
        total = 0
        with anyio.move_on_after(self.timeout_s) as deadline:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                total += len(chunk)
                if total > self.max_bytes:
                    await self._refuse(send)
                    return
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
        if deadline.cancelled_caught:
            message = f"the request body did not arrive within {self.timeout_s:g} s"
            await _send_json(send, "body_timeout", message, close=True)
            return
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        message = f"the request body is over {self.max_bytes} bytes"
        await _send_json(send, "body_too_large", message, close=True)


class AccessLog:
    """One JSON line per request: id, method, route path, status, duration. Never the
    query string, body, client address or key: they can carry texts and personal data."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        request_id = uuid.uuid4().hex[:12]

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(json.dumps(_record(scope, request_id, status, start)))


def _record(scope: Scope, request_id: str, status: int, start: float) -> dict[str, Any]:
    route = scope.get("route")
    return {
        "ts": round(time.time(), 3),
        "event": "request",
        "id": request_id,
        "method": scope["method"],
        # The route's template (/v1/queue/{item_id}/decision), not the raw path.
        "path": getattr(route, "path", None) or "(no route)",
        "status": status,
        "ms": round((time.perf_counter() - start) * 1000, 2),
    }
