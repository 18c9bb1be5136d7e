"""The webhooks API over HTTP against a real server, as the manual writes it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import LiveServer, database, start_server

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
EVENTS = ["run.completed", "run.failed", "run.triage_required"]


def test_create_returns_201_with_the_secret_once(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    response = client.post(
        "/v1/webhooks", json={"url": "https://127.0.0.1:9/webhooks/eclips", "events": EVENTS}
    )
    assert response.status_code == 201
    data = response.json()["data"]
    assert set(data) == {
        "id",
        "url",
        "events",
        "is_active",
        "secret",
        "created_at",
        "disabled_reason",
    }
    uuid.UUID(data["id"], version=4)
    assert data["url"] == "https://127.0.0.1:9/webhooks/eclips"
    assert data["events"] == EVENTS
    assert data["is_active"] is True
    assert data["secret"].startswith("whsec_")
    assert ISO.match(data["created_at"])

    listed = client.get("/v1/webhooks").json()["data"]
    assert [w["id"] for w in listed] == [data["id"]]
    assert "secret" not in listed[0]
    assert listed[0]["is_active"] is True
    assert listed[0]["disabled_reason"] is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"url": "ftp://example.com/x", "events": EVENTS}, "url must start with https://"),
        ({"url": "https://example.com/x", "events": []}, "events must be a non-empty array"),
        ({"url": "https://example.com/x", "events": ["run.exploded"]}, "Unknown event type"),
        ({"events": EVENTS}, "Missing required field: url"),
        ({"url": "https://example.com/x"}, "Missing required field: events"),
    ],
)
def test_create_refuses_bad_bodies(live_server: LiveServer, body: dict, message: str) -> None:
    client = live_server.client(live_server.new_key())
    response = client.post("/v1/webhooks", json=body)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_delete_and_another_orgs_webhook(live_server: LiveServer) -> None:
    mine = live_server.client(live_server.new_key())
    theirs = live_server.client(live_server.new_key())
    webhook_id = mine.post(
        "/v1/webhooks", json={"url": "https://127.0.0.1:9/x", "events": ["run.failed"]}
    ).json()["data"]["id"]

    for method, path in (
        ("GET", "/deliveries"),
        ("DELETE", ""),
        ("POST", "/rotate-secret"),
        ("POST", "/enable"),
    ):
        response = theirs.request(method, f"/v1/webhooks/{webhook_id}{path}")
        assert response.status_code == 404
        assert response.json() == {"error": "Webhook not found"}
    assert theirs.get("/v1/webhooks").json() == {"data": []}

    assert mine.delete(f"/v1/webhooks/{webhook_id}").json() == {"success": True}
    assert mine.get("/v1/webhooks").json() == {"data": []}
    again = mine.delete(f"/v1/webhooks/{webhook_id}")
    assert again.status_code == 404
    assert again.json() == {"error": "Webhook not found"}
    assert mine.delete(f"/v1/webhooks/{uuid.uuid4()}").status_code == 404


def test_scopes(live_server: LiveServer) -> None:
    reader = live_server.client(live_server.new_key(["webhooks:read"]))
    writer = live_server.client(live_server.new_key(["webhooks:write"]))
    other = live_server.client(live_server.new_key(["agents:run"]))
    body = {"url": "https://127.0.0.1:9/x", "events": ["run.failed"]}
    assert reader.get("/v1/webhooks").status_code == 200
    forbidden = reader.post("/v1/webhooks", json=body)
    assert forbidden.status_code == 403
    assert forbidden.json() == {"error": "Insufficient scope"}
    assert reader.get("/v1/webhooks/signing-secret").status_code == 403
    assert writer.post("/v1/webhooks", json=body).status_code == 201
    assert writer.get("/v1/webhooks").status_code == 403
    assert other.get("/v1/webhooks").status_code == 403
    assert live_server.client().get("/v1/webhooks").status_code == 401


def test_rotate_enable_deliveries_and_signing_secret(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    created = client.post(
        "/v1/webhooks", json={"url": "https://127.0.0.1:9/x", "events": ["run.failed"]}
    ).json()["data"]
    rotated = client.post(f"/v1/webhooks/{created['id']}/rotate-secret").json()["data"]
    assert rotated["id"] == created["id"]
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != created["secret"]
    assert ISO.match(rotated["previous_secret_expires_at"])

    enabled = client.post(f"/v1/webhooks/{created['id']}/enable").json()["data"]
    assert enabled["is_active"] is True
    assert "secret" not in enabled

    deliveries = client.get(f"/v1/webhooks/{created['id']}/deliveries").json()
    assert deliveries == {"data": [], "total": 0, "limit": 20, "offset": 0}
    assert client.get(f"/v1/webhooks/{created['id']}/deliveries?limit=0").status_code == 400

    secret = client.get("/v1/webhooks/signing-secret").json()["data"]["secret"]
    assert secret.startswith("whsec_")
    new = client.post("/v1/webhooks/signing-secret/rotate").json()["data"]["secret"]
    assert new.startswith("whsec_")
    assert new != secret
    assert client.get("/v1/webhooks/signing-secret").json() == {"data": {"secret": new}}


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The API as shipped: private addresses refused (the SSRF check does not depend on the
    database, so SQLite alone is enough)."""
    tmp: Path = tmp_path_factory.mktemp("strict")
    with database("sqlite", tmp) as url:
        server, process = start_server(
            "sqlite", url, tmp, worker=False, webhooks_allow_private="false"
        )
        try:
            yield server
        finally:
            process.stop()


