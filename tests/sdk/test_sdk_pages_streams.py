"""Pages walk every page; streams parse SSE and JSON Lines; the wait helpers poll."""

from __future__ import annotations

import json
from typing import Any

import pytest

import eclips
from eclips import AsyncEClipsClient, EClipsClient
from eclips.sdk._streaming import SSEDecoder, iter_sse
from tests.sdk import manual_payloads as m
from tests.sdk.fake_server import FakeServer, Recorded, Reply

KEY = "eck_live_test"
RUNS = [{**m.RUN_SUMMARY, "id": f"run-{i}"} for i in range(7)]


def runs_page(request: Recorded) -> Reply:
    limit = int(request.param("limit") or 20)
    offset = int(request.param("offset") or 0)
    data = RUNS[offset : offset + limit]
    return Reply(200, {"data": data, "total": len(RUNS), "limit": limit, "offset": offset})


def jobs_page(request: Recorded) -> Reply:
    jobs = [{"id": f"job-{i}", "status": "completed", "total_rows": 1} for i in range(6)]
    limit = int(request.param("limit") or 20)
    offset = int(request.param("offset") or 0)
    return Reply(200, {"jobs": jobs[offset : offset + limit]})


def test_page_iterates_across_all_pages(fake: FakeServer) -> None:
    fake.on("GET", "/v1/runs", runs_page)
    with EClipsClient(api_key=KEY, base_url=fake.base_url) as client:
        page = client.list_runs(limit=3)
        assert [r.id for r in page.data] == ["run-0", "run-1", "run-2"]
        assert page.has_next_page()
        assert [r.id for r in page] == [r["id"] for r in RUNS]
        assert [len(p.data) for p in page.iter_pages()] == [3, 3, 1]
        last = page.next_page().next_page()
        assert not last.has_next_page()
        with pytest.raises(RuntimeError):
            last.next_page()
        assert page.to_dict() == {"data": RUNS[:3], "total": 7, "limit": 3, "offset": 0}
    offsets = [r.param("offset") for r in fake.calls("GET", "/v1/runs")]
    assert offsets[:4] == ["0", "3", "6", "3"]


def test_page_without_total_stops_at_a_short_page(fake: FakeServer) -> None:
    fake.on("GET", "/v1/batches", jobs_page)
    with EClipsClient(api_key=KEY, base_url=fake.base_url) as client:
        page = client.list_batches(limit=2)
        assert page.total is None
        assert [j.id for j in page] == [f"job-{i}" for i in range(6)]
        # 2 + 2 + 2, then an empty page proves there is nothing more.
        assert len(fake.requests) == 4
        assert page.to_dict()["jobs"][0]["id"] == "job-0"


@pytest.mark.anyio
async def test_async_page_iterates_across_all_pages(fake: FakeServer) -> None:
    fake.on("GET", "/v1/runs", runs_page)
    async with AsyncEClipsClient(api_key=KEY, base_url=fake.base_url) as client:
        page = await client.list_runs(limit=4)
        assert [r.id async for r in page] == [r["id"] for r in RUNS]
        assert [len(p.data) async for p in page.iter_pages()] == [4, 3]
        assert len((await page.next_page()).data) == 3


# -- SSE ------------------------------------------------------------------------------------


def event(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload)}\r\n\r\n".encode()


RUNNING = {"status": "running", "confidence": None, "result": None, "error": None}
DONE = {"status": "completed", "confidence": 0.94, "result": {"ok": True}, "error": None}


def test_sse_decoder_follows_the_event_stream_format() -> None:
    lines = [
        ": ping - 2026-06-06 09:00:00",
        "",
        "event: status",
        "id: 7",
        "retry: 1500",
        'data: {"a":',
        "data:1}",
        "",
        "data: last without blank line",
    ]
    events = list(iter_sse(lines))
    assert [e.data for e in events] == ['{"a":\n1}', "last without blank line"]
    assert (events[0].event, events[0].id, events[0].retry) == ("status", "7", 1500)
    assert events[1].event == "message"
    assert SSEDecoder().feed("") is None


def test_stream_run_yields_status_events_and_skips_pings(fake: FakeServer) -> None:
    chunks = [b": ping\r\n\r\n", event(RUNNING), b": ping\r\n\r\n", event(DONE)]
    fake.on(
        "GET",
        f"/v1/runs/{m.RUN_ID}/stream",
        Reply(200, headers={"Content-Type": "text/event-stream"}, chunks=chunks, chunk_delay=0.02),
    )
    with EClipsClient(api_key=KEY, base_url=fake.base_url) as client:
        stream = client.stream_run(m.RUN_ID)
        events = list(stream)
    assert [e.status for e in events] == ["running", "completed"]
    assert events[1].confidence == 0.94
    assert events[1].result == {"ok": True}
    assert fake.requests[0].headers["accept"] == "text/event-stream"
    assert stream.response.is_closed


def test_stream_run_can_stop_early(fake: FakeServer) -> None:
    chunks = [event(RUNNING)] * 3 + [event(DONE)]
    fake.on("GET", "/v1/runs/r/stream", Reply(200, chunks=chunks))
    with EClipsClient(api_key=KEY, base_url=fake.base_url) as client:
        with client.stream_run("r") as stream:
            first = next(iter(stream))
        assert first.status == "running"
        assert stream.response.is_closed


