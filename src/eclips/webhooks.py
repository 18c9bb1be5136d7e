"""Verify the webhooks EClips sends, per the Standard Webhooks specification.

Every delivery carries three headers: ``webhook-id``, ``webhook-timestamp`` (Unix seconds)
and ``webhook-signature`` (space-separated ``v1,<base64 HMAC-SHA256>`` entries, more than
one while a secret is being rotated). The signed content is ``"{id}.{timestamp}.{body}"``
and the key is the base64 part of the ``whsec_...`` secret.

    from eclips.webhooks import WebhookVerificationError, verify

    try:
        event = verify(secret, request.headers, request.body)
    except WebhookVerificationError:
        return 400
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

__all__ = ["DEFAULT_TOLERANCE", "WebhookVerificationError", "sign", "verify"]

DEFAULT_TOLERANCE = 300
_PREFIX = "whsec_"


class WebhookVerificationError(Exception):
    """The webhook's signature did not verify; do not trust its body."""


def _key(secret: str) -> bytes:
    encoded = secret.strip().removeprefix(_PREFIX)
    try:
        # Accept unpadded base64, as the reference implementation does.
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not key:
        raise WebhookVerificationError(
            "The webhook secret is not valid: expected whsec_ followed by base64"
        )
    return key


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        # A plain dict may spell the header in any case.
        for key, candidate in headers.items():
            if key.lower() == name:
                value = candidate
                break
    if not value:
        raise WebhookVerificationError(f"Missing {name} header")
    return value


def _signature(key: bytes, msg_id: str, timestamp: str, body: bytes) -> bytes:
    content = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    return hmac.new(key, content, hashlib.sha256).digest()


def sign(secret: str, *, msg_id: str, timestamp: int, body: bytes | str) -> str:
    """The ``webhook-signature`` value for a message (for tests and local tooling)."""
    raw = body.encode() if isinstance(body, str) else body
    digest = _signature(_key(secret), msg_id, str(timestamp), raw)
    return "v1," + base64.b64encode(digest).decode()


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
) -> Any:
    """Check a delivery's signature and age; return its decoded JSON body.

    ``headers`` is any mapping of the request's headers; ``body`` must be the raw body,
    exactly as received (not re-serialised JSON). Raises :class:`WebhookVerificationError`
    when a header is missing, the timestamp is more than ``tolerance`` seconds from now
    (a replay or a wrong clock), or no signature matches.
    """
    raw = body.encode() if isinstance(body, str) else body
    msg_id = _header(headers, "webhook-id")
    timestamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise WebhookVerificationError(
            f"Invalid webhook-timestamp header: {timestamp!r} is not Unix seconds"
        ) from None
    now = int(time.time())
    if sent_at < now - tolerance:
        raise WebhookVerificationError(
            f"Message timestamp too old: sent {now - sent_at} s ago, tolerance is {tolerance} s"
        )
    if sent_at > now + tolerance:
        raise WebhookVerificationError(
            f"Message timestamp too new: {sent_at - now} s in the future, "
            f"tolerance is {tolerance} s"
        )
    expected = _signature(_key(secret), msg_id, timestamp, raw)
    for entry in signatures.split(" "):
        version, _, encoded = entry.partition(",")
        if version != "v1":
            continue
        try:
            candidate = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if hmac.compare_digest(candidate, expected):
            try:
                return json.loads(raw)
            except ValueError as exc:
                raise WebhookVerificationError("The webhook body is not JSON") from exc
    raise WebhookVerificationError(
        "No matching signature: the body was altered or the secret is not this webhook's"
    )
