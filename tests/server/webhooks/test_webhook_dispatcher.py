"""The outbox and the dispatcher against a real database (SQLite and PostgreSQL) and real
receivers on loopback."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from standardwebhooks import Webhook, WebhookVerificationError

from eclips.server.db.models import WebhookEndpoint
from eclips.server.db.types import utcnow
from eclips.server.webhooks import service
from eclips.server.webhooks.delivery import MAX_ATTEMPTS, WebhookDispatcher
from eclips.server.webhooks.outbox import EVENT_TYPES
from tests.server.webhooks import factories as f
from tests.server.webhooks.receiver import Answer, Receiver

pytestmark = pytest.mark.anyio


async def drain(dispatcher: WebhookDispatcher, *, until=None, timeout: float = 20.0) -> None:
    """Dispatch until nothing is due (or ``until()`` holds), waiting out short retries."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sent = await dispatcher.dispatch_once()
        if until is not None and await until():
            return
        if (
            until is None
            and sent == 0
            and not any(d.status == "pending" for d in await f.deliveries(dispatcher._sessions))
        ):
            return
        if sent == 0:
            await asyncio.sleep(0.02)
    raise AssertionError("deliveries did not settle")


async def test_record_event_writes_one_delivery_per_subscribed_endpoint(sessions) -> None:
    org, other = await f.new_org(sessions), await f.new_org(sessions)
    wants = await f.new_endpoint(sessions, org, "https://a.example.com/", events=["run.failed"])
    await f.new_endpoint(sessions, org, "https://b.example.com/", events=["run.completed"])
    await f.new_endpoint(sessions, org, "https://c.example.com/", is_active=False)
    await f.new_endpoint(sessions, other, "https://d.example.com/")

    event_id = await f.emit(
        sessions,
        org,
        "run.failed",
        extra_urls=("https://run.example.com/", "https://run.example.com/"),
    )
    rows = await f.deliveries(sessions)
    assert {(d.endpoint_id, d.url) for d in rows} == {
        (wants.id, "https://a.example.com/"),
        (None, "https://run.example.com/"),
    }
    assert {d.event_id for d in rows} == {event_id}
    assert all(d.status == "pending" and d.attempts == 0 for d in rows)


async def test_nobody_listening_writes_nothing(sessions) -> None:
    org = await f.new_org(sessions)
    assert await f.emit(sessions, org, "batch.completed") is None
    assert await f.deliveries(sessions) == []
    with pytest.raises(ValueError, match="unknown webhook event type"):
        await f.emit(sessions, org, "run.exploded")


async def test_each_event_type_is_delivered_and_verifies(sessions, receiver: Receiver) -> None:
    org = await f.new_org(sessions)
    endpoint = await f.new_endpoint(sessions, org, receiver.url)
    ids = {}
    for event_type in EVENT_TYPES:
        ids[event_type] = await f.emit(
            sessions, org, event_type, data={"id": "r1", "status": event_type.split(".")[1]}
        )
    dispatcher = WebhookDispatcher(sessions, f.settings())
    await drain(dispatcher)
    await dispatcher.aclose()

    got = {}
    for request in receiver.wait(len(EVENT_TYPES)):
        payload = Webhook(endpoint.secret).verify(request.body, request.headers)
        assert set(payload) == {"id", "type", "created_at", "data"}
        assert request.headers["webhook-id"] == payload["id"]
        assert request.headers["content-type"] == "application/json"
        assert request.headers["user-agent"].startswith("EClips-Webhooks/")
        got[payload["type"]] = payload
    assert set(got) == set(EVENT_TYPES)
    for event_type, payload in got.items():
        assert payload["id"] == str(ids[event_type])
        assert payload["data"] == {"id": "r1", "status": event_type.split(".")[1]}
        assert payload["created_at"].endswith("Z")
    assert {d.status for d in await f.deliveries(sessions)} == {"delivered"}
    recorded = await f.attempts(sessions)
    assert len(recorded) == len(EVENT_TYPES)
    assert all(a.status_code == 200 and a.error is None and a.latency_ms > 0 for a in recorded)


