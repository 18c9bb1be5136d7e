"""``make bench``: every figure on SQLite and on PostgreSQL in one run, then one table; the
soak (figure 7, PostgreSQL) last, on a budget of its own."""

from __future__ import annotations

import argparse
import logging
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import batches, ingest, soak, streams, throughput, webhooks
from bench.config import SOAK_SECONDS_ENV, Sizes
from bench.harness import RATE_LIMIT, Server, eclips_server, fresh_database, secrets_key, workdir
from bench.report import BACKEND_NAMES, Report

BACKENDS = ("sqlite", "postgresql")
FAST_BATCH = "ECLIPS_WORKER_CONCURRENCY=500 ECLIPS_BATCH_SHARE=1"
DEFAULT_BATCH = "default concurrency 32, batch share 0.75"

Step = Callable[[Server, Report, str, Sizes], None]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "only",
        nargs="?",
        choices=["soak"],
        help="only this figure: soak is figure 7 alone, on PostgreSQL",
    )
    parser.add_argument("--backend", choices=BACKENDS, action="append", help="default: both")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, a smoke run")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    secrets_key()
    sizes = (Sizes().quick() if args.quick else Sizes()).from_env()
    if args.only == "soak":
        if args.backend and args.backend != ["postgresql"]:
            parser.error("the soak runs on PostgreSQL only")
        backends = ["postgresql"]
    else:
        backends = list(args.backend or BACKENDS)
    report = Report(backends)
    clock = Clock(time.monotonic(), sizes.budget_seconds / len(backends))
    with workdir() as root:
        if args.only is None:
            for backend in backends:
                _progress(f"{BACKEND_NAMES[backend]}:")
                clock.next_backend()
                measure_backend(backend, root, report, sizes, clock)
        # The soak comes last, on a budget of its own: the 370 s above is not its to spend,
        # nor it theirs.
        if "postgresql" in backends:
            measure_soak(root, report, sizes)
    print()
    print(header(sizes, time.monotonic() - clock.began))
    print()
    print(report.render())
    return 0


@dataclass
class Clock:
    """Keeps ``make bench`` bounded: each backend gets its share of the budget, and a figure
    not started within it is skipped (and says so) rather than run late."""

    began: float
    share: float
    deadline: float = 0.0

    def next_backend(self) -> None:
        # Time a backend leaves unused passes to the next one.
        self.deadline = max(self.deadline, self.began) + self.share

    def allows(self) -> bool:
        return time.monotonic() < self.deadline


def phases(sizes: Sizes) -> list[tuple[dict[str, Any], list[tuple[str, Step]]]]:
    """Servers in turn on one database, each with its settings and the figures it serves."""
    return [
        # The shipped defaults, except a worker with room for every run in flight.
        (
            {"worker_concurrency": sizes.worker_concurrency},
            [
                ("1 end-to-end no-op runs", throughput.end_to_end),
                ("2 enqueue-to-start latency", throughput.enqueue_to_start),
                ("5 webhooks", webhooks.deliveries),
            ],
        ),
        ({"worker_concurrency": 500, "batch_share": 1}, [("4 batch, " + FAST_BATCH, fast_batch)]),
        (
            {},
            [("4 batch, " + DEFAULT_BATCH, default_batch), ("6 SSE streams", streams.sse_streams)],
        ),
    ]


