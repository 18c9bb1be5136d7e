"""How big each measurement is; ``--quick`` shrinks them for a smoke run."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

# Override the soak's seconds of load and its rate (figure 7), e.g. for a longer soak by hand.
SOAK_SECONDS_ENV = "ECLIPS_BENCH_SOAK_SECONDS"
SOAK_RATE_ENV = "ECLIPS_BENCH_SOAK_RATE"


@dataclass(frozen=True)
class Sizes:
    client_concurrency: int = 32
    worker_concurrency: int = 64
    e2e_runs: int = 300
    e2e_timeout: float = 120.0
    latency_rate: float = 10.0
    latency_seconds: float = 10.0
    ingest_concurrency: int = 32
    ingest_seconds: float = 5.0
    batch_rows: int = 500
    batch_seconds: float = 1.0
    webhook_runs: int = 150
    sse_streams: int = 500
    sse_sleep: float = 10.0
    sse_hold: float = 10.0
    sse_open_timeout: float = 20.0
    fast_batch_timeout: float = 30.0
    default_batch_timeout: float = 60.0
    # Figures not yet started when this many seconds have passed are skipped.
    budget_seconds: float = 370.0
    # Figure 7, the soak, has a budget of its own, spent after the 370 s above: its seconds
    # of load, then at most its drain time-out (plus starting and stopping its processes).
    soak_seconds: float = 120.0
    soak_rate: float = 20.0
    soak_connections: int = 8
    soak_workers: int = 2
    soak_slice_seconds: float = 20.0
    soak_sleep_range: tuple[float, float] = (0.2, 1.0)
    soak_drain_timeout: float = 60.0
    # POSTs still waiting for a connection this long after the last was due are not sent.
    soak_backlog_grace: float = 10.0

    def quick(self) -> Sizes:
        return replace(
            self,
            e2e_runs=200,
            latency_seconds=3.0,
            ingest_seconds=2.0,
            batch_rows=100,
            webhook_runs=60,
            sse_streams=100,
            sse_hold=3.0,
            soak_seconds=40.0,
        )

    def from_env(self) -> Sizes:
        """``ECLIPS_BENCH_SOAK_SECONDS`` and ``ECLIPS_BENCH_SOAK_RATE`` (POSTs per second)
        override the soak's (``--quick`` included)."""
        sizes = self
        for name, attr, low, high in (
            (SOAK_SECONDS_ENV, "soak_seconds", 1.0, 24 * 3600.0),
            (SOAK_RATE_ENV, "soak_rate", 0.1, 1000.0),
        ):
            raw = os.environ.get(name, "").strip()
            if not raw:
                continue
            value = float(raw)
            if not low <= value <= high:
                raise ValueError(f"{name}={raw}: give a number from {low:g} to {high:g}")
            sizes = replace(sizes, **{attr: value})
        return sizes