async def test_tampered_delivery_fails_verification(sessions, receiver: Receiver) -> None:
    org = await f.new_org(sessions)
    endpoint = await f.new_endpoint(sessions, org, receiver.url)
    await f.emit(sessions, org)
    dispatcher = WebhookDispatcher(sessions, f.settings())
    await drain(dispatcher)
    await dispatcher.aclose()
    (request,) = receiver.wait(1)
    Webhook(endpoint.secret).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(
            request.body.replace(b"completed", b"failed"), request.headers
        )


async def test_per_run_url_is_signed_with_the_org_secret(sessions, receiver: Receiver) -> None:
    org = await f.new_org(sessions)
    await f.emit(sessions, org, "run.triage_required", extra_urls=(receiver.url,))
    dispatcher = WebhookDispatcher(sessions, f.settings())
    await drain(dispatcher)
    await dispatcher.aclose()
    (request,) = receiver.wait(1)
    assert Webhook(org.signing_secret).verify(request.body, request.headers)["type"] == (
        "run.triage_required"
    )


async def test_retries_after_two_failures_with_same_id_and_new_timestamp(
    sessions, receiver: Receiver
) -> None:
    org = await f.new_org(sessions)
    endpoint = await f.new_endpoint(sessions, org, receiver.url)
    # Retry-After pushes each retry at least a second out, so timestamps must differ.
    receiver.answer(Answer(503, {"retry-after": "1"}), Answer(500, {"retry-after": "1"}))
    event_id = await f.emit(sessions, org)
    dispatcher = WebhookDispatcher(sessions, f.settings())

    assert await dispatcher.dispatch_once() == 1
    assert await dispatcher.dispatch_once() == 0  # Retry-After is honoured
    (delivery,) = await f.deliveries(sessions)
    assert delivery.status == "pending"
    assert delivery.next_attempt_at - utcnow() > timedelta(seconds=0.5)
    await drain(dispatcher)
    await dispatcher.aclose()

    requests = receiver.wait(3)
    assert [r.headers["webhook-id"] for r in requests] == [str(event_id)] * 3
    stamps = [int(r.headers["webhook-timestamp"]) for r in requests]
    assert stamps[0] < stamps[1] < stamps[2]
    for request in requests:
        Webhook(endpoint.secret).verify(request.body, request.headers)
    assert [(a.attempt, a.status_code) for a in await f.attempts(sessions)] == [
        (1, 503),
        (2, 500),
        (3, 200),
    ]
    (delivery,) = await f.deliveries(sessions)
    assert delivery.status == "delivered"
    assert delivery.attempts == 3
    assert (await f.endpoint(sessions, endpoint.id)).failing_since is None


async def test_redirect_is_a_failure_and_is_not_followed(sessions, receiver: Receiver) -> None:
    org = await f.new_org(sessions)
    await f.new_endpoint(sessions, org, receiver.url)
    with Receiver() as target:
        receiver.answer(Answer(307, {"location": target.url}))
        await f.emit(sessions, org)
        dispatcher = WebhookDispatcher(sessions, f.settings(webhook_retry_scale=100))
        assert await dispatcher.dispatch_once() == 1
        await dispatcher.aclose()
        assert target.received == []
    (attempt,) = await f.attempts(sessions)
    assert attempt.status_code == 307
    assert "redirects are not followed" in (attempt.error or "")
    (delivery,) = await f.deliveries(sessions)
    assert delivery.status == "pending"
    assert delivery.next_attempt_at > utcnow()


