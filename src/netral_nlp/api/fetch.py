"""An SSRF-safe page fetcher (RELIABILITY.md, "URL fetching").

Checking the URL text is not enough, so every hop is handled by hand: the host is
resolved once, every answer must be a public address (or one the operator allowed), and
the connection goes to that pinned address with the original name in ``Host`` and in TLS
SNI, so a name that rebinds between check and connect cannot redirect it. Redirects are
followed one at a time and re-checked. Proxy variables are ignored, bodies are decoded
here with a cap on decoded bytes (gzip bombs), and one deadline covers the whole fetch.

A refused address, a closed port and an unknown host all raise the same ``url_blocked``
error with the same message, so the service cannot be used to map a network.
"""

from __future__ import annotations

import functools
import ipaddress
import ssl
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import anyio
import httpx2

from .addresses import AddressPolicy, IPAddress, Resolver, literal_ip, system_resolver

SCHEMES = ("http", "https")
MEDIA_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
REDIRECTS = (301, 302, 303, 307, 308)
USER_AGENT = "netral-nlp/0.1 (+triage of ASN neutrality reports)"
INVALID_MESSAGE = "not a valid http(s) URL, or the page redirected to one that is not"
BLOCKED_MESSAGE = "the URL cannot be fetched: its host is unknown, not public or not answering"


class FetchError(Exception):
    """A URL that was refused or could not be fetched; ``code`` is the API error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _blocked() -> FetchError:
    return FetchError("url_blocked", BLOCKED_MESSAGE)


def _invalid() -> FetchError:
    return FetchError("url_invalid", INVALID_MESSAGE)


@dataclass(frozen=True)
class FetchConfig:
    """What one fetch may do; built from the service settings."""

    allow: tuple[str, ...] = ()
    ports: tuple[int, ...] = (80, 443)
    timeout_s: float = 15.0
    max_bytes: int = 2_000_000
    max_redirects: int = 5


@dataclass
class Page:
    """A fetched page: the final URL, its media type, declared charset and decoded body."""

    url: str
    media_type: str
    charset: str | None
    body: bytes


async def _pinned_address(
    url: httpx2.URL, policy: AddressPolicy, ports: Sequence[int], resolver: Resolver
) -> IPAddress:
    """Check one hop's URL and return the single address to connect to."""
    if url.scheme not in SCHEMES:
        raise FetchError("url_invalid", "only http and https URLs can be fetched")
    if url.userinfo:
        raise FetchError("url_invalid", "URLs with a user name or password are refused")
    host = url.raw_host.decode("ascii")
    if not host:
        raise FetchError("url_invalid", "the URL has no host")
    port = url.port or (443 if url.scheme == "https" else 80)
    if port not in ports:
        raise _blocked()
    ip = literal_ip(host)
    if ip is not None:
        if not policy.permits(ip):
            raise _blocked()
        return ip
    name_ok = policy.name_allowed(host)
    if not name_ok and (host.lower().rstrip(".") == "localhost" or host.endswith(".localhost")):
        raise _blocked()
    try:
        answers = [ipaddress.ip_address(a.split("%")[0]) for a in await resolver(host, port)]
    except (OSError, ValueError, UnicodeError):
        raise _blocked() from None
    if not answers or not (name_ok or all(policy.permits(a) for a in answers)):
        raise _blocked()  # one private answer among public ones is enough to refuse
    return answers[0]


