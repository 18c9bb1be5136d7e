"""Figure 6: concurrent SSE streams served by one process, on runs that sleep."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.batches import create_batch, sleep_rows
from bench.client import all_runs, api, get_json, timestamp
from bench.config import Sizes
from bench.harness import Server
from bench.report import Report, percentile

TERMINAL = {"completed", "failed", "cancelled", "awaiting_triage"}


@dataclass
class Stream:
    run_id: str
    events: list[float] = field(default_factory=list)  # epoch seconds
    status: str | None = None
    error: str | None = None


async def follow(client: httpx.AsyncClient, stream: Stream) -> None:
    """Read a run's stream until its terminal event (or until cancelled)."""
    try:
        async with client.stream("GET", f"/v1/runs/{stream.run_id}/stream") as response:
            if response.status_code != 200:
                stream.error = f"HTTP {response.status_code}"
                return
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                stream.events.append(time.time())
                stream.status = json.loads(line[5:])["status"]
                if stream.status in TERMINAL:
                    return
    except httpx.HTTPError as exc:
        stream.error = type(exc).__name__


def sse_streams(server: Server, report: Report, backend: str, sizes: Sizes) -> None:
    n, sleep, hold = sizes.sse_streams, sizes.sse_sleep, sizes.sse_hold
    section = (
        f"6 SSE: {n} concurrent streams on a batch of {n} runs sleeping {sleep:g} s "
        f"(default worker), held {hold:g} s"
    )
    tenant = server.tenant()

    async def measure() -> tuple[list[Stream], list[dict[str, Any]], float, float | None, float]:
        async with api(server.base_url, tenant.key, connections=n + 10) as client:
            batch_id = await create_batch(client, sleep_rows(n, sleep))
            rows = (await get_json(client, f"/v1/batches/{batch_id}"))["rows"]
            streams = [Stream(str(row["id"])) for row in rows]
            started = time.perf_counter()
            tasks = [asyncio.create_task(follow(client, s)) for s in streams]
            while sum(1 for s in streams if s.events or s.error) < n:
                if time.perf_counter() - started > sizes.sse_open_timeout:
                    break
                await asyncio.sleep(0.05)
            opened = time.perf_counter() - started
            # Steady state: the streams are open and waiting; what do they cost the server?
            events_before = sum(len(s.events) for s in streams)
            cpu_before, t_before = server.cpu_seconds(), time.perf_counter()
            await asyncio.sleep(hold)
            cpu_after, t_after = server.cpu_seconds(), time.perf_counter()
            events = sum(len(s.events) for s in streams) - events_before
            cpu = None
            if cpu_before is not None and cpu_after is not None:
                cpu = (cpu_after - cpu_before) / (t_after - t_before) * 100
            for task in tasks:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*tasks, return_exceptions=True)
            # Leave the worker free for what follows.
            await client.post(f"/v1/batches/{batch_id}/cancel")
            return streams, await all_runs(client), opened, cpu, events / (t_after - t_before)

    streams, runs, opened, cpu, rate = asyncio.run(measure())
    completed_at = {
        str(r["id"]): timestamp(str(r["completed_at"]))
        for r in runs
        if r.get("completed_at") and r["status"] == "completed"
    }
    served = [s for s in streams if s.events]
    intervals = [b - a for s in streams for a, b in zip(s.events, s.events[1:], strict=False)]
    lag = [
        (s.events[-1] - completed_at[s.run_id]) * 1000
        for s in streams
        if s.status == "completed" and s.run_id in completed_at
    ]
    report.set(section, "streams served (at least one event)", "", backend, float(len(served)))
    report.set(section, "time until every stream had its first event", "s", backend, opened)
    report.set(
        section, "event interval p50 (setting: 2 s)", "s", backend, percentile(intervals, 50)
    )
    report.set(section, "event interval p99", "s", backend, percentile(intervals, 99))
    report.set(section, "events received while held", "/s", backend, rate)
    report.set(section, "server CPU while held (API + worker)", "% core", backend, cpu)
    report.set(
        section, "run completed_at -> its terminal event p50", "ms", backend, percentile(lag, 50)
    )
    report.set(
        section, "run completed_at -> its terminal event p99", "ms", backend, percentile(lag, 99)
    )
    errors = [s.error for s in streams if s.error]
    if errors:
        report.note(f"{backend}: {len(errors)} SSE streams failed, e.g. {errors[0]}")