async def test_410_disables_the_endpoint_until_re_enabled(sessions, receiver: Receiver) -> None:
    org = await f.new_org(sessions)
    endpoint = await f.new_endpoint(sessions, org, receiver.url)
    receiver.answer(Answer(410))
    await f.emit(sessions, org)
    await f.emit(sessions, org, "run.failed")
    dispatcher = WebhookDispatcher(sessions, f.settings(webhook_concurrency=4))
    # One URL may hold a quarter of the pool: one attempt now, and it answers 410.
    assert await dispatcher.dispatch_once() == 1
    disabled = await f.endpoint(sessions, endpoint.id)
    assert not disabled.is_active
    assert disabled.disabled_reason == "The endpoint answered 410 Gone"
    await asyncio.sleep(0.05)
    assert await dispatcher.dispatch_once() == 0  # held while disabled, not dropped
    assert {d.status for d in await f.deliveries(sessions)} == {"pending"}
    # Events that happen while it is disabled are not queued for it.
    assert await f.emit(sessions, org) is None
    assert len(await f.deliveries(sessions)) == 2

    async with sessions.begin() as session:
        enabled = await service.enable_webhook(session, f.principal(org), endpoint.id)
    assert enabled.is_active
    assert enabled.disabled_reason is None
    await drain(dispatcher)
    await dispatcher.aclose()
    assert {d.status for d in await f.deliveries(sessions)} == {"delivered"}
    assert len(receiver.wait(3)) == 3  # the 410, then both held deliveries


async def test_410_on_a_per_run_url_ends_that_delivery(sessions, receiver: Receiver) -> None:
    org = await f.new_org(sessions)
    receiver.answer(Answer(410))
    await f.emit(sessions, org, extra_urls=(receiver.url,))
    dispatcher = WebhookDispatcher(sessions, f.settings())
    await drain(dispatcher)
    await dispatcher.aclose()
    (delivery,) = await f.deliveries(sessions)
    assert delivery.status == "failed"
    assert delivery.last_status_code == 410


async def test_spent_attempts_fail_the_delivery(sessions, receiver: Receiver) -> None:
    org = await f.new_org(sessions)
    await f.new_endpoint(sessions, org, receiver.url)
    receiver.default = Answer(500)
    await f.emit(sessions, org)
    dispatcher = WebhookDispatcher(sessions, f.settings(webhook_retry_scale=0.000001))
    await drain(dispatcher)
    await dispatcher.aclose()
    (delivery,) = await f.deliveries(sessions)
    assert delivery.status == "failed"
    assert delivery.attempts == MAX_ATTEMPTS == 8
    assert delivery.last_status_code == 500
    assert delivery.last_error == "HTTP 500"
    assert [a.attempt for a in await f.attempts(sessions)] == list(range(1, 9))


async def test_endpoint_failing_for_too_long_is_disabled(sessions, receiver: Receiver) -> None:
    org = await f.new_org(sessions)
    endpoint = await f.new_endpoint(sessions, org, receiver.url)
    async with sessions.begin() as session:
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint.id)
            .values(failing_since=utcnow() - timedelta(hours=121))
        )
    receiver.answer(Answer(502))
    await f.emit(sessions, org)
    dispatcher = WebhookDispatcher(sessions, f.settings())
    assert await dispatcher.dispatch_once() == 1
    await dispatcher.aclose()
    disabled = await f.endpoint(sessions, endpoint.id)
    assert not disabled.is_active
    assert disabled.disabled_reason == "Every delivery failed for 120 hours (last: HTTP 502)"


async def test_a_failure_starts_and_a_success_clears_the_failing_clock(
    sessions, receiver: Receiver
) -> None:
    org = await f.new_org(sessions)
    endpoint = await f.new_endpoint(sessions, org, receiver.url)
    receiver.answer(Answer(500))
    await f.emit(sessions, org)
    dispatcher = WebhookDispatcher(sessions, f.settings())
    await dispatcher.dispatch_once()
    assert (await f.endpoint(sessions, endpoint.id)).failing_since is not None
    await drain(dispatcher)
    await dispatcher.aclose()
    after = await f.endpoint(sessions, endpoint.id)
    assert after.failing_since is None
    assert after.is_active


