"""The bench's side of the wire: async httpx helpers to submit, count and wait."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx


def api(base_url: str, key: str | None, *, connections: int = 100) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.AsyncClient(
        base_url=base_url,
        headers=headers,
        timeout=httpx.Timeout(120),
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


def noop_run(i: int) -> dict[str, Any]:
    return {"agent_type": "test_noop", "task": f"bench no-op {i}", "data": {"i": i}}


@dataclass
class Submitted:
    run_ids: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


async def submit_runs(
    client: httpx.AsyncClient, n: int, *, concurrency: int, body: Callable[[int], dict[str, Any]]
) -> Submitted:
    """POST ``n`` runs with at most ``concurrency`` requests in flight."""
    out = Submitted()
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            response = await client.post("/v1/run", json=body(i))
        if response.status_code == 202:
            out.run_ids.append(response.json()["run_id"])
        else:
            out.errors.append(f"HTTP {response.status_code}: {response.text[:200]}")

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    out.seconds = time.perf_counter() - started
    return out


async def get_json(client: httpx.AsyncClient, url: str, **params: Any) -> Any:
    """GET with a few retries: a server under load may answer 503 for a moment."""
    for attempt in range(5):
        try:
            response = await client.get(url, params=params)
            response.raise_for_status()
            return response.json()
        except httpx.HTTPError:
            if attempt == 4:
                raise
            await asyncio.sleep(0.5)
    raise AssertionError("unreachable")


async def count_runs(client: httpx.AsyncClient, status: str) -> int:
    page = await get_json(client, "/v1/runs", status=status, limit=1)
    return int(page["total"])


async def count_finished(client: httpx.AsyncClient) -> tuple[int, int]:
    """Runs completed and runs failed (a no-op run ends in one of them)."""
    completed, failed = await asyncio.gather(
        count_runs(client, "completed"), count_runs(client, "failed")
    )
    return completed, failed


async def wait_until(
    probe: Callable[[], Awaitable[Any]],
    done: Callable[[Any], bool],
    *,
    timeout: float,
    interval: float = 0.1,
) -> tuple[Any, bool]:
    """Poll ``probe`` until ``done(value)``; returns the last value and whether it was met."""
    deadline = time.monotonic() + timeout
    value = None
    while True:
        try:
            value = await probe()
        except httpx.HTTPError:
            pass  # a 503 or a dropped connection under load: look again
        else:
            if done(value):
                return value, True
        if time.monotonic() > deadline:
            return value, False
        await asyncio.sleep(interval)


async def all_runs(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Every run of the caller's organisation, a page of 100 at a time."""
    runs: list[dict[str, Any]] = []
    while True:
        page = await get_json(client, "/v1/runs", limit=100, offset=len(runs))
        runs.extend(page["data"])
        if len(page["data"]) < 100 or len(runs) >= page["total"]:
            return runs


def timestamp(value: str) -> float:
    """The API's ISO-8601 UTC timestamps (``...T12:00:00.123Z``) as epoch seconds."""
    return datetime.fromisoformat(value).timestamp()
