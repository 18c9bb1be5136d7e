"""Figures 1 and 2: no-op runs end to end, and enqueue-to-start latency at a steady rate."""

from __future__ import annotations

import asyncio
import time

from bench.client import (
    all_runs,
    api,
    count_finished,
    noop_run,
    submit_runs,
    timestamp,
    wait_until,
)
from bench.config import Sizes
from bench.harness import Server
from bench.report import Report, percentile


def end_to_end(server: Server, report: Report, backend: str, sizes: Sizes) -> None:
    section = (
        f"1 End-to-end no-op runs: {sizes.e2e_runs} POSTed, {sizes.client_concurrency} in "
        f"flight, worker concurrency {sizes.worker_concurrency}"
    )
    tenant = server.tenant()
    cpu_before = server.cpu_seconds()

    async def measure() -> tuple[float, float, int, int]:
        async with api(server.base_url, tenant.key) as client:
            started = time.perf_counter()
            sent = await submit_runs(
                client, sizes.e2e_runs, concurrency=sizes.client_concurrency, body=noop_run
            )
            if sent.errors:
                report.note(f"{backend}: {len(sent.errors)} POST errors, e.g. {sent.errors[0]}")
            counts, _ = await wait_until(
                lambda: count_finished(client),
                lambda counts: sum(counts) >= len(sent.run_ids),
                timeout=sizes.e2e_timeout,
                interval=0.2,
            )
            wall = time.perf_counter() - started
            completed, failed = counts or (0, 0)
            return wall, sent.seconds, completed, failed

    wall, post_seconds, completed, failed = asyncio.run(measure())
    cpu_after = server.cpu_seconds()
    report.set(section, "runs/s, first POST to all completed", "runs/s", backend, completed / wall)
    report.set(
        section,
        "POST /v1/run rate while the worker runs",
        "req/s",
        backend,
        sizes.e2e_runs / post_seconds,
    )
    if cpu_before is not None and cpu_after is not None and completed:
        report.set(
            section,
            "server CPU per run (API + worker)",
            "ms",
            backend,
            (cpu_after - cpu_before) * 1000 / completed,
        )
    if completed < sizes.e2e_runs or failed:
        report.note(
            f"{backend}: figure 1 saw {completed}/{sizes.e2e_runs} completed, "
            f"{failed} failed within {sizes.e2e_timeout:g} s"
        )


def enqueue_to_start(server: Server, report: Report, backend: str, sizes: Sizes) -> None:
    rate, seconds = sizes.latency_rate, sizes.latency_seconds
    n = int(rate * seconds)
    section = f"2 Enqueue-to-start latency: no-op runs at a steady {rate:g}/s for {seconds:g} s"
    tenant = server.tenant()

    async def measure() -> list[dict[str, object]]:
        async with api(server.base_url, tenant.key) as client:
            start = time.perf_counter()
            posts = []
            # Open loop: submissions keep their schedule whatever the server's answer time.
            for i in range(n):
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                posts.append(asyncio.create_task(client.post("/v1/run", json=noop_run(i))))
            answers = await asyncio.gather(*posts)
            accepted = sum(1 for a in answers if a.status_code == 202)
            await wait_until(
                lambda: count_finished(client),
                lambda counts: sum(counts) >= accepted,
                timeout=60,
                interval=0.2,
            )
            return await all_runs(client)

    runs = asyncio.run(measure())
    waits = [
        (timestamp(str(r["started_at"])) - timestamp(str(r["created_at"]))) * 1000
        for r in runs
        if r.get("started_at")
    ]
    whole = [
        (timestamp(str(r["completed_at"])) - timestamp(str(r["created_at"]))) * 1000
        for r in runs
        if r.get("completed_at")
    ]
    report.set(section, "created_at -> started_at p50", "ms", backend, percentile(waits, 50))
    report.set(section, "created_at -> started_at p99", "ms", backend, percentile(waits, 99))
    report.set(section, "created_at -> completed_at p50", "ms", backend, percentile(whole, 50))
    report.set(section, "created_at -> completed_at p99", "ms", backend, percentile(whole, 99))
    early = sum(1 for wait in waits if wait < 0)
    report.set(section, "runs with started_at before created_at", "", backend, float(early))
    if len(waits) < n:
        report.note(f"{backend}: figure 2 measured {len(waits)} of {n} runs")
