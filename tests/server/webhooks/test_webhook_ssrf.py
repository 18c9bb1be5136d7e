"""SSRF policy: which addresses deliveries may reach, and the registration check."""

from __future__ import annotations

import ipaddress

import pytest

from eclips.server.errors import BadRequest
from eclips.server.webhooks.ssrf import parse_ip_literal, refusal_reason, validate_url

pytestmark = pytest.mark.anyio

REFUSED = {
    # IPv4
    "127.0.0.1": "loopback",
    "127.255.255.254": "loopback",
    "10.1.2.3": "private",
    "172.16.0.1": "private",
    "172.31.255.255": "private",
    "192.168.1.1": "private",
    "169.254.169.254": "cloud metadata",
    "169.254.1.1": "link-local",
    "100.64.0.1": "carrier-grade NAT",
    "100.100.100.200": "carrier-grade NAT",  # Alibaba Cloud metadata
    "100.127.255.255": "carrier-grade NAT",
    "0.0.0.0": "unspecified",
    "0.1.2.3": "unspecified",
    "224.0.0.1": "multicast",
    "239.255.255.250": "multicast",
    "240.0.0.1": "reserved",
    "255.255.255.255": "reserved",
    "192.0.0.192": "reserved",  # Oracle Cloud metadata
    "192.0.2.1": "documentation",
    "198.51.100.7": "documentation",
    "203.0.113.9": "documentation",
    "198.18.0.1": "benchmarking",
    # IPv6
    "::1": "loopback",
    "::": "unspecified",
    "fc00::1": "unique-local",
    "fd12:3456::1": "unique-local",
    "fd00:ec2::254": "cloud metadata",
    "fe80::1": "link-local",
    "fec0::1": "site-local",
    "ff02::1": "multicast",
    "2001:db8::1": "documentation",
    "2001::1": "reserved",  # Teredo
    "::127.0.0.1": "reserved",  # IPv4-compatible
    "64:ff9b:1::1": "private",
    "100::1": "reserved",
    # IPv6 forms that carry an IPv4 address are judged by it
    "::ffff:127.0.0.1": "loopback",
    "::ffff:7f00:1": "loopback",
    "::ffff:169.254.169.254": "cloud metadata",
    "::ffff:10.0.0.1": "private",
    "2002:7f00:1::1": "loopback",  # 6to4 of 127.0.0.1
    "2002:a00:1::": "private",  # 6to4 of 10.0.0.1
    "64:ff9b::7f00:1": "loopback",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe": "cloud metadata",
}

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "11.0.0.1",
    "172.32.0.1",
    "100.63.255.255",
    "100.128.0.1",
    "2606:4700:4700::1111",
    "2a00:1450:4001:82a::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::1",
]


@pytest.mark.parametrize(("address", "reason"), sorted(REFUSED.items()))
def test_refused_addresses(address: str, reason: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses(address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F000001", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("2852039166", "169.254.169.254"),
        ("0xa9fea9fe", "169.254.169.254"),
        ("[::1]", "::1"),
        ("[::ffff:127.0.0.1]", "::ffff:7f00:1"),
        ("8.8.8.8", "8.8.8.8"),
        ("127.0.0.1.", "127.0.0.1"),
    ],
)
def test_ip_literals_in_every_form(host: str, address: str) -> None:
    assert parse_ip_literal(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize(
    "host", ["example.com", "localhost", "1.2.3.4.5", "4294967296", "0x1g", "256.1.1.1", "08"]
)
def test_hostnames_are_not_literals(host: str) -> None:
    assert parse_ip_literal(host) is None


def stub_resolver(table: dict[str, list[str]]):
    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(f"unknown host {host}")
        return table[host]

    return resolve


RESOLVER = stub_resolver(
    {
        "hooks.example.com": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
        "split.example.com": ["93.184.216.34", "10.0.0.5"],
        "mapped.example.com": ["::ffff:127.0.0.1"],
        "localhost": ["127.0.0.1", "::1"],
    }
)


async def test_public_https_url_is_accepted() -> None:
    url = "https://hooks.example.com/eclips?x=1"
    assert await validate_url(url, allow_private=False, resolver=RESOLVER) == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.com/", "url must start with https://"),
        ("ftp://hooks.example.com/", "url must start with https://"),
        ("hooks.example.com/x", "url must start with https://"),
        ("https:///nohost", "url must include a host"),
        ("https://127.0.0.1/", "loopback"),
        ("https://127.0.0.1:8443/hook", "loopback"),
        ("https://2130706433/", "loopback"),
        ("https://0x7f000001/", "loopback"),
        ("https://0177.0.0.1/", "loopback"),
        ("https://127.1/", "loopback"),
        ("https://[::1]/", "loopback"),
        ("https://[::ffff:127.0.0.1]/", "loopback"),
        ("https://[::ffff:a9fe:a9fe]/", "cloud metadata"),
        ("https://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("https://10.0.0.1/", "private"),
        ("https://192.168.0.10/", "private"),
        ("https://100.64.1.1/", "carrier-grade NAT"),
        ("https://[fd00::1]/", "unique-local"),
        ("https://[fe80::1]/", "link-local"),
        ("https://224.0.0.1/", "multicast"),
        ("https://0.0.0.0/", "unspecified"),
        ("https://localhost/", "loopback"),
        ("https://split.example.com/", "private"),
        ("https://mapped.example.com/", "loopback"),
        ("https://nowhere.example.com/", "does not resolve"),
        ("https://" + "a" * 2100 + ".com/", "at most"),
    ],
)
async def test_refused_at_registration(url: str, message: str) -> None:
    with pytest.raises(BadRequest, match=message) as raised:
        await validate_url(url, allow_private=False, resolver=RESOLVER)
    assert raised.value.status_code == 400


async def test_allow_private_accepts_http_and_loopback() -> None:
    for url in ("http://127.0.0.1:9000/hook", "https://localhost/x", "http://2130706433/"):
        assert await validate_url(url, allow_private=True, resolver=RESOLVER) == url
    with pytest.raises(BadRequest, match="https://"):
        await validate_url("ftp://127.0.0.1/", allow_private=True, resolver=RESOLVER)


async def test_without_resolving_literals_are_still_judged() -> None:
    url = "https://nowhere.example.com/"
    assert await validate_url(url, allow_private=False, resolve_host=False) == url
    with pytest.raises(BadRequest, match="loopback"):
        await validate_url("https://2130706433/", allow_private=False, resolve_host=False)
