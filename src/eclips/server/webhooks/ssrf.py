"""Keep webhook deliveries out of the operator's network.

Two checks: one when a URL is registered (a clear 400 for the user), and one at connect
time against the very address the socket is opened to, so a name that resolves to a
public address at registration and to ``127.0.0.1`` later (DNS rebinding) is still refused.
``ECLIPS_WEBHOOKS_ALLOW_PRIVATE=true`` lifts both for development and tests.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

import httpx

from eclips.server.errors import BadRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

MAX_URL_LENGTH = 2048
_RESOLVE_TIMEOUT = 5.0

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

# Checked in order, so the metadata address is named before the link-local range it is in.
_REFUSED_V4: tuple[tuple[ipaddress.IPv4Network, str], ...] = (
    (_V4("169.254.169.254/32"), "cloud metadata"),
    (_V4("0.0.0.0/8"), "unspecified"),
    (_V4("127.0.0.0/8"), "loopback"),
    (_V4("10.0.0.0/8"), "private"),
    (_V4("172.16.0.0/12"), "private"),
    (_V4("192.168.0.0/16"), "private"),
    (_V4("100.64.0.0/10"), "carrier-grade NAT"),
    (_V4("169.254.0.0/16"), "link-local"),
    (_V4("192.0.0.0/24"), "reserved"),
    (_V4("192.0.2.0/24"), "documentation"),
    (_V4("198.51.100.0/24"), "documentation"),
    (_V4("203.0.113.0/24"), "documentation"),
    (_V4("198.18.0.0/15"), "benchmarking"),
    (_V4("192.88.99.0/24"), "reserved"),
    (_V4("224.0.0.0/4"), "multicast"),
    (_V4("240.0.0.0/4"), "reserved"),
)
_REFUSED_V6: tuple[tuple[ipaddress.IPv6Network, str], ...] = (
    (_V6("::/128"), "unspecified"),
    (_V6("::1/128"), "loopback"),
    (_V6("fd00:ec2::254/128"), "cloud metadata"),
    (_V6("::/96"), "reserved"),  # IPv4-compatible, deprecated
    (_V6("64:ff9b:1::/48"), "private"),  # local-use NAT64
    (_V6("100::/64"), "reserved"),  # discard
    (_V6("2001::/32"), "reserved"),  # Teredo hides the real client address
    (_V6("2001:db8::/32"), "documentation"),
    (_V6("fc00::/7"), "unique-local"),
    (_V6("fe80::/10"), "link-local"),
    (_V6("fec0::/10"), "site-local"),
    (_V6("ff00::/8"), "multicast"),
)
_NAT64 = _V6("64:ff9b::/96")


def refusal_reason(address: IPAddress) -> str | None:
    """Why a delivery may not go to ``address``, or None when it is a public address.

    IPv6 forms that carry an IPv4 address (IPv4-mapped, 6to4, NAT64) are judged by the
    IPv4 address inside them.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_v4(address)
        if embedded is not None:
            return refusal_reason(embedded)
        for network, reason in _REFUSED_V6:
            if address in network:
                return reason
    else:
        for v4_network, reason in _REFUSED_V4:
            if address in v4_network:
                return reason
    if not address.is_global or address.is_multicast:
        return "reserved"
    return None


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a host names by itself, without DNS, or None for a real hostname.

    Besides dotted quads and IPv6 this accepts the legacy forms ``inet_aton`` (and so
    ``getaddrinfo``) accepts: ``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``127.1``.
    """
    host = host.strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers: list[int] = []
    for part in parts:
        number = _legacy_number(part)
        if number is None:
            return None
        numbers.append(number)
    *leading, last = numbers
    if any(n > 0xFF for n in leading) or last >= 1 << (8 * (4 - len(leading))):
        return None
    value = 0
    for n in leading:
        value = value << 8 | n
    value = value << (8 * (4 - len(leading))) | last
    return ipaddress.IPv4Address(value)


def _legacy_number(part: str) -> int | None:
    lowered = part.lower()
    try:
        if lowered.startswith("0x"):
            return int(lowered[2:] or "0", 16)
        if len(lowered) > 1 and lowered.startswith("0"):
            return int(lowered[1:], 8)
        if lowered.isdigit():
            return int(lowered, 10)
    except ValueError:
        return None
    return None


async def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, as strings, in the resolver's order."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in seen:
            seen.append(address)
    return seen


def first_refused(addresses: Iterable[str]) -> tuple[str, str] | None:
    for text in addresses:
        address = parse_ip_literal(text)
        reason = "unparseable" if address is None else refusal_reason(address)
        if reason is not None:
            return text, reason
    return None


async def validate_url(
    url: str, *, allow_private: bool, resolve_host: bool = True, resolver: Resolver = resolve
) -> str:
    """Check a webhook URL at registration; raise ``BadRequest`` (400) when it may not be used.

    The URL must be ``https://`` (``http://`` too when private delivery is allowed) and,
    unless private delivery is allowed, every address its host resolves to must be public.
    ``resolve_host=False`` skips DNS (IP literals are still judged) for places such as a
    run's ``webhook_url`` where a request should not wait on a resolver; the connect-time
    check still applies. Returns the URL unchanged.
    """
    if len(url) > MAX_URL_LENGTH:
        raise BadRequest(f"url must be at most {MAX_URL_LENGTH} characters")
    lowered = url.lower()
    if not lowered.startswith("https://") and not (allow_private and lowered.startswith("http://")):
        raise BadRequest("url must start with https://")
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError as exc:
        raise BadRequest(f"url is not a valid URL: {exc}") from exc
    host = parts.hostname
    if not host:
        raise BadRequest("url must include a host")
    literal = parse_ip_literal(host)
    if literal is not None and not allow_private:
        reason = refusal_reason(literal)
        if reason is not None:
            raise BadRequest(f"url must not point to a {reason} address ({literal})")
    try:
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as exc:
        raise BadRequest(f"url is not a valid URL: {exc}") from exc
    if allow_private or literal is not None:
        return url
    if not resolve_host:
        return url
    try:
        async with asyncio.timeout(_RESOLVE_TIMEOUT):
            addresses = await resolver(host, port)
    except (OSError, TimeoutError) as exc:
        raise BadRequest(f"url host does not resolve: {host}") from exc
    if not addresses:
        raise BadRequest(f"url host does not resolve: {host}")
    refused = first_refused(addresses)
    if refused is not None:
        address, reason = refused
        raise BadRequest(f"url must not point to a {reason} address ({host} is {address})")
    return url
