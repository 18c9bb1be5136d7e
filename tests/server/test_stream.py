"""SSE: status events every ~2 s and at once on a change, pings, closing rules."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import LiveServer, start_server


def read_stream(client: httpx.Client, run_id: str) -> Iterator[tuple[float, str]]:
    """(seconds since open, raw line) for every non-empty line until the server closes."""
    start = time.monotonic()
    with client.stream("GET", f"/v1/runs/{run_id}/stream") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line:
                yield time.monotonic() - start, line


def events(lines: list[tuple[float, str]]) -> list[tuple[float, dict]]:
    return [(t, json.loads(line[5:])) for t, line in lines if line.startswith("data:")]


def test_stream_pushes_updates_and_closes_on_terminal(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    run_id = client.post(
        "/v1/run", json={"agent_type": "test_sleep", "task": "x", "data": {"seconds": 5}}
    ).json()["run_id"]
    got = events(list(read_stream(client, run_id)))
    assert set(got[0][1]) == {"status", "confidence", "result", "error", "progress"}
    statuses = [e["status"] for _, e in got]
    assert statuses[-1] == "completed"
    assert "running" in statuses
    assert got[-1][1]["confidence"] == 0.95
    assert got[-1][1]["result"]["slept"] is True
    # ~2 s cadence while running: a 5 s run yields several updates, not one per poll.
    running = [t for t, e in got if e["status"] == "running"]
    assert len(running) >= 2
    assert all(b - a >= 1.5 for a, b in itertools.pairwise(running))
    # The final event came at once on completion, not at the next 2 s tick.
    assert got[-1][0] < 7.5


def test_stream_of_a_finished_run_sends_one_event(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    run_id = client.post("/v1/run", json={"agent_type": "test_noop", "task": "x"}).json()["run_id"]
    time.sleep(1)
    got = events(list(read_stream(client, run_id)))
    assert [e["status"] for _, e in got] == ["completed"]
    assert got[0][1]["result"] == {"echo": "x"}


@pytest.fixture(scope="module")
def short_stream_server(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    from tests.support.server import database

    tmp: Path = tmp_path_factory.mktemp("stream")
    with database(backend, tmp) as url:
        server, process = start_server(
            backend, url, tmp, stream_timeout_seconds=4, stream_ping_seconds=1
        )
        try:
            yield server
        finally:
            process.stop()


def test_stream_pings_and_times_out(short_stream_server: LiveServer) -> None:
    client = short_stream_server.client(short_stream_server.new_key())
    run_id = client.post(
        "/v1/run", json={"agent_type": "test_sleep", "task": "x", "data": {"seconds": 30}}
    ).json()["run_id"]
    lines = list(read_stream(client, run_id))
    assert any(line.startswith(":") for _, line in lines), lines
    assert 3.5 <= lines[-1][0] <= 6
    assert events(lines)[-1][1]["status"] in ("queued", "running")
    client.post(f"/v1/runs/{run_id}/cancel")


def test_events_carry_ids_and_progress_and_resume_with_last_event_id(
    live_server: LiveServer,
) -> None:
    client = live_server.client(live_server.new_key())
    run_id = client.post(
        "/v1/run",
        json={"agent_type": "ap_specialist", "task": "Process invoice INV-9 for $10"},
    ).json()["run_id"]
    lines = list(read_stream(client, run_id))
    ids = [int(line[3:].strip()) for _, line in lines if line.startswith("id:")]
    assert ids == sorted(ids)
    assert len(ids) == len(events(lines))
    last = events(lines)[-1][1]
    assert last["status"] == "completed"
    assert [step["step"] for step in last["progress"]] == ["extracted"]
    # Resuming after the last event: the stream ends with the terminal event, nothing new.
    with client.stream(
        "GET", f"/v1/runs/{run_id}/stream", headers={"Last-Event-ID": str(ids[-1])}
    ) as response:
        resumed = [line for line in response.iter_lines() if line.startswith("data:")]
    assert [json.loads(line[5:])["status"] for line in resumed] == ["completed"]
