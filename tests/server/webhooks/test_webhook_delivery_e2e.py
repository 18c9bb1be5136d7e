"""Deliveries end to end: a real server and worker, real receivers on loopback, every
delivery verified with the ``standardwebhooks`` package."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from tests.server.test_runs import finished
from tests.server.webhooks.receiver import Answer, Receiver
from tests.support.server import LiveServer, database, free_port, start_server, wait_for


def register(client, url: str, events: list[str]) -> dict:
    response = client.post("/v1/webhooks", json={"url": url, "events": events})
    assert response.status_code == 201, response.text
    return response.json()["data"]


def run(client, agent_type: str = "test_noop", **extra) -> str:
    response = client.post("/v1/run", json={"agent_type": agent_type, "task": "t", **extra})
    assert response.status_code == 202, response.text
    return response.json()["run_id"]


def test_each_event_type_is_delivered_and_verifies(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    with Receiver() as runs, Receiver() as batches:
        hook = register(
            client,
            runs.url,
            ["run.completed", "run.failed", "run.triage_required", "run.cancelled"],
        )
        batch_hook = register(client, batches.url, ["batch.completed"])

        completed = run(client)
        failed = run(client, "test_sleep", data={"seconds": 0, "fail": "boom"})
        triaged = run(client, "test_sleep", data={"seconds": 0, "triage": True})
        cancelled = run(client, "test_sleep", data={"seconds": 30})
        finished(client, cancelled, {"running"})
        assert client.post(f"/v1/runs/{cancelled}/cancel").status_code == 200
        job = client.post(
            "/v1/batches", json={"agent_type": "test_noop", "rows": [{"task": "a"}, {"task": "b"}]}
        ).json()["job"]

        # Batch rows are runs: the run endpoint also hears of the two rows completing.
        received = runs.wait(6, timeout=30)
        (batch_request,) = batches.wait(1, timeout=30)

    events = {}
    for request in received:
        payload = Webhook(hook["secret"]).verify(request.body, request.headers)
        assert request.headers["webhook-id"] == payload["id"]
        assert set(payload) == {"id", "type", "created_at", "data"}
        events[payload["data"]["id"]] = (payload["type"], payload["data"])
    assert events[completed][0] == "run.completed"
    assert events[completed][1]["status"] == "completed"
    assert events[completed][1]["output"] == {"echo": "t"}
    assert events[failed][0] == "run.failed"
    assert events[failed][1]["status"] == "failed"
    assert events[triaged][0] == "run.triage_required"
    assert events[triaged][1]["status"] == "awaiting_triage"
    assert events[triaged][1]["triage_reason"] == "Asked for it"
    assert events[triaged][1]["triage_item_id"]
    assert events[cancelled][0] == "run.cancelled"
    assert events[cancelled][1]["status"] == "cancelled"
    rows = [data for kind, data in events.values() if data.get("batch_id") == job["id"]]
    assert [kind for kind, data in events.values() if data.get("batch_id")] == ["run.completed"] * 2
    assert sorted(row["row_index"] for row in rows) == [0, 1]

    batch_event = Webhook(batch_hook["secret"]).verify(batch_request.body, batch_request.headers)
    assert batch_event["type"] == "batch.completed"
    assert batch_event["data"]["id"] == job["id"]
    assert batch_event["data"]["status"] == "completed"
    assert batch_event["data"]["completed_rows"] == 2

    with pytest.raises(WebhookVerificationError):
        Webhook(hook["secret"]).verify(received[0].body + b" ", received[0].headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(batch_hook["secret"]).verify(received[0].body, received[0].headers)

    attempts = client.get(f"/v1/webhooks/{hook['id']}/deliveries").json()
    assert attempts["total"] == 6
    assert {a["status_code"] for a in attempts["data"]} == {200}
    assert {a["event_type"] for a in attempts["data"]} == {
        "run.completed",
        "run.failed",
        "run.triage_required",
        "run.cancelled",
    }


def test_per_run_webhook_url_is_signed_with_the_org_signing_secret(
    live_server: LiveServer,
) -> None:
    client = live_server.client(live_server.new_key())
    secret = client.get("/v1/webhooks/signing-secret").json()["data"]["secret"]
    with Receiver() as receiver:
        run_id = run(client, webhook_url=receiver.url)
        (request,) = receiver.wait(1, timeout=30)
    payload = Webhook(secret).verify(request.body, request.headers)
    assert payload["type"] == "run.completed"
    assert payload["data"]["id"] == run_id


def test_retry_after_two_failures_keeps_the_id_and_renews_the_timestamp(
    live_server: LiveServer,
) -> None:
    client = live_server.client(live_server.new_key())
    with Receiver() as receiver:
        # Retry-After keeps the retries a second apart, so the timestamps must differ.
        receiver.answer(Answer(500, {"retry-after": "1"}), Answer(503, {"retry-after": "1"}))
        hook = register(client, receiver.url, ["run.completed"])
        run(client)
        requests = receiver.wait(3, timeout=30)
    assert len({r.headers["webhook-id"] for r in requests}) == 1
    stamps = [int(r.headers["webhook-timestamp"]) for r in requests]
    assert stamps[0] < stamps[1] < stamps[2]
    for request in requests:
        Webhook(hook["secret"]).verify(request.body, request.headers)

    def three_attempts():
        data = client.get(f"/v1/webhooks/{hook['id']}/deliveries").json()["data"]
        return data if len(data) == 3 else None

    attempts = wait_for(three_attempts)
    assert [(a["attempt"], a["status_code"]) for a in attempts] == [(3, 200), (2, 503), (1, 500)]
    assert attempts[2]["error"] == "HTTP 500"


def test_redirect_is_not_followed(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    with Receiver() as receiver, Receiver() as target:
        receiver.default = Answer(302, {"location": target.url})
        hook = register(client, receiver.url, ["run.completed"])
        run(client)
        receiver.wait(2, timeout=30)  # retried, never redirected
        assert target.received == []
    attempts = client.get(f"/v1/webhooks/{hook['id']}/deliveries").json()["data"]
    assert attempts[-1]["status_code"] == 302
    assert "redirects are not followed" in attempts[-1]["error"]


def test_410_disables_the_endpoint_and_enable_brings_it_back(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    with Receiver() as receiver:
        receiver.answer(Answer(410))
        hook = register(client, receiver.url, ["run.completed"])
        run(client)
        receiver.wait(1, timeout=30)

        def disabled():
            (webhook,) = client.get("/v1/webhooks").json()["data"]
            return webhook if not webhook["is_active"] else None

        webhook = wait_for(disabled)
        assert webhook["disabled_reason"] == "The endpoint answered 410 Gone"
        enabled = client.post(f"/v1/webhooks/{hook['id']}/enable").json()["data"]
        assert enabled["is_active"] is True
        assert enabled["disabled_reason"] is None
        # The delivery held while the endpoint was disabled goes out now.
        second = receiver.wait(2, timeout=30)[1]
    Webhook(hook["secret"]).verify(second.body, second.headers)


@pytest.fixture(scope="module")
def tls_server(
    certificate: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server whose worker trusts the test certificate through SSL_CERT_FILE (TLS does
    not depend on the database, so SQLite alone is enough)."""
    tmp: Path = tmp_path_factory.mktemp("tls-server")
    saved = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = str(certificate[0])
    try:
        with database("sqlite", tmp) as url:
            server, process = start_server("sqlite", url, tmp)
            try:
                yield server
            finally:
                process.stop()
    finally:
        if saved is None:
            os.environ.pop("SSL_CERT_FILE", None)
        else:
            os.environ["SSL_CERT_FILE"] = saved