async def test_a_crash_between_claim_and_finish_loses_nothing(sessions, receiver: Receiver) -> None:
    org = await f.new_org(sessions)
    await f.new_endpoint(sessions, org, receiver.url)
    event_id = await f.emit(sessions, org)

    crashed = WebhookDispatcher(sessions, f.settings(), lease_seconds=0.3)
    (job,) = await crashed._claim(10)  # claimed and committed, then the process "dies"
    survivor = WebhookDispatcher(sessions, f.settings(), lease_seconds=0.3)
    assert await survivor.dispatch_once() == 0  # the lease still holds
    await asyncio.sleep(0.4)
    assert await survivor.dispatch_once() == 1
    (request,) = receiver.wait(1)
    assert request.headers["webhook-id"] == str(event_id)
    (delivery,) = await f.deliveries(sessions)
    assert delivery.status == "delivered"
    assert delivery.attempts == 2

    # The dead dispatcher's late outcome is fenced off: it changes nothing.
    await crashed._finish(job, await crashed.send(job))
    (delivery,) = await f.deliveries(sessions)
    assert delivery.status == "delivered"
    assert delivery.attempts == 2
    await crashed.aclose()
    await survivor.aclose()


async def test_rotation_signs_with_old_and_new_secret(sessions, receiver: Receiver) -> None:
    org = await f.new_org(sessions)
    endpoint = await f.new_endpoint(sessions, org, receiver.url)
    async with sessions.begin() as session:
        rotated = await service.rotate_secret(session, f.principal(org), endpoint.id)
    assert rotated.secret != endpoint.secret
    await f.emit(sessions, org)
    dispatcher = WebhookDispatcher(sessions, f.settings())
    await drain(dispatcher)
    await dispatcher.aclose()
    (request,) = receiver.wait(1)
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(endpoint.secret).verify(request.body, request.headers)
    Webhook(rotated.secret).verify(request.body, request.headers)


async def test_private_address_is_refused_at_connect_time(sessions, receiver: Receiver) -> None:
    org = await f.new_org(sessions)
    # Inserted directly, so the registration check never ran.
    await f.new_endpoint(sessions, org, f"http://localhost:{receiver.port}/hook")
    await f.emit(sessions, org)
    dispatcher = WebhookDispatcher(sessions, f.settings(webhooks_allow_private=False))
    assert await dispatcher.dispatch_once() == 1
    await dispatcher.aclose()
    assert receiver.received == []
    (attempt,) = await f.attempts(sessions)
    assert attempt.status_code is None
    assert "loopback address" in (attempt.error or "")


