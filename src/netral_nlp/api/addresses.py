"""Which addresses a URL fetch may reach: public unicast only, in every spelling, plus
what the operator allows (``NETRAL_FETCH_ALLOW``). ``ipaddress.is_global`` alone is not
enough: it calls some tunnelling and special ranges global, so embedded IPv4 addresses
(mapped, 6to4, NAT64) are unwrapped and checked, and the special ranges are listed here.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence

import anyio

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

# Not public, whatever ipaddress.is_global says in a given Python version.
_BLOCKED_V4 = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",  # "this network", unspecified
        "10.0.0.0/8",
        "100.64.0.0/10",  # shared address space (carrier-grade NAT)
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
    )
)
_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
_BLOCKED_V6 = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "2001::/23",  # IETF special purpose: Teredo 2001::/32, benchmarking, ORCHID
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_V4_EMBEDDING_V6 = ipaddress.IPv6Network("::/96")  # deprecated IPv4-compatible, :: and ::1


def literal_ip(host: str) -> IPAddress | None:
    """The address a host names literally, in any spelling inet_aton accepts, else None.

    ``2130706433``, ``0x7f000001``, ``0177.0.0.1`` and ``127.1`` are all 127.0.0.1 to the
    C library, so they must be to this check too.
    """
    h = host.strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(h)
    except ValueError:
        pass
    if h[:1].isdigit() and all(c in "0123456789abcdefxABCDEFX." for c in h):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(h))
        except OSError:
            return None
    return None


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(ip: IPAddress) -> bool:
    """True when ``ip`` is a public unicast address, after unwrapping embedded IPv4."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return False
        inner = _embedded_v4(ip)
        if inner is not None:
            return is_public(inner)
        if ip in _V4_EMBEDDING_V6 or ip.teredo is not None:
            return False
        return ip in _GLOBAL_UNICAST_V6 and not any(ip in n for n in _BLOCKED_V6) and ip.is_global
    return not any(ip in n for n in _BLOCKED_V4) and ip.is_global


class AddressPolicy:
    """Which hosts and addresses may be fetched: public ones, plus the operator's allow list."""

    def __init__(self, allow: Sequence[str] = ()) -> None:
        self._names: set[str] = set()
        self._networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in allow:
            try:
                self._networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                self._names.add(entry.lower().rstrip("."))

    def name_allowed(self, host: str) -> bool:
        return host.lower().rstrip(".") in self._names

    def permits(self, ip: IPAddress) -> bool:
        return any(ip.version == n.version and ip in n for n in self._networks) or is_public(ip)


async def system_resolver(host: str, port: int) -> list[str]:
    """Addresses of ``host`` from the system resolver, IPv4 first."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    return sorted(addresses, key=lambda a: ":" in a)