def test_https_receiver_with_a_self_signed_certificate(
    tls_server: LiveServer, tls_receiver: Receiver
) -> None:
    client = tls_server.client(tls_server.new_key())
    assert tls_receiver.url.startswith("https://localhost:")
    hook = register(client, tls_receiver.url, ["run.completed"])
    run_id = run(client)
    (request,) = tls_receiver.wait(1, timeout=30)
    payload = Webhook(hook["secret"]).verify(request.body, request.headers)
    assert payload["data"]["id"] == run_id


@pytest.fixture(scope="module")
def api_only(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The API with no embedded worker; the test starts and kills worker processes."""
    tmp: Path = tmp_path_factory.mktemp("webhooks-api-only")
    with database(backend, tmp) as url:
        server, process = start_server(backend, url, tmp, worker=False)
        try:
            yield server
        finally:
            process.stop()
            for extra in server.processes:
                extra.stop()


def test_receiver_down_and_worker_killed_still_gets_every_event(api_only: LiveServer) -> None:
    client = api_only.client(api_only.new_key())
    port = free_port()
    hook = register(client, f"http://127.0.0.1:{port}/hook", ["run.completed"])
    doomed = api_only.worker()
    run_ids = {run(client) for _ in range(5)}
    for run_id in run_ids:
        finished(client, run_id, {"completed"})

    def failed_attempts():
        data = client.get(f"/v1/webhooks/{hook['id']}/deliveries?limit=100").json()["data"]
        return len({a["event_id"] for a in data}) == 5

    wait_for(failed_attempts)  # every event tried at least once while the receiver was down
    doomed.signal(signal.SIGKILL)
    doomed.wait()

    with Receiver(port=port) as receiver:
        survivor = api_only.worker()
        try:
            wait_for(lambda: len({r.headers["webhook-id"] for r in receiver.received}) >= 5, 60)
        finally:
            survivor.stop()
    delivered = {}
    for request in receiver.received:
        payload = Webhook(hook["secret"]).verify(request.body, request.headers)
        delivered[request.headers["webhook-id"]] = payload["data"]["id"]
    assert set(delivered.values()) == run_ids