def test_stream_run_errors_before_streaming(fake: FakeServer) -> None:
    fake.on("GET", "/v1/runs/r/stream", Reply(404, {"error": "Run not found"}))
    with EClipsClient(api_key=KEY, base_url=fake.base_url) as client:
        with pytest.raises(eclips.NotFoundError, match="Run not found"):
            client.stream_run("r")


def test_stream_with_bad_data(fake: FakeServer) -> None:
    fake.on("GET", "/v1/runs/r/stream", Reply(200, chunks=[b"data: not json\n\n"]))
    with EClipsClient(api_key=KEY, base_url=fake.base_url) as client:
        with pytest.raises(eclips.APIResponseValidationError):
            list(client.stream_run("r"))


@pytest.mark.anyio
async def test_async_stream_run(fake: FakeServer) -> None:
    fake.on("GET", "/v1/runs/r/stream", Reply(200, chunks=[b": ping\n\n", event(DONE)]))
    async with AsyncEClipsClient(api_key=KEY, base_url=fake.base_url) as client:
        stream = await client.stream_run("r")
        assert [e.status async for e in stream] == ["completed"]


# -- JSON Lines -----------------------------------------------------------------------------


def test_batch_results_stream_json_lines(fake: FakeServer) -> None:
    rows = m.BATCH_DETAIL["rows"]
    body = b"".join(json.dumps(r).encode() + b"\n" for r in rows) + b"\n"
    fake.on(
        "GET",
        f"/v1/batches/{m.BATCH_ID}/results",
        Reply(200, headers={"Content-Type": "application/x-ndjson"}, chunks=[body[:30], body[30:]]),
    )
    with EClipsClient(api_key=KEY, base_url=fake.base_url) as client:
        results = list(client.get_batch_results(m.BATCH_ID))
    assert [(r.row_index, r.status) for r in results] == [(0, "completed"), (1, "running")]
    assert results[0].result == {"approved": True}


@pytest.mark.anyio
async def test_async_batch_results(fake: FakeServer) -> None:
    line = json.dumps(m.BATCH_DETAIL["rows"][0]).encode() + b"\n"
    fake.on("GET", "/v1/batches/b/results", Reply(200, chunks=[line, line]))
    async with AsyncEClipsClient(api_key=KEY, base_url=fake.base_url) as client:
        stream = await client.get_batch_results("b")
        assert [r.row_index async for r in stream] == [0, 0]


# -- wait helpers ---------------------------------------------------------------------------


def run_in(status: str) -> Reply:
    return Reply(200, {"run": {"id": "r", "status": status}, "triage_item": None})


def batch_in(status: str, done: int) -> Reply:
    job = {"id": "b", "status": status, "total_rows": 3, "completed_rows": done, "failed_rows": 0}
    return Reply(200, {"job": job, "rows": []})


@pytest.mark.parametrize("final", ["completed", "failed", "cancelled", "awaiting_triage"])
def test_wait_for_run(fake: FakeServer, final: str) -> None:
    fake.on("GET", "/v1/runs/r", run_in("queued"), run_in("running"), run_in(final))
    with EClipsClient(api_key=KEY, base_url=fake.base_url) as client:
        run = client.wait_for_run("r", poll_interval=0.01)
    assert run.status == final
    assert len(fake.requests) == 3


def test_wait_for_run_times_out(fake: FakeServer) -> None:
    fake.on("GET", "/v1/runs/r", run_in("running"))
    with EClipsClient(api_key=KEY, base_url=fake.base_url) as client:
        with pytest.raises(eclips.WaitTimeoutError, match="still running"):
            client.wait_for_run("r", poll_interval=0.05, timeout=0.2)
    assert isinstance(eclips.WaitTimeoutError(), TimeoutError)


def test_wait_for_batch_reports_progress(fake: FakeServer) -> None:
    fake.on(
        "GET",
        "/v1/batches/b",
        batch_in("pending", 0),
        batch_in("running", 2),
        batch_in("awaiting_triage", 2),
    )
    seen: list[tuple[str, int]] = []
    with EClipsClient(api_key=KEY, base_url=fake.base_url) as client:
        job = client.wait_for_batch(
            "b", poll_interval=0.01, on_progress=lambda j: seen.append((j.status, j.finished_rows))
        )
    assert job.status == "awaiting_triage"
    assert seen == [("pending", 0), ("running", 2), ("awaiting_triage", 2)]


def test_wait_for_batch_times_out(fake: FakeServer) -> None:
    fake.on("GET", "/v1/batches/b", batch_in("running", 1))
    with EClipsClient(api_key=KEY, base_url=fake.base_url) as client:
        with pytest.raises(eclips.WaitTimeoutError, match="1/3 rows"):
            client.wait_for_batch("b", poll_interval=0.05, timeout=0.15)


@pytest.mark.anyio
async def test_async_wait_helpers(fake: FakeServer) -> None:
    fake.on("GET", "/v1/runs/r", run_in("running"), run_in("completed"))
    fake.on("GET", "/v1/batches/b", batch_in("running", 1), batch_in("completed", 3))
    seen: list[int] = []

    async def progress(job: eclips.BatchDetail) -> None:
        seen.append(job.completed_rows)

    async with AsyncEClipsClient(api_key=KEY, base_url=fake.base_url) as client:
        assert (await client.wait_for_run("r", poll_interval=0.01)).status == "completed"
        job = await client.wait_for_batch("b", poll_interval=0.01, on_progress=progress)
    assert job.status == "completed"
    assert seen == [1, 3]
