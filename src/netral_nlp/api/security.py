"""Who may call and from where: API keys, same-origin checks and CSRF tokens.

API keys are compared in constant time (digests, every key, no early exit) and never
logged. Page forms use a double-submit token: a random value in an HttpOnly, SameSite=
Strict cookie that the form must repeat, plus an Origin (or Referer) check. JSON API
calls need ``Content-Type: application/json``, which a cross-site form cannot send.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from urllib.parse import urlsplit

from fastapi import Request

from .errors import ApiError

CSRF_COOKIE = "netral_csrf"
KEY_COOKIE = "netral_key"


class ApiKeys:
    """The configured keys, each ``key`` or ``reviewer:key``; empty means open access."""

    def __init__(self, entries: Sequence[str]) -> None:
        self._keys: list[tuple[bytes, str]] = []
        for n, entry in enumerate(entries, start=1):
            name, sep, key = entry.rpartition(":")
            if not sep:
                name, key = f"key{n}", entry
            self._keys.append((hashlib.sha256(key.encode()).digest(), name))

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def match(self, supplied: str | None) -> str | None:
        """The reviewer name of ``supplied``, or None; the time does not depend on which."""
        digest = hashlib.sha256((supplied or "").encode()).digest()
        found = None
        for key_digest, name in self._keys:
            if hmac.compare_digest(digest, key_digest) and supplied:
                found = name
        return found


def supplied_key(request: Request) -> str | None:
    """The key of an API call: ``X-API-Key`` or ``Authorization: Bearer``."""
    key = request.headers.get("x-api-key")
    if key:
        return key
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def own_origin(request: Request, public_origin: str | None) -> str:
    if public_origin:
        return public_origin.rstrip("/")
    return f"{request.url.scheme}://{request.headers.get('host', '')}"


def request_origin(request: Request) -> str | None:
    """The page a browser request came from: Origin, else Referer's origin."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        return origin.rstrip("/")
    referer = request.headers.get("referer")
    if referer:
        parts = urlsplit(referer)
        return f"{parts.scheme}://{parts.netloc}"
    return "null" if origin else None


def check_api_origin(request: Request, public_origin: str | None, cors: Sequence[str]) -> None:
    """A browser calling the API from another site's page is refused unless CORS allows it."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    if origin.rstrip("/") != own_origin(request, public_origin) and origin not in cors:
        raise ApiError("cross_origin", "requests from this origin are not allowed")


def check_json(request: Request) -> None:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise ApiError("unsupported_media_type", "send the body as application/json")


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def check_form(request: Request, form_token: str | None, public_origin: str | None) -> None:
    """A page form must come from this origin and repeat the cookie's token."""
    if request_origin(request) != own_origin(request, public_origin):
        raise ApiError("csrf_failed", "this form was not sent from this site")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if (
        not cookie
        or not form_token
        or not hmac.compare_digest(cookie.encode(), form_token.encode())
    ):
        raise ApiError("csrf_failed", "the form's security token is missing or stale; reload")
