"""Batches over HTTP: the manual's shapes and worked example, cancel, retry, results, fairness."""

from __future__ import annotations

import json
import time

import pytest

from tests.server.test_runs import ISO, finished
from tests.support.server import LiveServer, wait_for

JOB_FIELDS = {
    "id",
    "name",
    "agent_type",
    "status",
    "total_rows",
    "completed_rows",
    "failed_rows",
    "created_at",
}


def poll_until_done(client, batch_id: str) -> dict:
    """The manual's loop: poll while pending or running."""

    def check():
        body = client.get(f"/v1/batches/{batch_id}").json()
        return body if body["job"]["status"] not in ("pending", "running") else None

    return wait_for(check, timeout=60, interval=0.2)


def test_manual_create_example(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    response = client.post(
        "/v1/batches",
        json={
            "agent_type": "ap_specialist",
            "name": "June invoices",
            "rows": [
                {"task": "Process invoice INV-1001"},
                {"task": "Process invoice INV-1002", "data": {"amount": 12000}},
            ],
        },
    )
    assert response.status_code == 201
    job = response.json()["job"]
    assert JOB_FIELDS <= set(job)
    assert job["name"] == "June invoices" and job["agent_type"] == "ap_specialist"
    assert job["status"] == "pending"
    assert (job["total_rows"], job["completed_rows"], job["failed_rows"]) == (2, 0, 0)
    assert ISO.match(job["created_at"])


def test_worked_example_end_to_end(live_server: LiveServer) -> None:
    """Submit a month of invoices, poll to the end, split successes from failures."""
    client = live_server.client(live_server.new_key())
    invoices = [(f"INV-{3000 + i}", 100.0 + i) for i in range(20)]
    rows = [{"task": f"Process invoice {n}", "data": {"amount": a}} for n, a in invoices]
    rows[5]["data"]["amount"] = -5  # malformed: escalated to triage
    job_id = client.post(
        "/v1/batches", json={"agent_type": "ap_specialist", "name": "June invoices", "rows": rows}
    ).json()["job"]["id"]
    body = poll_until_done(client, job_id)
    job = body["job"]
    assert job["status"] == "awaiting_triage"
    assert job["completed_rows"] == 19 and job["failed_rows"] == 0 and job["triage_rows"] == 1
    assert [r["row_index"] for r in body["rows"]] == list(range(20))
    done = [r for r in body["rows"] if r["status"] == "completed"]
    assert all(r["result"]["approved"] is True and r["error_message"] is None for r in done)
    # Rows are runs: listed with their batch, billed on their own.
    runs = client.get("/v1/runs", params={"limit": 100}).json()
    assert runs["total"] == 20
    assert {r["batch_id"] for r in runs["data"]} == {job_id}
    assert client.get("/v1/usage").json()["credits_used"] == 20 * 2
    # Resolving the last triage item completes the job.
    item = client.get("/v1/triage").json()["data"][0]
    client.post(f"/v1/triage/{item['id']}/approve")
    job = client.get(f"/v1/batches/{job_id}").json()["job"]
    assert job["status"] == "completed" and job["completed_rows"] == 20
    assert job["triage_rows"] == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"agent_type": "test_noop", "rows": [{"task": "x"}] * 501}, "Maximum 500 rows per batch"),
        ({"agent_type": "test_noop", "rows": []}, "rows"),
        ({"agent_type": "test_noop"}, "rows"),
        ({"rows": [{"task": "x"}]}, "agent_type"),
        ({"agent_type": "nope", "rows": [{"task": "x"}]}, "agent_type"),
        ({"agent_type": "test_noop", "rows": [{"data": {}}]}, "task"),
        ({"agent_type": "test_noop", "rows": [{"task": " "}]}, "task"),
    ],
)
def test_bad_batches_are_400(live_server: LiveServer, body: dict, message: str) -> None:
    client = live_server.client(live_server.new_key())
    response = client.post("/v1/batches", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error == message if message.startswith("Maximum") else message in error


def test_500_rows_fit_and_list_filters(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    rows = [{"task": f"row {i}", "custom_id": f"c-{i}"} for i in range(500)]
    first = client.post("/v1/batches", json={"agent_type": "test_noop", "rows": rows}).json()
    second = client.post(
        "/v1/batches", json={"agent_type": "test_noop", "rows": rows[:2], "name": "small"}
    ).json()
    listed = client.get("/v1/batches").json()["jobs"]
    assert [j["id"] for j in listed] == [second["job"]["id"], first["job"]["id"]]
    poll_until_done(client, first["job"]["id"])
    poll_until_done(client, second["job"]["id"])
    completed = client.get("/v1/batches", params={"status": "completed", "limit": 1}).json()
    assert len(completed["jobs"]) == 1
    assert client.get("/v1/batches", params={"status": "running"}).json()["jobs"] == []
    # Results stream every row as JSON Lines, custom_id echoed.
    with client.stream("GET", f"/v1/batches/{first['job']['id']}/results") as response:
        assert response.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(line) for line in response.iter_lines() if line]
    assert len(lines) == 500
    assert [r["custom_id"] for r in lines] == [f"c-{i}" for i in range(500)]
    assert lines[7]["result"] == {"echo": "row 7"}


def test_cancel_in_each_state(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    rows = [{"task": f"r{i}", "data": {"seconds": 30}} for i in range(60)]
    job_id = client.post("/v1/batches", json={"agent_type": "test_sleep", "rows": rows}).json()[
        "job"
    ]["id"]
    wait_for(lambda: client.get(f"/v1/batches/{job_id}").json()["job"]["status"] == "running")
    assert client.post(f"/v1/batches/{job_id}/cancel").json() == {"cancelled": True}
    body = client.get(f"/v1/batches/{job_id}").json()
    assert body["job"]["status"] == "cancelled"
    assert {r["status"] for r in body["rows"]} == {"cancelled"}
    assert body["job"]["completed_rows"] == 0
    response = client.post(f"/v1/batches/{job_id}/cancel")
    assert response.status_code == 400
    assert "cancelled" in response.json()["error"]
    time.sleep(1.5)  # running rows stop at their worker's next look; none is charged
    assert client.get("/v1/usage").json()["credits_used"] == 0
    done = client.post(
        "/v1/batches", json={"agent_type": "test_noop", "rows": [{"task": "x"}]}
    ).json()["job"]["id"]
    poll_until_done(client, done)
    assert client.post(f"/v1/batches/{done}/cancel").status_code == 400
    assert (
        live_server.client(live_server.new_key()).post(f"/v1/batches/{done}/cancel").status_code
        == 404
    )


def test_cancel_pending_batch(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    # Sleepers take the batch share of the slots, so the second batch stays pending.
    busy = client.post(
        "/v1/batches",
        json={"agent_type": "test_sleep", "rows": [{"task": "b", "data": {"seconds": 20}}] * 40},
    ).json()["job"]["id"]
    wait_for(lambda: client.get(f"/v1/batches/{busy}").json()["job"]["status"] == "running")
    waiting = client.post(
        "/v1/batches", json={"agent_type": "test_noop", "rows": [{"task": "w"}] * 3}
    ).json()["job"]["id"]
    job = client.get(f"/v1/batches/{waiting}").json()["job"]
    if job["status"] == "pending":
        assert client.post(f"/v1/batches/{waiting}/cancel").json() == {"cancelled": True}
        assert client.get(f"/v1/batches/{waiting}").json()["job"]["cancelled_rows"] == 3
    client.post(f"/v1/batches/{busy}/cancel")


def test_retry_requeues_failed_rows(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    rows = [
        {"task": "ok", "data": {"seconds": 0}},
        {"task": "bad", "data": {"seconds": 0, "fail": "boom"}},
    ]
    job_id = client.post("/v1/batches", json={"agent_type": "test_sleep", "rows": rows}).json()[
        "job"
    ]["id"]
    body = poll_until_done(client, job_id)
    assert body["job"]["failed_rows"] == 1 and body["job"]["completed_rows"] == 1
    assert body["rows"][1]["error_message"] == "boom"
    retried = client.post(f"/v1/batches/{job_id}/retry").json()["job"]
    assert retried["failed_rows"] == 0 and retried["status"] == "running"
    body = poll_until_done(client, job_id)
    assert body["job"]["failed_rows"] == 1  # it fails again, as told
    assert body["job"]["total_rows"] == 2


def test_unaffordable_batch_is_402(live_server: LiveServer) -> None:
    import asyncio

    from tests.server.test_usage import _spend

    org = live_server.new_org()
    client = live_server.client(live_server.new_key(org=org))
    asyncio.run(_spend(live_server.database_url, org, 49_990))
    response = client.post(
        "/v1/batches", json={"agent_type": "ap_specialist", "rows": [{"task": "x"}] * 6}
    )
    assert response.status_code == 402
    assert "12 credits" in response.json()["error"]
    assert client.get("/v1/batches").json()["jobs"] == []


def test_interactive_run_starts_within_a_second_during_a_big_batch(
    live_server: LiveServer,
) -> None:
    client = live_server.client(live_server.new_key())
    other = live_server.client(live_server.new_key())
    rows = [{"task": f"slow {i}", "data": {"seconds": 5}} for i in range(500)]
    job_id = client.post("/v1/batches", json={"agent_type": "test_sleep", "rows": rows}).json()[
        "job"
    ]["id"]
    wait_for(lambda: client.get(f"/v1/batches/{job_id}").json()["job"]["status"] == "running")
    try:
        for who in (client, other):
            start = time.monotonic()
            run_id = who.post("/v1/run", json={"agent_type": "test_noop", "task": "now"}).json()[
                "run_id"
            ]
            finished(who, run_id, {"running", "completed"})
            assert time.monotonic() - start < 1.0
    finally:
        client.post(f"/v1/batches/{job_id}/cancel")
