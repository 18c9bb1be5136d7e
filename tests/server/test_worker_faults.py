"""Workers die and the queue loses nothing: rescue, graceful release, no double execution."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.test_runs import finished
from tests.support.server import LiveServer, database, start_server, wait_for

FAST_LEASE = {"lease_seconds": 2, "rescue_interval_seconds": 0.5}


@pytest.fixture(scope="module")
def api_only(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The API with no embedded worker; tests start and kill worker processes."""
    tmp: Path = tmp_path_factory.mktemp("api-only")
    with database(backend, tmp) as url:
        server, process = start_server(backend, url, tmp, worker=False)
        try:
            yield server
        finally:
            process.stop()
            for extra in server.processes:
                extra.stop()


def charges_for(client, run_id: str) -> int:
    history = client.get("/v1/usage/history").json()["data"]
    return sum(1 for e in history if e["run_id"] == run_id)


def test_killed_worker_run_is_rescued_and_charged_once(api_only: LiveServer) -> None:
    client = api_only.client(api_only.new_key())
    doomed = api_only.worker(**FAST_LEASE)
    run_id = client.post(
        "/v1/run", json={"agent_type": "test_sleep", "task": "x", "data": {"seconds": 3}}
    ).json()["run_id"]
    finished(client, run_id, {"running"})
    doomed.signal(signal.SIGKILL)
    doomed.wait()
    rescuer = api_only.worker(**FAST_LEASE)
    try:
        run = finished(client, run_id, {"completed", "failed", "cancelled"})["run"]
    finally:
        rescuer.stop()
    assert run["status"] == "completed"
    assert run["attempts"] == 2
    assert run["credits_charged"] == 1
    assert charges_for(client, run_id) == 1


def test_sigterm_releases_unfinished_runs_to_the_queue(api_only: LiveServer) -> None:
    client = api_only.client(api_only.new_key())
    leaving = api_only.worker(shutdown_grace_seconds=0.5)
    run_id = client.post(
        "/v1/run", json={"agent_type": "test_sleep", "task": "x", "data": {"seconds": 4}}
    ).json()["run_id"]
    finished(client, run_id, {"running"})
    leaving.signal(signal.SIGTERM)
    assert leaving.wait(30) == 0
    run = client.get(f"/v1/runs/{run_id}").json()["run"]
    assert run["status"] == "queued"
    assert run["attempts"] == 0
    taker = api_only.worker()
    try:
        run = finished(client, run_id, {"completed"})["run"]
    finally:
        taker.stop()
    assert run["attempts"] == 1
    assert charges_for(client, run_id) == 1


def test_graceful_shutdown_finishes_short_runs(api_only: LiveServer) -> None:
    client = api_only.client(api_only.new_key())
    leaving = api_only.worker(shutdown_grace_seconds=10)
    run_id = client.post(
        "/v1/run", json={"agent_type": "test_sleep", "task": "x", "data": {"seconds": 2}}
    ).json()["run_id"]
    finished(client, run_id, {"running"})
    leaving.signal(signal.SIGTERM)
    assert leaving.wait(30) == 0
    assert client.get(f"/v1/runs/{run_id}").json()["run"]["status"] == "completed"


def test_run_lost_too_often_fails(api_only: LiveServer) -> None:
    if api_only.backend != "postgresql":
        pytest.skip("the attempt limit is backend-independent; one backend keeps the suite short")
    client = api_only.client(api_only.new_key())
    run_id = client.post(
        "/v1/run", json={"agent_type": "test_sleep", "task": "x", "data": {"seconds": 60}}
    ).json()["run_id"]
    for attempt in range(1, 4):
        doomed = api_only.worker(**FAST_LEASE, max_attempts=3)
        wait_for(
            lambda a=attempt: (
                client.get(f"/v1/runs/{run_id}").json()["run"]["attempts"] == a
                and client.get(f"/v1/runs/{run_id}").json()["run"]["status"] == "running"
            )
        )
        doomed.signal(signal.SIGKILL)
        doomed.wait()
    rescuer = api_only.worker(**FAST_LEASE, max_attempts=3)
    try:
        run = finished(client, run_id, {"failed"})["run"]
    finally:
        rescuer.stop()
    assert "worker was lost 3 times" in run["error_message"]
    assert run["credits_charged"] == 0


def test_two_workers_never_run_the_same_run(api_only: LiveServer) -> None:
    if api_only.backend != "postgresql":
        pytest.skip("many workers against one database is the PostgreSQL deployment")
    client = api_only.client(api_only.new_key())
    workers = [api_only.worker(worker_concurrency=8) for _ in range(2)]
    try:
        ids = [
            client.post(
                "/v1/run",
                json={"agent_type": "test_sleep", "task": f"r{i}", "data": {"seconds": 0.05}},
            ).json()["run_id"]
            for i in range(120)
        ]
        wait_for(
            lambda: client.get("/v1/runs", params={"status": "completed"}).json()["total"] == 120,
            timeout=60,
        )
    finally:
        for worker in workers:
            worker.stop()
    attempts = {client.get(f"/v1/runs/{run_id}").json()["run"]["attempts"] for run_id in ids}
    assert attempts == {1}
    history = client.get("/v1/usage").json()
    assert history["credits_used"] == 120
    logs = [w.log.read_text() for w in workers]
    assert all("started" in log for log in logs)


def test_batch_survives_sigkill_and_sigterm_with_exact_counters(api_only: LiveServer) -> None:
    """500 rows on two workers; one is killed, the other stopped gracefully, a third
    finishes: every row ends once, counters match the rows, each row is charged once."""
    if api_only.backend != "postgresql":
        pytest.skip("several workers against one database is the PostgreSQL deployment")
    client = api_only.client(api_only.new_key())
    rows = [{"task": f"r{i}", "data": {"seconds": 0.3}} for i in range(500)]
    doomed = api_only.worker(**FAST_LEASE, worker_concurrency=16, batch_share=1)
    leaving = api_only.worker(**FAST_LEASE, worker_concurrency=16, batch_share=1)
    job_id = client.post("/v1/batches", json={"agent_type": "test_sleep", "rows": rows}).json()[
        "job"
    ]["id"]
    wait_for(lambda: client.get(f"/v1/batches/{job_id}").json()["job"]["completed_rows"] > 50)
    doomed.signal(signal.SIGKILL)
    leaving.signal(signal.SIGTERM)
    doomed.wait()
    assert leaving.wait(60) == 0
    finisher = api_only.worker(**FAST_LEASE, worker_concurrency=32, batch_share=1)
    try:
        body = wait_for(
            lambda: (
                (b := client.get(f"/v1/batches/{job_id}").json())["job"]["status"]
                not in ("pending", "running")
                and b
            ),
            timeout=120,
        )
    finally:
        finisher.stop()
    job = body["job"]
    assert job["status"] == "completed"
    assert job["completed_rows"] == 500
    assert job["failed_rows"] == 0
    assert {r["status"] for r in body["rows"]} == {"completed"}
    usage = client.get("/v1/usage").json()
    assert usage["credits_used"] == 500
    runs = client.get("/v1/runs", params={"limit": 100}).json()
    assert runs["total"] == 500
