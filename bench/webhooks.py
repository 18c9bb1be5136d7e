"""Figure 5: webhook deliveries per second and event-to-first-attempt latency."""

from __future__ import annotations

import asyncio
import time

from bench.client import api, noop_run, submit_runs, timestamp
from bench.config import Sizes
from bench.harness import Server
from bench.receiver import Receiver
from bench.report import Report, percentile

NOT_AVAILABLE = "not available"


def deliveries(server: Server, report: Report, backend: str, sizes: Sizes) -> None:
    n = sizes.webhook_runs
    section = f"5 Webhooks: run.completed for {n} no-op runs to a loopback receiver"
    labels = [
        ("deliveries/s, first to last arrival", "/s"),
        ("event created_at -> first attempt p50", "ms"),
        ("event created_at -> first attempt p99", "ms"),
        ("deliveries received", ""),
    ]
    tenant = server.tenant()
    with Receiver() as receiver:

        async def measure() -> str | None:
            async with api(server.base_url, tenant.key) as client:
                hook = await client.post(
                    "/v1/webhooks", json={"url": receiver.url, "events": ["run.completed"]}
                )
                if hook.status_code != 201:
                    return f"POST /v1/webhooks answered {hook.status_code}: {hook.text[:200]}"
                await submit_runs(client, n, concurrency=sizes.client_concurrency, body=noop_run)
            # Wait while deliveries keep arriving; stop after 15 s without progress.
            seen, quiet_since = 0, time.monotonic()
            while receiver.count() < n and time.monotonic() - quiet_since < 15:
                await asyncio.sleep(0.1)
                if receiver.count() > seen:
                    seen, quiet_since = receiver.count(), time.monotonic()
            return None

        problem = asyncio.run(measure())
        arrivals = receiver.snapshot()

    firsts: dict[str, float] = {}
    lags: list[float] = []
    for arrival in arrivals:
        event_id = str(arrival.payload.get("id"))
        if event_id in firsts or "created_at" not in arrival.payload:
            continue
        firsts[event_id] = arrival.at
        lags.append((arrival.at - timestamp(arrival.payload["created_at"])) * 1000)
    if problem or not firsts:
        for label, unit in labels:
            report.unavailable(section, label, unit, backend, NOT_AVAILABLE)
        report.note(f"{backend}: webhooks not available: {problem or 'nothing was delivered'}")
        return
    times = sorted(firsts.values())
    span = times[-1] - times[0]
    report.set(section, labels[0][0], "/s", backend, (len(times) - 1) / span if span else None)
    report.set(section, labels[1][0], "ms", backend, percentile(lags, 50))
    report.set(section, labels[2][0], "ms", backend, percentile(lags, 99))
    report.set(section, labels[3][0], "", backend, float(len(firsts)))
    if len(firsts) < n:
        report.note(f"{backend}: only {len(firsts)} of {n} webhook events arrived")
