"""Standard Webhooks signatures (https://www.standardwebhooks.com), written by us.

The signed content is ``f"{msg_id}.{timestamp}.{body}"``, the key is the base64 part of a
``whsec_`` secret, and the header carries one ``v1,<base64 HMAC-SHA256>`` per valid secret,
space-separated, so a receiver holding either the old or the new secret verifies during a
rotation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping

SECRET_PREFIX = "whsec_"
_SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh ``whsec_<base64 of 32 random bytes>`` secret."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret: the base64-decoded part after the prefix."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("webhook secret is not valid base64") from exc
    if not key:
        raise ValueError("webhook secret is empty")
    return key


def sign(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature of ``msg_id.timestamp.body``."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets_: Iterable[str], *, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: one signature per secret, space-separated."""
    signatures = [sign(s, msg_id=msg_id, timestamp=timestamp, body=body) for s in secrets_]
    if not signatures:
        raise ValueError("at least one secret is needed to sign")
    return " ".join(signatures)


def headers(secrets_: Iterable[str], *, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            secrets_, msg_id=msg_id, timestamp=timestamp, body=body
        ),
    }


def verify(
    secret: str, *, headers: Mapping[str, str], body: bytes, now: int, tolerance: int = 300
) -> bool:
    """True if one of the header's ``v1`` signatures matches and the timestamp is recent.

    Receivers should prefer the ``standardwebhooks`` package; this is here for our own
    tests and tools.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    msg_id = lowered.get("webhook-id")
    stamp = lowered.get("webhook-timestamp")
    header = lowered.get("webhook-signature")
    if not (msg_id and stamp and header):
        return False
    try:
        timestamp = int(stamp)
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, msg_id=msg_id, timestamp=timestamp, body=body)
    return any(
        hmac.compare_digest(expected.encode(), candidate.encode())
        for candidate in header.split(" ")
        if candidate.startswith("v1,")
    )