def _media_type(header: str) -> tuple[str, str | None]:
    parts = [p.strip() for p in header.split(";")]
    charset = None
    for param in parts[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'") or None
    return parts[0].lower(), charset


class _Decoder:
    """Content-Encoding decoding with a cap on output, checked before memory is spent."""

    def __init__(self, encoding: str, max_bytes: int) -> None:
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self._z = None
        elif encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._z = zlib.decompressobj(zlib.MAX_WBITS)
        else:
            raise FetchError("url_content_type", f"unsupported content encoding {encoding!r}")
        self._max = max_bytes
        self._out = bytearray()

    def feed(self, chunk: bytes) -> None:
        if self._z is None:
            self._append(chunk)
            return
        try:
            data = chunk
            while data:
                self._append(self._z.decompress(data, self._max + 1 - len(self._out)))
                data = self._z.unconsumed_tail
        except zlib.error:
            raise FetchError("url_unreadable", "the page's compressed body is corrupt") from None

    def _append(self, data: bytes) -> None:
        self._out += data
        if len(self._out) > self._max:
            raise FetchError("url_too_large", f"the page is larger than {self._max} bytes")

    def result(self) -> bytes:
        return bytes(self._out)


async def _read_body(response: httpx2.Response, max_bytes: int) -> bytes:
    decoder = _Decoder(response.headers.get("content-encoding", ""), max_bytes)
    async for chunk in response.aiter_raw():
        decoder.feed(chunk)
    return decoder.result()


def _hop_request(client: httpx2.AsyncClient, url: httpx2.URL, ip: IPAddress) -> httpx2.Request:
    """A GET to the pinned address that still names the host (Host header, TLS SNI)."""
    extensions = {}
    host = url.raw_host.decode("ascii")
    if url.scheme == "https" and literal_ip(host) is None:
        extensions["sni_hostname"] = host
    return client.build_request(
        "GET",
        url.copy_with(host=str(ip)),
        headers={"Host": url.netloc.decode("ascii")},
        extensions=extensions,
    )


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


async def fetch_page(url: str, config: FetchConfig, resolver: Resolver = system_resolver) -> Page:
    """Fetch ``url`` under ``config``; raise FetchError with an API error code."""
    try:
        with anyio.fail_after(config.timeout_s):
            return await _fetch(url, config, resolver)
    except TimeoutError:
        raise FetchError(
            "url_timeout", f"the page did not arrive within {config.timeout_s:g} s"
        ) from None


async def _fetch(url: str, config: FetchConfig, resolver: Resolver) -> Page:
    try:
        current = httpx2.URL(url)
    except (httpx2.InvalidURL, ValueError, UnicodeError):
        raise _invalid() from None
    policy = AddressPolicy(config.allow)
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": "text/html,application/xhtml+xml,text/plain;q=0.8",
        "Accept-Encoding": "gzip, deflate",
    }
    timeout = httpx2.Timeout(config.timeout_s, connect=min(config.timeout_s, 5.0))
    async with httpx2.AsyncClient(
        trust_env=False,
        follow_redirects=False,
        verify=_ssl_context(),
        timeout=timeout,
        headers=headers,
    ) as client:
        for _ in range(config.max_redirects + 1):
            try:
                ip = await _pinned_address(current, policy, config.ports, resolver)
                # send() also parses the answer's Location (response.next_request), so a
                # hostile redirect can fail inside it as well as in building the request.
                response = await client.send(_hop_request(client, current, ip), stream=True)
            except (httpx2.ConnectError, httpx2.ConnectTimeout):
                raise _blocked() from None
            except httpx2.TimeoutException:
                raise FetchError("url_timeout", "the page stopped answering") from None
            except httpx2.HTTPError:
                raise FetchError("url_unreadable", "the page's server broke the protocol") from None
            except (httpx2.InvalidURL, ValueError, UnicodeError):  # IDNAError is a UnicodeError
                raise _invalid() from None
            try:
                if response.status_code in REDIRECTS and "location" in response.headers:
                    try:
                        current = current.join(response.headers["location"])
                    except (httpx2.InvalidURL, ValueError, UnicodeError):
                        raise _invalid() from None
                    continue
                return await _page(current, response, config.max_bytes)
            except httpx2.TimeoutException:
                raise FetchError("url_timeout", "the page stopped answering") from None
            except httpx2.HTTPError:
                raise FetchError("url_unreadable", "the page's server broke the protocol") from None
            finally:
                await response.aclose()
    raise FetchError("url_redirects", f"more than {config.max_redirects} redirects")


async def _page(url: httpx2.URL, response: httpx2.Response, max_bytes: int) -> Page:
    if not 200 <= response.status_code < 300:
        raise FetchError("url_http_status", f"the page answered HTTP {response.status_code}")
    media_type, charset = _media_type(response.headers.get("content-type", ""))
    if media_type not in MEDIA_TYPES:
        shown = media_type[:60] or "none"
        raise FetchError("url_content_type", f"the page is {shown}, not HTML or text")
    declared = response.headers.get("content-length", "")
    if (
        declared.isdigit()
        and "content-encoding" not in response.headers
        and int(declared) > max_bytes
    ):
        raise FetchError("url_too_large", f"the page is larger than {max_bytes} bytes")
    return Page(str(url), media_type, charset, await _read_body(response, max_bytes))
