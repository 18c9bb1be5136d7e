"""eclips.webhooks.verify agrees with the reference Standard Webhooks implementation."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime

import pytest
import standardwebhooks

from eclips.webhooks import WebhookVerificationError, sign, verify

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
OTHER = "whsec_" + base64.b64encode(b"another secret of thirty-two b!!").decode()
BODY = json.dumps({"type": "run.completed", "data": {"run_id": "r1", "status": "completed"}})


def reference_headers(secret: str, body: str, *, msg_id: str = "msg_1", at: float | None = None):
    stamp = datetime.fromtimestamp(time.time() if at is None else at, tz=UTC)
    signature = standardwebhooks.Webhook(secret).sign(msg_id, stamp, body)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(stamp.timestamp())),
        "webhook-signature": signature,
    }


def test_verifies_what_the_reference_signs() -> None:
    assert verify(SECRET, reference_headers(SECRET, BODY), BODY.encode()) == json.loads(BODY)
    assert verify(SECRET, reference_headers(SECRET, BODY), BODY) == json.loads(BODY)


def test_reference_verifies_what_we_sign() -> None:
    now = int(time.time())
    headers = {
        "webhook-id": "msg_2",
        "webhook-timestamp": str(now),
        "webhook-signature": sign(SECRET, msg_id="msg_2", timestamp=now, body=BODY),
    }
    assert standardwebhooks.Webhook(SECRET).verify(BODY, headers) == json.loads(BODY)
    assert verify(SECRET, headers, BODY) == json.loads(BODY)


def test_unpadded_and_unprefixed_secrets_match_the_reference() -> None:
    raw = base64.b64encode(b"short-key").decode()  # has padding
    unpadded = raw.rstrip("=")
    headers = reference_headers("whsec_" + unpadded, BODY)
    assert verify("whsec_" + unpadded, headers, BODY)
    assert verify(raw, headers, BODY)


def test_tampered_body_is_rejected_by_both() -> None:
    headers = reference_headers(SECRET, BODY)
    tampered = BODY.replace("completed", "failed")
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(SECRET).verify(tampered, headers)
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        verify(SECRET, headers, tampered)


def test_wrong_secret_is_rejected() -> None:
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        verify(OTHER, reference_headers(SECRET, BODY), BODY)


@pytest.mark.parametrize(
    ("offset", "message"),
    [(-301, "too old"), (-3600, "too old"), (301, "too new")],
)
def test_stale_or_future_timestamps_are_rejected_by_both(offset: int, message: str) -> None:
    headers = reference_headers(SECRET, BODY, at=time.time() + offset)
    with pytest.raises(standardwebhooks.WebhookVerificationError, match=message):
        standardwebhooks.Webhook(SECRET).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError, match=f"timestamp {message}"):
        verify(SECRET, headers, BODY)


def test_tolerance_is_configurable() -> None:
    headers = reference_headers(SECRET, BODY, at=time.time() - 600)
    assert verify(SECRET, headers, BODY, tolerance=900)
    with pytest.raises(WebhookVerificationError, match="tolerance is 60 s"):
        verify(SECRET, reference_headers(SECRET, BODY, at=time.time() - 90), BODY, tolerance=60)


def test_any_of_several_signatures_may_match() -> None:
    ours = reference_headers(SECRET, BODY)
    theirs = reference_headers(OTHER, BODY)
    ours["webhook-signature"] = " ".join(
        ["v2,ignored", theirs["webhook-signature"], ours["webhook-signature"]]
    )
    assert standardwebhooks.Webhook(SECRET).verify(BODY, ours)
    assert verify(SECRET, ours, BODY)
    assert verify(OTHER, ours, BODY)
    # Junk entries, which crash the reference implementation, are skipped.
    ours["webhook-signature"] = "v1,not-base64! nonsense " + ours["webhook-signature"]
    assert verify(SECRET, ours, BODY)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_headers_are_named(missing: str) -> None:
    headers = reference_headers(SECRET, BODY)
    del headers[missing]
    with pytest.raises(WebhookVerificationError, match=f"Missing {missing} header"):
        verify(SECRET, headers, BODY)


def test_header_names_are_case_insensitive_in_a_plain_dict() -> None:
    headers = {k.title(): v for k, v in reference_headers(SECRET, BODY).items()}
    assert "Webhook-Id" in headers
    assert verify(SECRET, headers, BODY)


def test_unreadable_timestamp_and_secret() -> None:
    headers = reference_headers(SECRET, BODY)
    headers["webhook-timestamp"] = "yesterday"
    with pytest.raises(WebhookVerificationError, match="Invalid webhook-timestamp"):
        verify(SECRET, headers, BODY)
    with pytest.raises(WebhookVerificationError, match="secret is not valid"):
        verify("whsec_", reference_headers(SECRET, BODY), BODY)
    with pytest.raises(WebhookVerificationError, match="secret is not valid"):
        verify("whsec_%%%", reference_headers(SECRET, BODY), BODY)


def test_the_server_signs_what_we_verify() -> None:
    signing = pytest.importorskip("eclips.server.webhooks.signing")
    now = int(time.time())
    headers = signing.headers([OTHER, SECRET], msg_id="evt_1", timestamp=now, body=BODY.encode())
    assert verify(SECRET, headers, BODY.encode()) == json.loads(BODY)
