"""PostgreSQL stops in the middle of load: the API answers 503, never 500 or a hang; when
it returns, every accepted run reaches one terminal state, charged once, webhooks sent."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server.webhooks.receiver import Receiver
from tests.support.postgres import PrivateCluster
from tests.support.server import LiveServer, start_server, wait_for


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    # Not under pytest's tmp_path: the postgres user must be able to reach the directory.
    directory = Path(tempfile.mkdtemp(prefix="eclips-pg-"))
    cluster = PrivateCluster(directory).init()
    try:
        yield cluster
    finally:
        with contextlib.suppress(Exception):
            cluster.stop("fast")
        shutil.rmtree(directory, ignore_errors=True)


def test_database_outage_loses_nothing(cluster: PrivateCluster, tmp_path: Path) -> None:
    import asyncio

    from eclips.server.db.migrate import upgrade

    asyncio.run(upgrade(cluster.url))
    server, process = start_server(
        "postgresql", cluster.url, tmp_path, lease_seconds=3, rescue_interval_seconds=0.5
    )
    try:
        with Receiver() as receiver:
            _outage_under_load(server, cluster, receiver)
    finally:
        process.stop()
    log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in log.split("Application startup complete")[0]


def _outage_under_load(server: LiveServer, cluster: PrivateCluster, receiver: Receiver) -> None:
    key = server.new_key()
    client = server.client(key)
    client.timeout = httpx.Timeout(20)
    hook = client.post("/v1/webhooks", json={"url": receiver.url, "events": ["run.completed"]})
    assert hook.status_code == 201

    def submit(n: int) -> list[httpx.Response]:
        return [
            client.post(
                "/v1/run",
                json={"agent_type": "test_sleep", "task": f"t{i}", "data": {"seconds": 1}},
            )
            for i in range(n)
        ]

    before = submit(20)
    assert {r.status_code for r in before} == {202}
    cluster.stop("immediate")
    during = []
    for _ in range(5):
        started = time.monotonic()
        response = client.post("/v1/run", json={"agent_type": "test_noop", "task": "down"})
        elapsed = time.monotonic() - started
        during.append(response)
        assert response.status_code == 503, response.text
        assert response.json() == {"error": "Database unavailable; retry shortly"}
        assert response.headers["Retry-After"]
        assert elapsed < 12
        assert client.get("/v1/runs").status_code == 503
    time.sleep(2)
    cluster.start()
    after = wait_for(lambda: [r for r in submit(1) if r.status_code == 202], timeout=30)
    accepted = {r.json()["run_id"] for r in before + after}

    def all_done() -> dict | None:
        runs = client.get("/v1/runs", params={"limit": 100}).json()
        done = [r for r in runs["data"] if r["status"] in ("completed", "failed", "cancelled")]
        return runs if len(done) == runs["total"] else None

    try:
        runs = wait_for(all_done, timeout=90, interval=0.5)
    except AssertionError:
        states = client.get("/v1/runs", params={"limit": 100}).json()["data"]
        detail = [(r["status"], r["id"][:8]) for r in states if r["status"] != "completed"]
        raise AssertionError(f"runs not terminal after the outage: {detail}") from None
    ids = {r["id"] for r in runs["data"]}
    assert accepted <= ids
    assert {r["status"] for r in runs["data"]} == {"completed"}
    usage = client.get("/v1/usage").json()
    assert usage["credits_used"] == runs["total"]  # test_sleep costs 1: charged exactly once
    history = client.get("/v1/usage/history").json()["data"]
    charged = [e["run_id"] for e in history if e["kind"] == "charge"]
    assert len(charged) == len(set(charged)) == runs["total"]
    delivered = wait_for(
        lambda: (
            {r.json()["data"]["id"] for r in receiver.received} >= ids
            and {r.json()["data"]["id"] for r in receiver.received}
        ),
        timeout=60,
    )
    assert delivered == ids