def measure_backend(backend: str, root: Path, report: Report, sizes: Sizes, clock: Clock) -> None:
    def failed(name: str, exc: Exception, server: Server | None = None) -> None:
        lines = [line for line in str(exc).splitlines() if line.strip()] or [""]
        # A server that would not start carries its whole log; its last line says why.
        reason = lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1].strip()}"
        report.note(f"{backend}: {name} could not be measured: {type(exc).__name__}: {reason}")
        traceback.print_exc(file=sys.stderr)
        if server is not None:
            print(server.log_tail(), file=sys.stderr)

    def skipped(name: str) -> None:
        _progress(f"  {name}: skipped, out of time")
        report.note(f"{backend}: {name} skipped: the time budget for {backend} was spent")

    # The queue of figure 3 is never worked off: a database of its own.
    name = "3 POST /v1/run vs bare insert"
    if clock.allows():
        _progress(f"  {name}")
        try:
            with fresh_database(backend, root) as (url, tmp):
                ingest.post_vs_bare(backend, url, tmp, report, sizes)
        except Exception as exc:
            failed(name, exc)
    else:
        skipped(name)
    with fresh_database(backend, root) as (url, tmp):
        for settings, steps in phases(sizes):
            if not clock.allows():
                for name, _ in steps:
                    skipped(name)
                continue
            try:
                with eclips_server(backend, url, tmp, **settings) as server:
                    for name, step in steps:
                        if not clock.allows():
                            skipped(name)
                            continue
                        _progress(f"  {name}")
                        try:
                            step(server, report, backend, sizes)
                        except Exception as exc:
                            failed(name, exc, server)
            except Exception as exc:
                failed(" and ".join(name for name, _ in steps), exc)


def measure_soak(root: Path, report: Report, sizes: Sizes) -> None:
    name = "7 soak"
    _progress(
        f"PostgreSQL soak: {sizes.soak_seconds:g} s of load ({SOAK_SECONDS_ENV} to change), "
        f"then up to {sizes.soak_drain_timeout:g} s of drain"
    )
    try:
        soak.soak(root, report, sizes)
    except Exception as exc:
        lines = [line for line in str(exc).splitlines() if line.strip()] or [""]
        reason = lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1].strip()}"
        report.note(f"postgresql: {name} could not be measured: {type(exc).__name__}: {reason}")
        traceback.print_exc(file=sys.stderr)


def fast_batch(server: Server, report: Report, backend: str, sizes: Sizes) -> None:
    _batch(server, report, backend, sizes, FAST_BATCH, sizes.fast_batch_timeout)


def default_batch(server: Server, report: Report, backend: str, sizes: Sizes) -> None:
    _batch(server, report, backend, sizes, DEFAULT_BATCH, sizes.default_batch_timeout)


def _batch(
    server: Server, report: Report, backend: str, sizes: Sizes, setting: str, timeout: float
) -> None:
    rows, seconds = sizes.batch_rows, sizes.batch_seconds
    section = f"4 Batch of {rows} rows of test_sleep {seconds:g} s (one row alone: {seconds:g} s)"
    wall, job = batches.batch_wall(server, sizes, timeout=timeout)
    if job["status"] not in batches.FINAL:
        for label, unit in ((f"wall, {setting}", "s"), (f"  / one row, {setting}", "x")):
            report.unavailable(section, label, unit, backend, f"> {timeout:g} s")
    else:
        report.set(section, f"wall, {setting}", "s", backend, wall)
        report.set(section, f"  / one row, {setting}", "x", backend, wall / seconds)
    report.set(section, f"  rows completed, {setting}", "", backend, float(job["completed_rows"]))
    if job["status"] != "completed" or job["failed_rows"]:
        report.note(
            f"{backend}: the batch of figure 4 ({setting}) was {job['status']} after "
            f"{wall:.0f} s, {job['completed_rows']} rows completed, {job['failed_rows']} failed"
        )


def header(sizes: Sizes, elapsed: float) -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = "?"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return "\n".join(
        [
            f"EClips bench  commit {commit or '?'}  Python {platform.python_version()}  "
            f"{os.cpu_count()} cores  load average {load}  took {elapsed:.0f} s",
            "Loopback only: client, server and database share the machine. Shipped defaults, "
            f"except: worker concurrency {sizes.worker_concurrency} for figures 1, 2 and 5;",
            f"ECLIPS_RATE_LIMIT={RATE_LIMIT} (never reached; the default 600/minute would cap "
            "every figure); ECLIPS_WEBHOOKS_ALLOW_PRIVATE=true. Measured, never asserted.",
            f"Figures 1-6 share a {sizes.budget_seconds:g} s budget; the soak (7) has its own: "
            f"{sizes.soak_seconds:g} s of load, at most {sizes.soak_drain_timeout:g} s of drain.",
        ]
    )


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
