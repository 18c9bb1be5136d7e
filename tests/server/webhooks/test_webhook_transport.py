"""The connect-time check: the address actually connected to is judged, not the name."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpcore
import httpx
import pytest

from eclips.server.webhooks.transport import GuardedBackend, GuardedTransport, delivery_ssl_context
from tests.server.webhooks.receiver import Answer, Receiver

pytestmark = pytest.mark.anyio


def resolver(table: dict[str, list[str]]):
    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(f"unknown host {host}")
        return table[host]

    return resolve


def client(*, allow_private: bool, table: dict[str, list[str]] | None = None) -> httpx.AsyncClient:
    kwargs = {"resolver": resolver(table)} if table is not None else {}
    transport = GuardedTransport(
        ssl_context=delivery_ssl_context(), allow_private=allow_private, max_connections=4, **kwargs
    )
    return httpx.AsyncClient(transport=transport, timeout=5, follow_redirects=False)


async def test_hostname_resolving_to_loopback_is_refused_at_connect(receiver: Receiver) -> None:
    # Registration never saw this URL: only the connect-time check stands in the way.
    async with client(allow_private=False) as http:
        with pytest.raises(httpx.ConnectError, match=r"127\.0\.0\.1 is a loopback address"):
            await http.post(f"http://localhost:{receiver.port}/hook", content=b"{}")
    assert receiver.received == []


async def test_rebinding_name_is_refused_at_connect(receiver: Receiver) -> None:
    table = {"rebind.example.com": ["127.0.0.1"]}
    async with client(allow_private=False, table=table) as http:
        with pytest.raises(httpx.ConnectError, match="loopback"):
            await http.post(f"http://rebind.example.com:{receiver.port}/hook", content=b"{}")
    assert receiver.received == []


async def test_one_private_address_among_public_ones_is_refused(receiver: Receiver) -> None:
    table = {"split.example.com": ["93.184.216.34", "::ffff:169.254.169.254"]}
    async with client(allow_private=False, table=table) as http:
        with pytest.raises(httpx.ConnectError, match="cloud metadata"):
            await http.post(f"http://split.example.com:{receiver.port}/hook", content=b"{}")


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "127.1", "[::ffff:127.0.0.1]"])
async def test_numeric_host_forms_are_refused_at_connect(receiver: Receiver, host: str) -> None:
    async with client(allow_private=False) as http:
        with pytest.raises(httpx.ConnectError, match="loopback"):
            await http.post(f"http://{host}:{receiver.port}/hook", content=b"{}")
    assert receiver.received == []


async def test_connects_to_the_checked_address_and_keeps_the_host(receiver: Receiver) -> None:
    table = {"hooks.example.test": ["127.0.0.1"]}
    async with client(allow_private=True, table=table) as http:
        response = await http.post(f"http://hooks.example.test:{receiver.port}/hook", content=b"{}")
    assert response.status_code == 200
    assert receiver.received[0].headers["host"] == f"hooks.example.test:{receiver.port}"


async def test_decimal_host_reaches_loopback_when_private_is_allowed(receiver: Receiver) -> None:
    async with client(allow_private=True) as http:
        response = await http.post(f"http://2130706433:{receiver.port}/hook", content=b"{}")
    assert response.status_code == 200


class Misrouting(httpcore.AsyncNetworkBackend):
    """A network that sends every connection to loopback, whatever was asked."""

    def __init__(self, port: int) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._port = port

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        del host, port, local_address, socket_options
        return await self._inner.connect_tcp("127.0.0.1", self._port, timeout=timeout)


async def test_peer_address_is_checked_after_connect(receiver: Receiver) -> None:
    backend = GuardedBackend(
        allow_private=False,
        resolver=resolver({"public.example.com": ["93.184.216.34"]}),
        inner=Misrouting(receiver.port),
    )
    with pytest.raises(httpcore.ConnectError, match=r"127\.0\.0\.1 is a loopback address"):
        await backend.connect_tcp("public.example.com", 443, timeout=5)


async def test_unix_sockets_are_refused() -> None:
    with pytest.raises(httpcore.ConnectError):
        await GuardedBackend().connect_unix_socket("/tmp/x.sock")


async def test_redirects_are_not_followed(receiver: Receiver) -> None:
    receiver.answer(Answer(302, {"location": "http://127.0.0.1:1/elsewhere"}))
    async with client(allow_private=True) as http:
        response = await http.post(receiver.url, content=b"{}")
    assert response.status_code == 302
    assert len(receiver.received) == 1


async def test_tls_is_verified_against_ssl_cert_file(
    tls_receiver: Receiver, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    async with client(allow_private=True) as http:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await http.post(tls_receiver.url, content=b"{}")

    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    context = delivery_ssl_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    async with client(allow_private=True) as http:
        response = await http.post(tls_receiver.url, content=b"{}")
    assert response.status_code == 200
    assert tls_receiver.received[-1].path == "/hook"
