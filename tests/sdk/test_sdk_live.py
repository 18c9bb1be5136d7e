"""The sync SDK against a real server (``eclips serve`` on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator

import pytest

import eclips
from eclips import EClipsClient
from eclips.webhooks import verify
from tests.server.webhooks.receiver import Receiver
from tests.support.server import LiveServer

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def client(live_server: LiveServer) -> Iterator[EClipsClient]:
    with EClipsClient(api_key=live_server.new_key(), base_url=live_server.base_url) as c:
        yield c


def spend(live_server: LiveServer, org: str, credits: int) -> None:
    from tests.server.test_usage import _spend

    asyncio.run(_spend(live_server.database_url, org, credits))


def test_health(live_server: LiveServer) -> None:
    with EClipsClient(base_url=live_server.base_url) as anonymous:
        health = anonymous.health()
    assert (health.status, health.version) == ("ok", "1.0.0")
    assert ISO.match(health.timestamp or "")


def test_run_wait_get_and_list(client: EClipsClient) -> None:
    accepted = client.run(
        "Get 3 vendor quotes for 500 laptops",
        agent_type="procurement_specialist",
        data={"category": "hardware"},
        priority="normal",
    )
    assert (accepted.status, accepted.agent_type) == ("queued", "procurement_specialist")
    assert accepted.estimated_completion == "async"
    uuid.UUID(accepted.run_id, version=4)

    run = client.wait_for_run(accepted.run_id, poll_interval=0.2, timeout=60)
    assert run.status == "completed"
    assert run.output is not None and len(run.output["vendors"]) == 3
    assert 0 <= (run.confidence_score or 0) <= 1

    detail = client.get_run(accepted.run_id)
    assert detail.run.id == accepted.run_id
    assert detail.run.data == {"category": "hardware"}
    assert detail.triage_item is None

    page = client.list_runs(status="completed")
    assert page.total == 1
    assert [r.id for r in page] == [accepted.run_id]
    assert ISO.match(page.data[0].created_at or "")


def test_idempotency_key_creates_once(client: EClipsClient) -> None:
    first = client.run("once", agent_type="test_noop", idempotency_key="order-123")
    again = client.run("once", agent_type="test_noop", idempotency_key="order-123")
    assert again.run_id == first.run_id
    job = client.create_batch("test_noop", [{"task": "x"}], idempotency_key="june")
    assert client.create_batch("test_noop", [{"task": "x"}], idempotency_key="june").id == job.id
    assert client.list_runs().total == 2
    with pytest.raises(eclips.UnprocessableEntityError):
        client.run("something else", agent_type="test_noop", idempotency_key="order-123")


def test_pages_walk_every_run(client: EClipsClient) -> None:
    ids = {client.run(f"task {i}", agent_type="test_noop").run_id for i in range(5)}
    page = client.list_runs(limit=2)
    assert (page.total, page.limit, page.offset, len(page.data)) == (5, 2, 0, 2)
    assert {r.id for r in page} == ids
    assert [len(p.data) for p in page.iter_pages()] == [2, 2, 1]
    assert page.to_dict()["total"] == 5


def test_stream_run_until_terminal(client: EClipsClient) -> None:
    run_id = client.run("nap", agent_type="test_sleep", data={"seconds": 1}).run_id
    with client.stream_run(run_id) as stream:
        events = list(stream)
    assert events[-1].status == "completed"
    assert events[-1].result == {"slept": True, "task": "nap"}
    assert events[-1].confidence == 0.95
    assert {e.status for e in events} <= {"queued", "running", "completed"}


def test_cancel_run(client: EClipsClient) -> None:
    run_id = client.run("long nap", agent_type="test_sleep", data={"seconds": 30}).run_id
    assert client.cancel_run(run_id).cancelled is True
    assert client.wait_for_run(run_id, poll_interval=0.2, timeout=30).status == "cancelled"
    with pytest.raises(eclips.BadRequestError, match="cannot be cancelled"):
        client.cancel_run(run_id)


def test_failed_run(client: EClipsClient) -> None:
    run_id = client.run("x", agent_type="test_sleep", data={"seconds": 0, "fail": "boom"}).run_id
    run = client.wait_for_run(run_id, poll_interval=0.2, timeout=30)
    assert (run.status, run.error_message) == ("failed", "boom")


def test_triage_approve_and_reject(client: EClipsClient) -> None:
    asked = {"seconds": 0, "triage": True}
    first = client.run("a", agent_type="test_sleep", data=asked).run_id
    second = client.run("b", agent_type="test_sleep", data=asked).run_id
    for run_id in (first, second):
        assert client.wait_for_run(run_id, poll_interval=0.2, timeout=30).status == (
            "awaiting_triage"
        )
    detail = client.get_run(first)
    assert detail.run.requires_triage is True
    assert detail.triage_item is not None and detail.triage_item.triage_reason == "Asked for it"

    items = {item.run_id: item for item in client.list_triage()}
    assert set(items) == {first, second}
    assert items[first].agent_runs is not None and items[first].agent_runs.id == first

    approved = client.approve_triage(items[first].id, resolution_note="Verified against PO")
    assert (approved.id, approved.status) == (items[first].id, "approved")
    assert ISO.match(approved.resolved_at or "")
    assert client.get_run(first).run.status == "completed"

    rejected = client.reject_triage(items[second].id, reason="Amount exceeds approved budget")
    assert rejected.status == "rejected"
    assert client.get_run(second).run.status == "cancelled"

    with pytest.raises(eclips.ConflictError, match="already approved") as info:
        client.approve_triage(items[first].id)
    assert info.value.status_code == 409
    assert client.list_triage().total == 0


def test_webhooks_lifecycle_and_verified_delivery(client: EClipsClient) -> None:
    with Receiver() as receiver:
        created = client.create_webhook(url=receiver.url, events=["run.completed"])
        assert created.secret is not None and created.secret.startswith("whsec_")
        assert created.is_active is True
        run_id = client.run("hello", agent_type="test_noop").run_id
        (request,) = receiver.wait(1, timeout=30)
    event = verify(created.secret, request.headers, request.body)
    assert (event["type"], event["data"]["id"]) == ("run.completed", run_id)

    [listed] = client.list_webhooks()
    assert (listed.id, listed.secret) == (created.id, None)
    deliveries = client.list_webhook_deliveries(created.id)
    assert deliveries.total == 1
    assert (deliveries.data[0].event_type, deliveries.data[0].status_code) == (
        "run.completed",
        200,
    )
    rotated = client.rotate_webhook_secret(created.id)
    assert rotated.id == created.id and rotated.secret != created.secret
    assert client.enable_webhook(created.id).is_active is True
    assert client.delete_webhook(created.id).success is True
    assert list(client.list_webhooks()) == []
    with pytest.raises(eclips.NotFoundError):
        client.delete_webhook(created.id)


def test_signing_secret_signs_per_run_webhook_urls(client: EClipsClient) -> None:
    secret = client.get_signing_secret().secret
    rotated = client.rotate_signing_secret().secret
    assert rotated != secret and rotated.startswith("whsec_")
    with Receiver() as receiver:
        run_id = client.run("x", agent_type="test_noop", webhook_url=receiver.url).run_id
        (request,) = receiver.wait(1, timeout=30)
    assert verify(rotated, request.headers, request.body)["data"]["id"] == run_id


def test_batches(client: EClipsClient) -> None:
    rows = [
        {"task": "ok 0", "data": {"seconds": 0}, "custom_id": "c0"},
        {"task": "bad 1", "data": {"seconds": 0, "fail": "boom"}, "custom_id": "c1"},
        {"task": "ok 2", "data": {"seconds": 0}},
    ]
    job = client.create_batch("test_sleep", rows, name="June invoices")
    assert (job.status, job.total_rows, job.name, job.agent_type) == (
        "pending",
        3,
        "June invoices",
        "test_sleep",
    )
    seen: list[int] = []
    done = client.wait_for_batch(
        job.id, poll_interval=0.2, timeout=60, on_progress=lambda j: seen.append(j.finished_rows)
    )
    assert (done.status, done.completed_rows, done.failed_rows, done.total_rows) == (
        "completed",
        2,
        1,
        3,
    )
    assert seen[-1] == 3
    assert [(r.row_index, r.custom_id, r.status) for r in done.rows] == [
        (0, "c0", "completed"),
        (1, "c1", "failed"),
        (2, None, "completed"),
    ]
    assert done.rows[1].error_message == "boom"
    assert done.rows[0].result == {"slept": True, "task": "ok 0"}

    results = list(client.get_batch_results(job.id))
    assert [r.model_dump() for r in results] == [r.model_dump() for r in done.rows]

    [listed] = client.list_batches(status="completed")
    assert listed.id == job.id
    assert list(client.list_batches(status="running")) == []

    retried = client.retry_batch(job.id)
    assert retried.id == job.id and retried.failed_rows == 0
    again = client.wait_for_batch(job.id, poll_interval=0.2, timeout=60)
    assert again.failed_rows == 1  # it fails again, as told

    with pytest.raises(eclips.BadRequestError):
        client.cancel_batch(job.id)


def test_cancel_batch(client: EClipsClient) -> None:
    rows = [{"task": f"nap {i}", "data": {"seconds": 30}} for i in range(3)]
    job = client.create_batch("test_sleep", rows)
    assert client.cancel_batch(job.id).cancelled is True
    assert client.wait_for_batch(job.id, poll_interval=0.2, timeout=30).status == "cancelled"


def test_usage(live_server: LiveServer) -> None:
    with EClipsClient(api_key=live_server.new_key(), base_url=live_server.base_url) as client:
        before = client.get_usage()
        assert (before.plan, before.included_credits, before.credits_used) == ("team", 50000, 0)
        assert before.unlimited is False
        run_id = client.run("x", agent_type="test_noop").run_id
        client.wait_for_run(run_id, poll_interval=0.2, timeout=30)
        after = client.get_usage()
        assert (after.credits_used, after.credits_remaining) == (1, 49999)
        history = client.get_usage_history()
        assert [(e.kind, e.credits, e.run_id) for e in history.data] == [("charge", 1, run_id)]
        members = client.get_usage_members()
        assert members.period == after.period
        assert sum(m.runs for m in members.data) == 1
    with EClipsClient(
        api_key=live_server.new_key(plan="unlimited"), base_url=live_server.base_url
    ) as unlimited:
        usage = unlimited.get_usage()
    assert (usage.included_credits, usage.unlimited, usage.credits_remaining) == (-1, True, None)


def test_agents_and_settings(client: EClipsClient) -> None:
    agents = {a.agent_type: a for a in client.list_agents()}
    assert {"center", "test_noop", "test_sleep"} <= set(agents)
    assert agents["center"].credits_per_run == 1
    assert agents["center"].settings_schema is not None
    settings = client.get_agent_settings("test_noop")
    assert settings.agent_type == "test_noop"
    changed = client.update_agent_settings(
        "test_noop", {**settings.settings, "confidence_threshold": 0.8}
    )
    assert changed.settings["confidence_threshold"] == 0.8
    assert client.get_agent_settings("test_noop").settings["confidence_threshold"] == 0.8
    with pytest.raises(eclips.BadRequestError):
        client.update_agent_settings("test_noop", {"confidence_threshold": 7})


# -- every error class, from the real server ------------------------------------------------


def test_authentication_error(live_server: LiveServer) -> None:
    with EClipsClient(api_key="eck_live_nope", base_url=live_server.base_url) as client:
        with pytest.raises(eclips.AuthenticationError) as info:
            client.list_runs()
    assert info.value.status_code == 401
    with EClipsClient(base_url=live_server.base_url) as keyless:
        with pytest.raises(eclips.AuthenticationError, match="ECLIPS_API_KEY"):
            keyless.get_usage()


def test_permission_denied_error(live_server: LiveServer) -> None:
    key = live_server.new_key(["agents:read"])
    with EClipsClient(api_key=key, base_url=live_server.base_url) as client:
        client.list_runs()
        with pytest.raises(eclips.PermissionDeniedError) as info:
            client.run("x")
    assert (info.value.status_code, info.value.message) == (403, "Insufficient scope")


def test_not_found_error(client: EClipsClient) -> None:
    missing = str(uuid.uuid4())
    for call in (client.get_run, client.get_batch, client.cancel_run, client.approve_triage):
        with pytest.raises(eclips.NotFoundError) as info:
            call(missing)
        assert info.value.status_code == 404


def test_another_orgs_objects_are_not_found(live_server: LiveServer, client: EClipsClient) -> None:
    run_id = client.run("mine", agent_type="test_noop").run_id
    with EClipsClient(api_key=live_server.new_key(), base_url=live_server.base_url) as other:
        with pytest.raises(eclips.NotFoundError):
            other.get_run(run_id)


def test_bad_request_errors(client: EClipsClient) -> None:
    with pytest.raises(eclips.BadRequestError, match="task") as info:
        client.run("")
    assert info.value.status_code == 400
    with pytest.raises(eclips.BadRequestError, match="Unknown agent_type"):
        client.run("x", agent_type="nobody")
    with pytest.raises(eclips.BadRequestError) as too_many:
        client.create_batch("test_noop", [{"task": "x"}] * 501)
    assert too_many.value.message == "Maximum 500 rows per batch"
    with pytest.raises(eclips.BadRequestError, match="limit"):
        client.list_runs(limit=101)
    with pytest.raises(eclips.BadRequestError, match="https"):
        client.create_webhook(url="ftp://example.com/x", events=["run.completed"])


def test_payment_required_error(live_server: LiveServer) -> None:
    org = live_server.new_org()
    with EClipsClient(api_key=live_server.new_key(org=org), base_url=live_server.base_url) as c:
        spend(live_server, org, 50_000)
        with pytest.raises(eclips.PaymentRequiredError, match="Insufficient credits") as info:
            c.run("x", agent_type="test_noop")
        assert info.value.status_code == 402
        with pytest.raises(eclips.PaymentRequiredError):
            c.create_batch("test_noop", [{"task": "x"}])


def test_retry_run(client: EClipsClient) -> None:
    failed = client.run("x", agent_type="test_sleep", data={"seconds": 0, "fail": "boom"}).run_id
    assert client.wait_for_run(failed, poll_interval=0.2, timeout=30).status == "failed"
    retried = client.retry_run(failed)
    assert retried.status == "queued"
    assert retried.run_id != failed
    assert client.get_run(retried.run_id).run.to_dict()["retry_of"] == failed
