"""The outbound HTTP transport for deliveries: SSRF-checked at connect time, no proxies,
TLS verified against ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when set."""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import Iterable
from typing import Any

import certifi
import httpcore
import httpx

from eclips.server.webhooks.ssrf import (
    Resolver,
    first_refused,
    parse_ip_literal,
    refusal_reason,
    resolve,
)


def delivery_ssl_context() -> ssl.SSLContext:
    """Verify receivers' certificates against ``SSL_CERT_FILE`` or ``SSL_CERT_DIR`` when the
    operator sets them (a private CA, a test certificate), else against certifi's bundle."""
    cafile = os.environ.get("SSL_CERT_FILE") or None
    capath = os.environ.get("SSL_CERT_DIR") or None
    if cafile or capath:
        return ssl.create_default_context(cafile=cafile, capath=capath)
    return ssl.create_default_context(cafile=certifi.where())


class BlockedAddress(httpcore.ConnectError):
    """The connection would have reached an address deliveries may not go to."""


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that resolves once, refuses non-public addresses and
    connects to exactly the address it checked.

    TLS server name and the Host header still come from the URL (httpcore passes the
    original host to ``start_tls``), so certificates are verified against the name.
    """

    def __init__(
        self,
        *,
        allow_private: bool = False,
        resolver: Resolver = resolve,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._allow_private = allow_private
        self._resolver = resolver
        self._inner = inner if inner is not None else httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        literal = parse_ip_literal(host)
        if literal is not None:
            addresses = [str(literal)]
        else:
            try:
                async with asyncio.timeout(timeout):
                    addresses = await self._resolver(host, port)
            except TimeoutError as exc:
                raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
            except OSError as exc:
                raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
            if not addresses:
                raise httpcore.ConnectError(f"cannot resolve {host}")
        if not self._allow_private:
            refused = first_refused(addresses)
            if refused is not None:
                address, reason = refused
                raise BlockedAddress(
                    f"refused to connect to {host}: {address} is a {reason} address"
                )
        last_error: Exception | None = None
        for address in addresses:
            try:
                stream = await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
                continue
            await self._check_peer(stream, host)
            return stream
        assert last_error is not None
        raise last_error

    async def _check_peer(self, stream: httpcore.AsyncNetworkStream, host: str) -> None:
        """Belt and braces: judge the address the socket is actually connected to."""
        if self._allow_private:
            return
        peer: Any = stream.get_extra_info("server_addr")
        text = str(peer[0]) if isinstance(peer, tuple) and peer else None
        address = parse_ip_literal(text) if text else None
        reason = "unknown" if address is None else refusal_reason(address)
        if reason is not None:
            await stream.aclose()
            raise BlockedAddress(f"refused to connect to {host}: {text} is a {reason} address")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        del path, timeout, socket_options
        raise BlockedAddress("webhooks are never delivered over unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, with its connection pool built on ``GuardedBackend``.

    No proxies (a proxy would make the connect-time check judge the proxy instead of the
    receiver); redirects are the client's business and the dispatcher never follows them.
    """

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext,
        allow_private: bool,
        max_connections: int,
        resolver: Resolver = resolve,
    ) -> None:
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        super().__init__(verify=ssl_context, trust_env=False, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(allow_private=allow_private, resolver=resolver),
        )
