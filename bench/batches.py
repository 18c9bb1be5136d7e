"""Figure 4: a 500-row batch of 1-second agents, wall time against one row's time."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.client import api, wait_until
from bench.config import Sizes
from bench.harness import Server

FINAL = {"completed", "failed", "cancelled", "awaiting_triage"}


def sleep_rows(n: int, seconds: float) -> list[dict[str, Any]]:
    return [{"task": f"bench row {i}", "data": {"seconds": seconds}} for i in range(n)]


async def create_batch(client: Any, rows: list[dict[str, Any]]) -> str:
    response = await client.post(
        "/v1/batches", json={"agent_type": "test_sleep", "rows": rows, "name": "bench"}
    )
    response.raise_for_status()
    return str(response.json()["job"]["id"])


def batch_wall(
    server: Server, sizes: Sizes, *, timeout: float = 120
) -> tuple[float, dict[str, Any]]:
    """Seconds from POST /v1/batches until the client sees the job final (or ``timeout``),
    and the job as last seen."""
    tenant = server.tenant()

    async def measure() -> tuple[float, dict[str, Any]]:
        async with api(server.base_url, tenant.key) as client:
            started = time.perf_counter()
            await create_batch(client, sleep_rows(sizes.batch_rows, sizes.batch_seconds))

            # The list holds only this job and, unlike GET /v1/batches/{id}, not its 500 rows.
            async def job() -> dict[str, Any]:
                response = await client.get("/v1/batches", params={"limit": 1})
                response.raise_for_status()
                return dict(response.json()["jobs"][0])

            last, _ = await wait_until(job, lambda j: j["status"] in FINAL, timeout=timeout)
            unseen = {"status": "unknown", "completed_rows": 0, "failed_rows": 0}
            return time.perf_counter() - started, last or unseen

    return asyncio.run(measure())
