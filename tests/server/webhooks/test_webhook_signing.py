"""Our Standard Webhooks signatures, checked against the ``standardwebhooks`` package."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from eclips.server.webhooks import signing

BODY = b'{"id":"evt","type":"run.completed","data":{"x":"\xc3\xa9"}}'


def test_new_secret_is_whsec_and_32_random_bytes() -> None:
    secret = signing.new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert signing.new_secret() != secret


def test_signature_verifies_with_standardwebhooks() -> None:
    secret = signing.new_secret()
    headers = signing.headers([secret], msg_id="msg_1", timestamp=int(time.time()), body=BODY)
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(BODY, headers) == {
        "id": "evt",
        "type": "run.completed",
        "data": {"x": "é"},
    }


def test_signature_matches_the_oracle_byte_for_byte() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    from datetime import UTC, datetime

    stamp = 1_614_265_330
    expected = Webhook(secret).sign(
        "msg_p5jXN8AQM9LWM0D4loKWxJek", datetime.fromtimestamp(stamp, UTC), '{"test": 2432232314}'
    )
    ours = signing.sign(
        secret, msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp=stamp, body=b'{"test": 2432232314}'
    )
    assert ours == expected == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.mark.parametrize(
    "tamper",
    ["body", "id", "timestamp", "secret"],
)
def test_tampering_fails_verification(tamper: str) -> None:
    secret = signing.new_secret()
    now = int(time.time())
    headers = signing.headers([secret], msg_id="msg_1", timestamp=now, body=BODY)
    body = BODY
    verify_secret = secret
    if tamper == "body":
        body = BODY.replace(b"completed", b"failed")
    elif tamper == "id":
        headers["webhook-id"] = "msg_2"
    elif tamper == "timestamp":
        headers["webhook-timestamp"] = str(now - 1)
    else:
        verify_secret = signing.new_secret()
    with pytest.raises(WebhookVerificationError):
        Webhook(verify_secret).verify(body, headers)
    assert not signing.verify(verify_secret, headers=headers, body=body, now=now)


def test_old_timestamp_is_refused() -> None:
    secret = signing.new_secret()
    old = int(time.time()) - 3600
    headers = signing.headers([secret], msg_id="msg_1", timestamp=old, body=BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, headers)


def test_rotation_signs_with_both_secrets() -> None:
    old, new = signing.new_secret(), signing.new_secret()
    now = int(time.time())
    headers = signing.headers([new, old], msg_id="msg_1", timestamp=now, body=BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(BODY, headers)
        assert signing.verify(secret, headers=headers, body=BODY, now=now)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(BODY, headers)


def test_bad_secrets_are_refused() -> None:
    with pytest.raises(ValueError, match="base64"):
        signing.sign("whsec_not*base64", msg_id="m", timestamp=1, body=b"")
    with pytest.raises(ValueError, match="at least one secret"):
        signing.headers([], msg_id="m", timestamp=1, body=b"")