async def test_https_receiver_through_ssl_cert_file(
    sessions, tls_receiver: Receiver, certificate: tuple[Path, Path], monkeypatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    org = await f.new_org(sessions)
    endpoint = await f.new_endpoint(sessions, org, tls_receiver.url)
    await f.emit(sessions, org)
    dispatcher = WebhookDispatcher(sessions, f.settings())
    await drain(dispatcher)
    await dispatcher.aclose()
    (request,) = tls_receiver.wait(1)
    Webhook(endpoint.secret).verify(request.body, request.headers)


async def test_timeout_is_recorded(sessions, receiver: Receiver) -> None:
    org = await f.new_org(sessions)
    await f.new_endpoint(sessions, org, receiver.url)
    receiver.answer(Answer(200, delay=1.5))
    await f.emit(sessions, org)
    dispatcher = WebhookDispatcher(sessions, f.settings(webhook_timeout_seconds=0.5))
    assert await dispatcher.dispatch_once() == 1
    await dispatcher.aclose()
    (attempt,) = await f.attempts(sessions)
    assert attempt.status_code is None
    assert attempt.error == "Timed out after 0.5 s"
    assert 400 < attempt.latency_ms < 1400


async def test_a_slow_endpoint_does_not_hold_up_others(sessions, receiver: Receiver) -> None:
    org = await f.new_org(sessions)
    with Receiver() as slow:
        slow.default = Answer(200, delay=1.5)
        await f.new_endpoint(sessions, org, slow.url, events=["run.completed"])
        for _ in range(6):
            await f.emit(sessions, org, "run.completed")
        await f.new_endpoint(sessions, org, receiver.url, events=["run.failed"])
        await f.emit(sessions, org, "run.failed")

        dispatcher = WebhookDispatcher(sessions, f.settings(webhook_concurrency=4))
        stop = asyncio.Event()
        task = asyncio.create_task(dispatcher.run(stop))
        started = time.monotonic()
        await asyncio.to_thread(receiver.wait, 1, 5.0)
        assert time.monotonic() - started < 1.2
        stop.set()
        await task
    assert len(slow.received) < 6  # still busy with the slow one when the fast one arrived


async def test_deleting_an_endpoint_cancels_its_pending_deliveries(sessions) -> None:
    org = await f.new_org(sessions)
    endpoint = await f.new_endpoint(sessions, org, "https://gone.example.com/")
    await f.emit(sessions, org)
    async with sessions.begin() as session:
        await service.delete_webhook(session, f.principal(org), endpoint.id)
    (delivery,) = await f.deliveries(sessions)
    assert delivery.status == "cancelled"
    async with sessions() as session:
        assert await service.list_webhooks(session, f.principal(org)) == []


async def test_attempts_are_listed_newest_first(sessions, receiver: Receiver) -> None:
    org = await f.new_org(sessions)
    endpoint = await f.new_endpoint(sessions, org, receiver.url)
    receiver.answer(Answer(500))
    event_id = await f.emit(sessions, org, "run.cancelled")
    dispatcher = WebhookDispatcher(sessions, f.settings())
    await drain(dispatcher)
    await dispatcher.aclose()
    other = await f.new_org(sessions)
    async with sessions() as session:
        listed = await service.list_attempts(
            session, f.principal(org), endpoint.id, limit=20, offset=0
        )
        with pytest.raises(Exception, match="Webhook not found"):
            await service.list_attempts(
                session, f.principal(other), endpoint.id, limit=20, offset=0
            )
    assert listed.total == 2
    assert [(a.attempt, a.status_code) for a in listed.data] == [(2, 200), (1, 500)]
    assert all(a.event_id == event_id and a.event_type == "run.cancelled" for a in listed.data)


async def test_run_delivers_a_burst_to_several_receivers(sessions) -> None:
    org = await f.new_org(sessions)
    with Receiver() as a, Receiver() as b, Receiver() as c:
        hooks = [await f.new_endpoint(sessions, org, r.url) for r in (a, b, c)]
        b.answer(*[Answer(500)] * 3)  # some failures mixed in, retried within the burst
        for _ in range(10):
            await f.emit(sessions, org)
        dispatcher = WebhookDispatcher(sessions, f.settings(webhook_concurrency=8))
        stop = asyncio.Event()
        task = asyncio.create_task(dispatcher.run(stop))
        for receiver in (a, c):
            await asyncio.to_thread(receiver.wait, 10)
        await asyncio.to_thread(b.wait, 13)

        async def settled() -> bool:
            return all(d.status == "delivered" for d in await f.deliveries(sessions))

        deadline = time.monotonic() + 20
        while not await settled():
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        stop.set()
        await task
    for receiver, hook in zip((a, b, c), hooks, strict=True):
        ids = set()
        for request in receiver.received:
            Webhook(hook.secret).verify(request.body, request.headers)
            ids.add(request.headers["webhook-id"])
        assert len(ids) == 10
    recorded = await f.attempts(sessions)
    assert len(recorded) == 33
    assert sum(1 for a in recorded if a.status_code == 500) == 3
