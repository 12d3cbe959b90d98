"""Who may call and from where: API keys, same-origin checks and CSRF tokens.

API keys are compared in constant time (digests, every key, no early exit) and never
logged. Page forms use a double-submit token: a random value in an HttpOnly, SameSite=
Strict cookie that the form must repeat, plus an Origin (or Referer) check. JSON API
calls need ``Content-Type: application/json``, which a cross-site form cannot send.

Same-origin means: the Origin is the service's own (NETRAL_PUBLIC_ORIGIN, else the
request's scheme and Host) *and* names an allowed host (NETRAL_ALLOWED_HOSTS). Comparing
against Host alone is not enough: a page on another domain that rebinds its name to this
address sends that domain as both Host and Origin (the Host check in middleware.py
refuses it first; this is the second lock).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from urllib.parse import urlsplit

from fastapi import Request

from .errors import ApiError
from .settings import Settings

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


def host_allowed(host: str, patterns: Sequence[str]) -> bool:
    """Whether ``host`` (no port; IPv6 in brackets) matches an allowed-host pattern: the
    name itself, ``*.domain`` or ``*`` (TrustedHostMiddleware's rules)."""
    host = host.lower()
    return any(
        p == "*" or host == p or (p.startswith("*.") and host.endswith(p[1:])) for p in patterns
    )


def own_origin(request: Request, public_origin: str | None) -> str:
    if public_origin:
        return public_origin.rstrip("/")
    return f"{request.url.scheme}://{request.headers.get('host', '')}"


def same_site(request: Request, origin: str | None, settings: Settings) -> bool:
    """``origin`` is this service's own origin and names one of its allowed hosts."""
    if origin is None or origin.rstrip("/") != own_origin(request, settings.public_origin):
        return False
    parts = urlsplit(origin)
    host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname
    return host_allowed(host or "", settings.trusted_hosts)


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


def check_api_origin(request: Request, settings: Settings) -> None:
    """A browser calling the API from another site's page is refused unless CORS allows it."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    if not same_site(request, origin, settings) and origin not in settings.cors_origins:
        raise ApiError("cross_origin", "requests from this origin are not allowed")


def check_json(request: Request) -> None:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise ApiError("unsupported_media_type", "send the body as application/json")


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def check_form(request: Request, form_token: str | None, settings: Settings) -> None:
    """A page form must come from this origin and repeat the cookie's token."""
    if not same_site(request, request_origin(request), settings):
        raise ApiError("csrf_failed", "this form was not sent from this site")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if (
        not cookie
        or not form_token
        or not hmac.compare_digest(cookie.encode(), form_token.encode())
    ):
        raise ApiError("csrf_failed", "the form's security token is missing or stale; reload")
