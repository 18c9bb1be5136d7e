"""Runs over HTTP, as the manual writes them, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.support.server import LiveServer, wait_for

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
TERMINAL = {"completed", "failed", "cancelled"}


def finished(client, run_id: str, statuses=TERMINAL | {"awaiting_triage"}):
    def check():
        body = client.get(f"/v1/runs/{run_id}").json()
        return body if body["run"]["status"] in statuses else None

    return wait_for(check, timeout=30)


def test_health_needs_no_key(live_server: LiveServer) -> None:
    response = live_server.client().get("/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"] == "1.0.0"
    assert ISO.match(body["timestamp"])


def test_manual_procurement_example(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    response = client.post(
        "/v1/run",
        json={
            "agent_type": "procurement_specialist",
            "task": "Get 3 vendor quotes for 500 laptops",
            "data": {"category": "hardware"},
            "priority": "normal",
            "webhook_url": "https://your-app.com/webhooks/eclips",
        },
    )
    assert response.status_code == 202
    accepted = response.json()
    assert set(accepted) == {"run_id", "status", "agent_type", "estimated_completion"}
    assert accepted["status"] == "queued"
    assert accepted["agent_type"] == "procurement_specialist"
    assert accepted["estimated_completion"] == "async"
    uuid.UUID(accepted["run_id"], version=4)

    body = finished(client, accepted["run_id"])
    run = body["run"]
    assert body["triage_item"] is None
    assert run["status"] == "completed"
    assert run["requires_triage"] is False
    assert 0 <= run["confidence_score"] <= 1
    output = run["output"]
    assert len(output["vendors"]) == 3
    assert output["recommended"] in output["vendors"]
    assert all(q["total"] == pytest.approx(q["unit_price"] * 500) for q in output["quotes"])
    assert run["credits_charged"] == 3


def test_defaults_to_center_which_names_the_specialist(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    accepted = client.post(
        "/v1/run", json={"task": "Process invoice INV-7 from Acme for $120.00"}
    ).json()
    assert accepted["agent_type"] == "center"
    run = finished(client, accepted["run_id"])["run"]
    assert run["status"] == "completed"
    assert run["output"]["specialist"] == "ap_specialist"
    assert run["output"]["approved"] is True


def test_center_fails_clearly_when_no_specialist_fits(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    accepted = client.post("/v1/run", json={"task": "Write me a poem about autumn"}).json()
    run = finished(client, accepted["run_id"])["run"]
    assert run["status"] == "failed"
    assert "No specialist fits" in run["error_message"]
    assert run["credits_charged"] == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "task"),
        ({"task": ""}, "task"),
        ({"task": "   "}, "task"),
        ({"task": "x", "agent_type": "nope"}, "agent_type"),
        ({"task": "x", "priority": "asap"}, "priority"),
        ({"task": "x", "data": [1, 2]}, "data"),
    ],
)
def test_bad_run_requests_are_400(live_server: LiveServer, body: dict, message: str) -> None:
    client = live_server.client(live_server.new_key())
    response = client.post("/v1/run", json=body)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_malformed_json_is_400(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    response = client.post(
        "/v1/run", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "error" in response.json()


def test_list_runs_paginates_newest_first_and_filters(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    ids = [
        client.post("/v1/run", json={"agent_type": "test_noop", "task": f"t{i}"}).json()["run_id"]
        for i in range(5)
    ]
    for run_id in ids:
        finished(client, run_id)
    page = client.get("/v1/runs", params={"limit": 2, "offset": 1}).json()
    assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == 1
    assert [r["id"] for r in page["data"]] == ids[::-1][1:3]
    summary = page["data"][0]
    for key in (
        "id",
        "agent_type",
        "status",
        "priority",
        "created_at",
        "started_at",
        "completed_at",
        "confidence_score",
        "requires_triage",
        "error_message",
    ):
        assert key in summary
    assert ISO.match(summary["created_at"]) and ISO.match(summary["completed_at"])
    assert client.get("/v1/runs", params={"status": "completed"}).json()["total"] == 5
    assert client.get("/v1/runs", params={"status": "failed"}).json()["total"] == 0
    assert client.get("/v1/runs").json()["limit"] == 20


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"offset": -1}, "offset"),
        ({"limit": "x"}, "limit"),
        ({"status": "nope"}, "status"),
    ],
)
def test_bad_pagination_is_400_naming_the_parameter(
    live_server: LiveServer, params: dict, name: str
) -> None:
    client = live_server.client(live_server.new_key())
    response = client.get("/v1/runs", params=params)
    assert response.status_code == 400
    assert name in response.json()["error"]


def test_another_orgs_run_is_404(live_server: LiveServer) -> None:
    mine = live_server.client(live_server.new_key())
    theirs = live_server.client(live_server.new_key())
    run_id = mine.post("/v1/run", json={"agent_type": "test_noop", "task": "x"}).json()["run_id"]
    for path in (f"/v1/runs/{run_id}", f"/v1/runs/{run_id}/stream"):
        response = theirs.get(path)
        assert response.status_code == 404
        assert response.json() == {"error": "Run not found"}
    assert theirs.post(f"/v1/runs/{run_id}/cancel").status_code == 404
    assert theirs.get("/v1/runs").json()["total"] == 0


def test_cancel_a_running_run_stops_it_and_does_not_charge(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    run_id = client.post(
        "/v1/run", json={"agent_type": "test_sleep", "task": "x", "data": {"seconds": 30}}
    ).json()["run_id"]
    finished(client, run_id, {"running"})
    assert client.post(f"/v1/runs/{run_id}/cancel").json() == {"cancelled": True}
    run = finished(client, run_id)["run"]
    assert run["status"] == "cancelled"
    assert run["credits_charged"] == 0
    response = client.post(f"/v1/runs/{run_id}/cancel")
    assert response.status_code == 400
    assert "cancelled" in response.json()["error"]


def test_agent_past_its_timeout_fails_saying_so_and_retry_links_a_new_run(
    live_server: LiveServer,
) -> None:
    client = live_server.client(live_server.new_key())
    assert (
        client.put("/v1/agents/test_sleep/settings", json={"timeout_seconds": 0.5}).status_code
        == 200
    )
    run_id = client.post(
        "/v1/run", json={"agent_type": "test_sleep", "task": "x", "data": {"seconds": 5}}
    ).json()["run_id"]
    run = finished(client, run_id)["run"]
    assert run["status"] == "failed"
    assert "timed out after 0.5 s" in run["error_message"]
    assert run["credits_charged"] == 0

    retried = client.post(f"/v1/runs/{run_id}/retry")
    assert retried.status_code == 202
    new_id = retried.json()["run_id"]
    assert new_id != run_id
    new = client.get(f"/v1/runs/{new_id}").json()["run"]
    assert new["retry_of"] == run_id
    assert new["task"] == "x"
    done = client.post("/v1/run", json={"agent_type": "test_noop", "task": "ok"}).json()["run_id"]
    finished(client, done)
    refused = client.post(f"/v1/runs/{done}/retry")
    assert refused.status_code == 400
    assert "Only failed runs" in refused.json()["error"]
