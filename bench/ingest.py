"""Figure 3: ``POST /v1/run`` against a bare ASGI app doing the same INSERT.

Both are hammered by the same client, with the same concurrency and duration, on the same
database; the EClips server runs without its worker so that only the request path is
measured (queued runs simply wait).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from bench.client import api, noop_run
from bench.config import Sizes
from bench.harness import Server, bare_server, eclips_server
from bench.report import Report, percentile


@dataclass
class Hammered:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    server_cpu: float | None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_ms_per_request(self) -> float | None:
        if self.server_cpu is None or not self.requests:
            return None
        return self.server_cpu * 1000 / self.requests


def hammer(server: Server, key: str | None, *, concurrency: int, seconds: float) -> Hammered:
    """``concurrency`` loops POSTing no-op runs for ``seconds`` after a short warm-up."""

    async def run() -> Hammered:
        async with api(server.base_url, key, connections=concurrency) as client:
            # Warm-up: connections open, caches and pools filled.
            await asyncio.gather(
                *(client.post("/v1/run", json=noop_run(i)) for i in range(concurrency * 2))
            )
            latencies: list[float] = []
            errors = 0
            cpu_before = server.cpu_seconds()
            start = time.perf_counter()
            deadline = start + seconds

            async def loop(worker: int) -> None:
                nonlocal errors
                i = 0
                while time.perf_counter() < deadline:
                    sent = time.perf_counter()
                    response = await client.post("/v1/run", json=noop_run(worker * 100_000 + i))
                    i += 1
                    if response.status_code == 202:
                        latencies.append((time.perf_counter() - sent) * 1000)
                    else:
                        errors += 1

            await asyncio.gather(*(loop(w) for w in range(concurrency)))
            elapsed = time.perf_counter() - start
            cpu_after = server.cpu_seconds()
            cpu = None
            if cpu_before is not None and cpu_after is not None:
                cpu = cpu_after - cpu_before
            return Hammered(len(latencies), errors, elapsed, latencies, cpu)

    return asyncio.run(run())


def post_vs_bare(backend: str, database_url: str, tmp: Path, report: Report, sizes: Sizes) -> None:
    c, s = sizes.ingest_concurrency, sizes.ingest_seconds
    section = f"3 POST /v1/run vs a bare ASGI app doing the same INSERT: {c} in flight, {s:g} s"
    with eclips_server(backend, database_url, tmp, worker=False) as server:
        tenant = server.tenant()
        ours = hammer(server, tenant.key, concurrency=c, seconds=s)
    with bare_server(database_url, tenant.org_id, tmp) as bare:
        floor = hammer(bare, None, concurrency=c, seconds=s)
    full = "POST /v1/run (auth, rate limit, credits, validation)"
    report.set(section, full, "req/s", backend, ours.rate)
    report.set(section, "bare ASGI app, same INSERT", "req/s", backend, floor.rate)
    report.set(section, "POST /v1/run / bare", "x", backend, ours.rate / floor.rate)
    for name, result in (("POST /v1/run", ours), ("bare", floor)):
        for pct in (50, 99):
            value = percentile(result.latencies_ms, pct)
            report.set(section, f"p{pct} latency {name}", "ms", backend, value)
    report.set(section, "server CPU per POST /v1/run", "ms", backend, ours.cpu_ms_per_request)
    report.set(section, "server CPU per bare insert", "ms", backend, floor.cpu_ms_per_request)
    for name, result in (("POST /v1/run", ours), ("bare app", floor)):
        if result.errors:
            report.note(f"{backend}: {result.errors} failed requests to the {name} in figure 3")
