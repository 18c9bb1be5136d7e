"""API key format: ``eck_live_<30 base62 random chars><6 base62 checksum chars>``.

30 base62 characters carry about 178 random bits. The CRC32 checksum lets the API refuse a
mistyped key before touching the database. Only the SHA-256 digest is ever stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import zlib

PREFIX = "eck_live_"
_ALPHABET = string.digits + string.ascii_letters
_RANDOM_LEN = 30
_CHECKSUM_LEN = 6

SCOPES = (
    "agents:run",
    "agents:read",
    "batch:run",
    "batch:read",
    "triage:read",
    "triage:write",
    "webhooks:read",
    "webhooks:write",
)


def _base62(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, rem = divmod(number, 62)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), _CHECKSUM_LEN)


def generate_key() -> str:
    body = "".join(secrets.choice(_ALPHABET) for _ in range(_RANDOM_LEN))
    return f"{PREFIX}{body}{_checksum(body)}"


def is_well_formed(key: str) -> bool:
    if not key.startswith(PREFIX) or len(key) != len(PREFIX) + _RANDOM_LEN + _CHECKSUM_LEN:
        return False
    rest = key[len(PREFIX) :]
    if any(c not in _ALPHABET for c in rest):
        return False
    body, checksum = rest[:_RANDOM_LEN], rest[_RANDOM_LEN:]
    return hmac.compare_digest(_checksum(body), checksum)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    return key[: len(PREFIX) + 6]