REFUSED_URLS = [
    ("http://hooks.example.com/", "url must start with https://"),
    ("https://127.0.0.1/", "loopback"),
    ("https://localhost:8443/x", "loopback"),
    ("https://2130706433/", "loopback"),
    ("https://0x7f000001/", "loopback"),
    ("https://0177.0.0.1/", "loopback"),
    ("https://[::1]/", "loopback"),
    ("https://[::ffff:127.0.0.1]/", "loopback"),
    ("https://[::ffff:a9fe:a9fe]/", "cloud metadata"),
    ("https://169.254.169.254/latest/meta-data/", "cloud metadata"),
    ("https://169.254.10.1/", "link-local"),
    ("https://10.0.0.1/", "private"),
    ("https://172.16.5.4/", "private"),
    ("https://192.168.1.1/", "private"),
    ("https://100.64.0.1/", "carrier-grade NAT"),
    ("https://224.0.0.1/", "multicast"),
    ("https://240.0.0.1/", "reserved"),
    ("https://0.0.0.0/", "unspecified"),
    ("https://[fd00::1]/", "unique-local"),
    ("https://[fe80::1]/", "link-local"),
    ("https://[2002:7f00:1::1]/", "loopback"),
    ("https://[64:ff9b::7f00:1]/", "loopback"),
]


def test_private_urls_are_refused_at_registration(strict_server: LiveServer) -> None:
    client = strict_server.client(strict_server.new_key())
    for url, message in REFUSED_URLS:
        response = client.post("/v1/webhooks", json={"url": url, "events": ["run.failed"]})
        assert response.status_code == 400, url
        assert message in response.json()["error"], (url, response.json())
    assert client.get("/v1/webhooks").json() == {"data": []}


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/", "https://"),
        ("https://169.254.169.254/x", "cloud metadata"),
        ("https://10.0.0.1/", "private"),
    ],
)
def test_run_and_batch_webhook_urls_are_checked_too(
    strict_server: LiveServer, url: str, reason: str
) -> None:
    client = strict_server.client(strict_server.new_key())
    run = client.post("/v1/run", json={"task": "x", "webhook_url": url})
    batch = client.post(
        "/v1/batches",
        json={"agent_type": "center", "rows": [{"task": "x"}], "webhook_url": url},
    )
    for response in (run, batch):
        assert response.status_code == 400
        assert reason in response.json()["error"]
    fine = client.post(
        "/v1/run", json={"task": "x", "webhook_url": "https://your-app.com/webhooks/eclips"}
    )
    assert fine.status_code == 202
