"""Every SDK method sends the manual's request and reads the manual's response.

Runs against a scripted local HTTP server, for the sync and the async client alike.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import BaseModel

from eclips import AsyncEClipsClient, EClipsClient, NotFoundError
from tests.sdk import manual_payloads as m
from tests.sdk.fake_server import FakeServer, Reply

KEY = "eck_live_test"


class InvoiceRow(BaseModel):
    task: str
    data: dict[str, Any] | None = None
    custom_id: str | None = None


@dataclass
class Case:
    name: str
    call: Callable[[Any], Any]
    method: str
    path: str
    reply: Any
    pick: Callable[[Any], Any]
    expected: Any
    status: int = 200
    body: Any = None
    query: dict[str, list[str]] = field(default_factory=dict)


CASES = [
    Case(
        "health",
        lambda c: c.health(),
        "GET",
        "/v1/health",
        m.HEALTH,
        lambda r: (r.status, r.version),
        ("ok", "1.0.0"),
    ),
    Case(
        "run",
        lambda c: c.run(
            "Get 3 vendor quotes for 500 laptops",
            agent_type="procurement_specialist",
            data={"category": "hardware"},
            priority="normal",
            webhook_url="https://your-app.com/webhooks/eclips",
        ),
        "POST",
        "/v1/run",
        m.RUN_ACCEPTED,
        lambda r: (r.run_id, r.id, r.status),
        (m.RUN_ID, m.RUN_ID, "queued"),
        status=202,
        body={
            "task": "Get 3 vendor quotes for 500 laptops",
            "agent_type": "procurement_specialist",
            "data": {"category": "hardware"},
            "priority": "normal",
            "webhook_url": "https://your-app.com/webhooks/eclips",
        },
    ),
    Case(
        "run_defaults",
        lambda c: c.run("Do it"),
        "POST",
        "/v1/run",
        m.RUN_ACCEPTED,
        lambda r: r.agent_type,
        "procurement_specialist",
        status=202,
        body={"task": "Do it", "agent_type": "center", "priority": "normal"},
    ),
    Case(
        "get_run",
        lambda c: c.get_run(m.RUN_ID),
        "GET",
        f"/v1/runs/{m.RUN_ID}",
        m.RUN_WITH_TRIAGE,
        lambda r: (r.run.output["recommended"], r.triage_item),
        ("Dell", None),
    ),
    Case(
        "list_runs",
        lambda c: c.list_runs(status="completed", limit=5, offset=10),
        "GET",
        "/v1/runs",
        {**m.RUN_LIST, "limit": 5, "offset": 10, "total": 11},
        lambda p: (p.limit, p.offset, p.total, len(p.data)),
        (5, 10, 11, 1),
        query={"status": ["completed"], "limit": ["5"], "offset": ["10"]},
    ),
    Case(
        "list_runs_defaults",
        lambda c: c.list_runs(),
        "GET",
        "/v1/runs",
        m.RUN_LIST,
        lambda p: (p.total, [run.id for run in p.data], p.data[0].confidence_score),
        (1, [m.RUN_ID], 0.94),
        query={"limit": ["20"], "offset": ["0"]},
    ),
    Case(
        "cancel_run",
        lambda c: c.cancel_run(m.RUN_ID),
        "POST",
        f"/v1/runs/{m.RUN_ID}/cancel",
        {"cancelled": True},
        lambda r: r.cancelled,
        True,
    ),
    Case(
        "list_triage",
        lambda c: c.list_triage(limit=20, offset=0),
        "GET",
        "/v1/triage",
        m.TRIAGE_LIST,
        lambda p: (p.data[0].triage_reason, p.data[0].agent_runs.confidence_score),
        ("Amount above auto-approval threshold", 0.71),
        query={"limit": ["20"], "offset": ["0"]},
    ),
    Case(
        "approve_triage",
        lambda c: c.approve_triage(m.TRIAGE_ID, resolution_note="Verified against PO"),
        "POST",
        f"/v1/triage/{m.TRIAGE_ID}/approve",
        m.RESOLUTION,
        lambda r: (r.id, r.status, r.resolved_at),
        (m.TRIAGE_ID, "approved", "2026-06-06T09:05:00.000Z"),
        body={"resolution_note": "Verified against PO"},
    ),
    Case(
        "approve_triage_edited_output",
        lambda c: c.approve_triage(m.TRIAGE_ID, output={"approved": True}),
        "POST",
        f"/v1/triage/{m.TRIAGE_ID}/approve",
        m.RESOLUTION,
        lambda r: r.status,
        "approved",
        body={"output": {"approved": True}},
    ),
    Case(
        "reject_triage",
        lambda c: c.reject_triage(m.TRIAGE_ID, reason="Amount exceeds approved budget"),
        "POST",
        f"/v1/triage/{m.TRIAGE_ID}/reject",
        {"data": {**m.RESOLUTION["data"], "status": "rejected"}},
        lambda r: r.status,
        "rejected",
        body={"reason": "Amount exceeds approved budget"},
    ),
    Case(
        "create_webhook",
        lambda c: c.create_webhook(
            url="https://your-app.com/webhooks/eclips",
            events=("run.completed", "run.failed", "run.triage_required"),
        ),
        "POST",
        "/v1/webhooks",
        m.WEBHOOK_CREATED,
        lambda r: (r.id, r.secret, r.is_active),
        (m.WEBHOOK_ID, "whsec_2f4a", True),
        status=201,
        body={
            "url": "https://your-app.com/webhooks/eclips",
            "events": ["run.completed", "run.failed", "run.triage_required"],
        },
    ),
    Case(
        "list_webhooks",
        lambda c: c.list_webhooks(),
        "GET",
        "/v1/webhooks",
        {"data": [{k: v for k, v in m.WEBHOOK_CREATED["data"].items() if k != "secret"}]},
        lambda p: (p.data[0].secret, p.data[0].events[0], p.has_next_page()),
        (None, "run.completed", False),
    ),
    Case(
        "delete_webhook",
        lambda c: c.delete_webhook(m.WEBHOOK_ID),
        "DELETE",
        f"/v1/webhooks/{m.WEBHOOK_ID}",
        {"success": True},
        lambda r: r.success,
        True,
    ),
    Case(
        "list_webhook_deliveries",
        lambda c: c.list_webhook_deliveries(m.WEBHOOK_ID),
        "GET",
        f"/v1/webhooks/{m.WEBHOOK_ID}/deliveries",
        {
            "data": [
                {
                    "id": "d1",
                    "event_id": "e1",
                    "event_type": "run.completed",
                    "attempt": 1,
                    "status_code": 500,
                    "latency_ms": 12.5,
                    "error": "HTTP 500",
                    "created_at": "2026-06-06T09:00:00.000Z",
                }
            ]
        },
        lambda p: (p.data[0].event_type, p.data[0].status_code, p.data[0].latency_ms),
        ("run.completed", 500, 12.5),
        query={"limit": ["20"], "offset": ["0"]},
    ),
    Case(
        "enable_webhook",
        lambda c: c.enable_webhook(m.WEBHOOK_ID),
        "POST",
        f"/v1/webhooks/{m.WEBHOOK_ID}/enable",
        {"data": {k: v for k, v in m.WEBHOOK_CREATED["data"].items() if k != "secret"}},
        lambda r: (r.id, r.is_active),
        (m.WEBHOOK_ID, True),
    ),
    Case(
        "get_signing_secret",
        lambda c: c.get_signing_secret(),
        "GET",
        "/v1/webhooks/signing-secret",
        {"data": {"secret": "whsec_org"}},
        lambda r: r.secret,
        "whsec_org",
    ),
    Case(
        "rotate_signing_secret",
        lambda c: c.rotate_signing_secret(),
        "POST",
        "/v1/webhooks/signing-secret/rotate",
        {"data": {"secret": "whsec_org2"}},
        lambda r: r.secret,
        "whsec_org2",
    ),
    Case(
        "rotate_webhook_secret",
        lambda c: c.rotate_webhook_secret(m.WEBHOOK_ID),
        "POST",
        f"/v1/webhooks/{m.WEBHOOK_ID}/rotate-secret",
        {"data": {"id": m.WEBHOOK_ID, "secret": "whsec_new"}},
        lambda r: r.secret,
        "whsec_new",
    ),
    Case(
        "create_batch",
        lambda c: c.create_batch(
            "ap_specialist",
            [
                {"task": "Process invoice INV-1001"},
                InvoiceRow(task="Process invoice INV-1002", data={"amount": 12000}, custom_id="2"),
            ],
            name="June invoices",
            webhook_url="https://your-app.com/hook",
        ),
        "POST",
        "/v1/batches",
        m.JOB_CREATED,
        lambda r: (r.id, r.status, r.total_rows),
        (m.BATCH_ID, "pending", 2),
        status=201,
        body={
            "agent_type": "ap_specialist",
            "rows": [
                {"task": "Process invoice INV-1001"},
                {"task": "Process invoice INV-1002", "data": {"amount": 12000}, "custom_id": "2"},
            ],
            "name": "June invoices",
            "webhook_url": "https://your-app.com/hook",
        },
    ),
    Case(
        "get_batch",
        lambda c: c.get_batch(m.BATCH_ID),
        "GET",
        f"/v1/batches/{m.BATCH_ID}",
        m.BATCH_DETAIL,
        lambda r: (r.id, r.status, r.completed_rows, r.total_rows, r.rows[0].result),
        (m.BATCH_ID, "running", 1, 2, {"approved": True}),
    ),
    Case(
        "list_batches",
        lambda c: c.list_batches(status="running", limit=20),
        "GET",
        "/v1/batches",
        m.BATCH_LIST,
        lambda p: (p.data[0].name, p.total, p.has_next_page()),
        ("June invoices", None, False),
        query={"status": ["running"], "limit": ["20"], "offset": ["0"]},
    ),
    Case(
        "cancel_batch",
        lambda c: c.cancel_batch(m.BATCH_ID),
        "POST",
        f"/v1/batches/{m.BATCH_ID}/cancel",
        {"cancelled": True},
        lambda r: r.cancelled,
        True,
    ),
    Case(
        "retry_batch",
        lambda c: c.retry_batch(m.BATCH_ID),
        "POST",
        f"/v1/batches/{m.BATCH_ID}/retry",
        {"job": {**m.JOB_CREATED["job"], "status": "running"}},
        lambda r: r.status,
        "running",
    ),
    Case(
        "get_usage",
        lambda c: c.get_usage(),
        "GET",
        "/v1/usage",
        m.USAGE,
        lambda r: (r.credits_remaining, r.unlimited),
        (37520, False),
    ),
    Case(
        "get_usage_unlimited",
        lambda c: c.get_usage(),
        "GET",
        "/v1/usage",
        {**m.USAGE, "included_credits": -1, "unlimited": True, "credits_remaining": None},
        lambda r: (r.included_credits, r.unlimited, r.credits_remaining),
        (-1, True, None),
    ),
    Case(
        "get_usage_history",
        lambda c: c.get_usage_history(),
        "GET",
        "/v1/usage/history",
        {
            "data": [
                {
                    "id": "l1",
                    "kind": "run",
                    "credits": -1,
                    "period": "2026-06",
                    "run_id": m.RUN_ID,
                    "member_id": None,
                    "description": "Run",
                    "created_at": "2026-06-06T09:00:00.000Z",
                }
            ]
        },
        lambda r: (r.data[0].kind, r.data[0].run_id),
        ("run", m.RUN_ID),
    ),
    Case(
        "get_usage_members",
        lambda c: c.get_usage_members(),
        "GET",
        "/v1/usage/members",
        {
            "period": "2026-06",
            "data": [{"member_id": None, "email": None, "runs": 3, "credits_used": 3}],
        },
        lambda r: (r.period, r.data[0].runs),
        ("2026-06", 3),
    ),
    Case(
        "list_agents",
        lambda c: c.list_agents(),
        "GET",
        "/v1/agents",
        {
            "data": [
                {
                    "agent_type": "center",
                    "description": "Routes work",
                    "credits_per_run": 1,
                    "settings_schema": {"type": "object"},
                }
            ]
        },
        lambda p: (p.data[0].agent_type, p.data[0].credits_per_run),
        ("center", 1),
    ),
    Case(
        "get_agent_settings",
        lambda c: c.get_agent_settings("ap_specialist"),
        "GET",
        "/v1/agents/ap_specialist/settings",
        {"agent_type": "ap_specialist", "settings": {"confidence_threshold": 0.6}},
        lambda r: r.settings,
        {"confidence_threshold": 0.6},
    ),
    Case(
        "update_agent_settings",
        lambda c: c.update_agent_settings("ap_specialist", {"confidence_threshold": 0.8}),
        "PUT",
        "/v1/agents/ap_specialist/settings",
        {"agent_type": "ap_specialist", "settings": {"confidence_threshold": 0.8}},
        lambda r: r.settings,
        {"confidence_threshold": 0.8},
        body={"confidence_threshold": 0.8},
    ),
]


def _assert_request(fake: FakeServer, case: Case) -> None:
    [request] = fake.calls(case.method, case.path)
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["user-agent"].startswith("eclips-python/")
    assert request.json == case.body
    assert request.query == case.query
    if case.method == "POST" and case.path in ("/v1/run", "/v1/batches"):
        assert request.headers["idempotency-key"].startswith("eclips-python-")
    else:
        assert "idempotency-key" not in request.headers


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_sync_method(fake: FakeServer, case: Case) -> None:
    fake.on(case.method, case.path, Reply(case.status, case.reply))
    with EClipsClient(api_key=KEY, base_url=fake.base_url) as client:
        result = case.call(client)
    assert case.pick(result) == case.expected
    _assert_request(fake, case)


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_async_method(fake: FakeServer, case: Case) -> None:
    fake.on(case.method, case.path, Reply(case.status, case.reply))
    async with AsyncEClipsClient(api_key=KEY, base_url=fake.base_url) as client:
        result = await case.call(client)
    assert case.pick(result) == case.expected
    _assert_request(fake, case)


def test_sync_and_async_clients_have_the_same_methods() -> None:
    def public(cls: type) -> dict[str, inspect.Signature]:
        return {
            name: inspect.signature(fn)
            for name, fn in vars(cls).items()
            if callable(fn) and not name.startswith("_")
        }

    sync, async_ = public(EClipsClient), public(AsyncEClipsClient)
    assert set(sync) == set(async_)
    for name in sync:
        assert list(sync[name].parameters) == list(async_[name].parameters), name
        assert all(
            p.kind is not p.POSITIONAL_OR_KEYWORD
            or p.name in ("self", "task", "agent_type", "rows")
            or p.name.endswith("_id")
            or p.name == "settings"
            for p in sync[name].parameters.values()
        ), name


def test_own_idempotency_key(fake: FakeServer) -> None:
    fake.on("POST", "/v1/run", Reply(202, m.RUN_ACCEPTED))
    fake.on("POST", "/v1/batches", Reply(201, m.JOB_CREATED))
    with EClipsClient(api_key=KEY, base_url=fake.base_url) as client:
        client.run("x", idempotency_key="order-123")
        client.create_batch("ap_specialist", [{"task": "x"}], idempotency_key="june-batch")
    assert [r.headers["idempotency-key"] for r in fake.requests] == ["order-123", "june-batch"]


def test_env_configures_the_client(monkeypatch: pytest.MonkeyPatch, fake: FakeServer) -> None:
    monkeypatch.setenv("ECLIPS_API_KEY", "eck_from_env")
    monkeypatch.setenv("ECLIPS_BASE_URL", fake.base_url + "/v1/")
    fake.on("GET", "/v1/usage", Reply(200, m.USAGE))
    with EClipsClient() as client:
        assert client.base_url == fake.base_url
        client.get_usage()
    assert fake.requests[0].headers["authorization"] == "Bearer eck_from_env"


def test_default_base_url() -> None:
    assert EClipsClient().base_url == "http://127.0.0.1:8080"
    assert EClipsClient(base_url="https://api.eclips.tech/").base_url == "https://api.eclips.tech"


def test_ids_cannot_escape_their_path(fake: FakeServer) -> None:
    fake.on("GET", "/v1/runs/..%2Fusage", Reply(404, {"error": "Run not found"}))
    with EClipsClient(api_key=KEY, base_url=fake.base_url) as client, pytest.raises(NotFoundError):
        client.get_run("../usage")
    assert fake.requests[0].path == "/v1/runs/..%2Fusage"


def test_unknown_fields_are_kept(fake: FakeServer) -> None:
    fake.on("GET", "/v1/health", Reply(200, {**m.HEALTH, "region": "eu"}))
    with EClipsClient(base_url=fake.base_url) as client:
        health = client.health()
    assert health.model_extra == {"region": "eu"}
    assert health.to_dict() == {**m.HEALTH, "region": "eu"}
    assert "authorization" not in fake.requests[0].headers


def test_batch_detail_reads_like_the_manual() -> None:
    from eclips import BatchDetail

    detail = BatchDetail.model_validate(m.BATCH_DETAIL)
    assert (detail.status, detail.completed_rows, detail.failed_rows) == ("running", 1, 0)
    assert detail.finished_rows == 1
    assert detail.to_dict() == m.BATCH_DETAIL
