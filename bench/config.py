"""How big each measurement is; ``--quick`` shrinks them for a smoke run."""

from __future__ import annotations

from dataclasses import dataclass, replace


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
        )
