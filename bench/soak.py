"""Figure 7: a soak on PostgreSQL as a fleet runs it: the API (``serve --no-worker``) and
two ``eclips worker`` processes under a steady open-loop stream of ``POST /v1/run``.

Three questions: does throughput drift as the minutes pass, what does the tail of
``POST /v1/run`` latency do meanwhile, and once the load stops, did every accepted run
reach a terminal state, charged exactly once, with no 5xx on the way?
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import textwrap
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from tests.support.server import PG_ADMIN_DSN, Process

from bench.client import all_runs, api, count_runs, get_json, timestamp, wait_until
from bench.config import Sizes
from bench.harness import Server, cpu_seconds, eclips_server, fresh_database, rss_mb, workers
from bench.report import Report, fmt, percentile

BACKEND = "postgresql"
TERMINAL = ("completed", "failed", "cancelled")
UNSETTLED = ("queued", "running")
# Charged when the agent's work ends: completed, or handed to triage (see usage/service.py).
CHARGED = ("completed", "awaiting_triage")
# Each soak run costs this (test_noop and test_sleep keep Agent.credits_per_run).
CREDITS_PER_RUN = 1
# The team plan includes 50,000 credits; a soak that could need more uses the unlimited one.
TEAM_CREDITS = 50_000
POST_TIMEOUT = 30.0


def section(sizes: Sizes, seconds: float) -> str:
    low, high = sizes.soak_sleep_range
    return (
        f"7 Soak (PostgreSQL only): API --no-worker + {sizes.soak_workers} workers "
        f"(concurrency 32 each), POST /v1/run open loop {sizes.soak_rate:g}/s for {seconds:g} s "
        f"over {sizes.soak_connections} connections, half test_noop, half test_sleep "
        f"{low:g}-{high:g} s"
    )


def soak_body(i: int, rng: random.Random, sleep_range: tuple[float, float]) -> dict[str, Any]:
    if i % 2 == 0:
        return {"agent_type": "test_noop", "task": f"soak no-op {i}", "data": {"i": i}}
    seconds = round(rng.uniform(*sleep_range), 3)
    return {"agent_type": "test_sleep", "task": f"soak sleep {i}", "data": {"seconds": seconds}}


@dataclass
class Post:
    """One ``POST /v1/run`` as the client saw it. Times are from its scheduled send: it may
    wait there for one of the connections (open loop: the schedule does not wait for the
    server), then spends ``wire_ms`` on the connection until the answer."""

    at: float  # scheduled send, seconds after the load began
    late: float  # how far behind that schedule the client's loop got to it, seconds
    ms: float = math.nan  # scheduled send -> answer (or failure): the response time
    wire_ms: float = math.nan  # connection taken -> answer: the server's share
    on_wire: float = math.nan  # when it took a connection, seconds after the load began
    status: int | None = None  # None: no answer (time-out, dropped, or never sent)
    run_id: str | None = None
    error: str | None = None


@dataclass
class Sample:
    """What the processes had spent when a slice ended (``at`` seconds into the load)."""

    at: float
    api_cpu: float | None
    worker_cpu: float | None
    pg_cpu: float | None
    api_rss: float | None
    worker_rss: float | None
    client_cpu: float


@dataclass
class Load:
    started: float  # epoch seconds, for the server's timestamps
    posts: list[Post]
    samples: list[Sample]
    drained: bool
    drain_seconds: float
    runs: list[dict[str, Any]]
    usage: dict[str, Any]
    ledger_charges: int
    server_errors: Counter[str] = field(default_factory=Counter)


class PgBackends:
    """CPU of the PostgreSQL backends serving one database (their pids from
    ``pg_stat_activity``, their time from ``/proc``), summed from one sample to the next: a
    backend that exits between two samples loses its last share. Nothing when PostgreSQL is
    not a local process."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.conn: asyncpg.Connection | None = None
        self.seen: dict[int, float] = {}
        self.total = 0.0

    async def open(self) -> None:
        with contextlib.suppress(OSError, asyncpg.PostgresError):
            self.conn = await asyncpg.connect(PG_ADMIN_DSN)

    async def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                await self.conn.close()

    async def cpu(self) -> float | None:
        if self.conn is None:
            return None
        try:
            rows = await self.conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1", self.database
            )
        except (OSError, asyncpg.PostgresError):
            return None
        now: dict[int, float] = {}
        for row in rows:
            pid = int(row["pid"])
            if _comm(pid) != "postgres":
                continue  # a pid of another machine's (or container's) PostgreSQL
            spent = cpu_seconds(pid)
            if spent is not None:
                now[pid] = spent
        if not now:
            return None
        self.total += sum(spent - self.seen.get(pid, 0.0) for pid, spent in now.items())
        self.seen = now
        return self.total


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _sum(values: list[float | None]) -> float | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def soak(root: Path, report: Report, sizes: Sizes) -> None:
    """The whole figure: a fresh database, the API and its workers, the load, the checks."""
    with (
        fresh_database(BACKEND, root) as (url, tmp),
        eclips_server(BACKEND, url, tmp, worker=False) as server,
        workers(server, sizes.soak_workers) as fleet,
    ):
        runs = sizes.soak_rate * sizes.soak_seconds
        tenant = server.tenant("team" if runs < TEAM_CREDITS * 0.9 else "unlimited")
        database = url.rsplit("/", 1)[1]
        load = asyncio.run(drive(server, fleet, tenant.key, database, sizes))
        logs = {"API": server.process.log} | {f"worker {i + 1}": p.log for i, p in enumerate(fleet)}
    # Read once the processes have stopped, so their logs are complete.
    summarise(load, report, sizes, log_problems(logs))


async def drive(
    server: Server, fleet: list[Process], key: str, database: str, sizes: Sizes
) -> Load:
    rate, seconds = sizes.soak_rate, sizes.soak_seconds
    n = int(rate * seconds)
    slices = slice_count(sizes)
    length = seconds / slices
    rng = random.Random(7)
    bodies = [soak_body(i, rng, sizes.soak_sleep_range) for i in range(n)]
    api_pid = server.pid
    worker_pids = [p.proc.pid for p in fleet if p.proc is not None]
    pg = PgBackends(database)
    await pg.open()
    server_errors: Counter[str] = Counter()

    async def count_5xx(response: httpx.Response) -> None:
        if response.status_code >= 500:
            server_errors[f"{response.request.method} {response.status_code}"] += 1

    async def sample(at: float) -> Sample:
        return Sample(
            at=at,
            api_cpu=cpu_seconds(api_pid),
            worker_cpu=_sum([cpu_seconds(pid) for pid in worker_pids]),
            pg_cpu=await pg.cpu(),
            api_rss=rss_mb(api_pid),
            worker_rss=_sum([rss_mb(pid) for pid in worker_pids]),
            client_cpu=time.process_time(),
        )

    try:
        async with api(server.base_url, key, connections=sizes.soak_connections) as client:
            client.event_hooks["response"].append(count_5xx)
            # Connections open and caches warm before the clock starts (a no-op run each).
            await asyncio.gather(
                *(
                    client.post("/v1/run", json=soak_body(0, rng, sizes.soak_sleep_range))
                    for _ in range(sizes.soak_connections)
                )
            )

            gate = asyncio.Semaphore(sizes.soak_connections)
            closed = False

            async def one(i: int, due: float) -> Post:
                post = Post(at=due - began, late=time.perf_counter() - due)
                async with gate:
                    if closed:
                        post.error = "never sent: still waiting for a connection at the end"
                        return post
                    on_wire = time.perf_counter()
                    post.on_wire = on_wire - began
                    try:
                        response = await client.post(
                            "/v1/run", json=bodies[i], timeout=POST_TIMEOUT
                        )
                    except httpx.HTTPError as exc:
                        post.error = f"{type(exc).__name__}: {exc}"[:200]
                    else:
                        post.status = response.status_code
                        if response.status_code == 202:
                            post.run_id = str(response.json()["run_id"])
                        else:
                            post.error = f"HTTP {response.status_code}: {response.text[:200]}"
                answered = time.perf_counter()
                post.ms, post.wire_ms = (answered - due) * 1000, (answered - on_wire) * 1000
                return post

            samples: list[Sample] = []

            async def sampler() -> None:
                for k in range(slices + 1):
                    delay = began + k * length - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    samples.append(await sample(time.perf_counter() - began))

            started = time.time()
            began = time.perf_counter()
            sampling = asyncio.create_task(sampler())
            tasks = []
            # Open loop: each POST leaves at its time, whatever the answers before it did.
            for i in range(n):
                due = began + i / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(i, due)))
            # A server that cannot keep up leaves POSTs waiting for a connection: they get a
            # grace period, then are dropped unsent (and counted), so the soak stays bounded.
            await asyncio.wait(tasks, timeout=sizes.soak_backlog_grace)
            closed = True
            posts = list(await asyncio.gather(*tasks))
            answered = time.perf_counter()
            await sampling

            async def unsettled() -> int:
                counts = await asyncio.gather(*(count_runs(client, s) for s in UNSETTLED))
                return sum(counts)

            _, drained = await wait_until(
                unsettled, lambda left: left == 0, timeout=sizes.soak_drain_timeout, interval=0.25
            )
            drain_seconds = time.perf_counter() - answered
            runs = await all_runs(client)
            usage = await get_json(client, "/v1/usage")
            members = await get_json(client, "/v1/usage/members")
    finally:
        await pg.close()
    # Every charge is one ledger row (unique per run); /members counts them per member.
    charges = sum(int(m["runs"]) for m in members["data"])
    return Load(
        started, posts, samples, drained, drain_seconds, runs, usage, charges, server_errors
    )


def slice_count(sizes: Sizes) -> int:
    """Slices of about ``soak_slice_seconds``, at least two (a drift needs two ends)."""
    return max(2, round(sizes.soak_seconds / sizes.soak_slice_seconds))


def log_problems(logs: dict[str, Path]) -> list[str]:
    """ERROR, WARNING and traceback lines in the processes' logs, per process."""
    found = []
    for name, path in logs.items():
        try:
            lines = path.read_text(errors="replace").splitlines()
        except OSError:
            continue
        counts = Counter()
        first: dict[str, str] = {}
        for line in lines:
            for kind in ("ERROR", "WARNING", "Traceback"):
                if line.startswith(kind) or (kind == "Traceback" and "Traceback (most" in line):
                    counts[kind] += 1
                    first.setdefault(kind, line.strip()[:160])
        for kind, count in counts.items():
            found.append(f"{name} log: {count} {kind} line(s), first: {first[kind]}")
    return found


def summarise(load: Load, report: Report, sizes: Sizes, problems: list[str]) -> None:
    figure = Figure(report, section(sizes, sizes.soak_seconds))
    rows = slice_rows(load, sizes)
    report_course(load, figure, sizes, rows)
    report_nothing_lost(load, figure, sizes)
    slices = slice_count(sizes)
    report.block(slice_table(rows, slices, sizes.soak_seconds / slices))
    late = max((p.late for p in load.posts), default=0.0)
    if late > 0.25:
        figure.note(
            f"the client fell behind its schedule by up to {late:.2f} s (a busy machine: "
            "the offered rate sagged)"
        )
    for problem in problems:
        figure.note(problem)


@dataclass
class Figure:
    """Figure 7's rows: PostgreSQL's column only."""

    report: Report
    title: str

    def set(self, label: str, unit: str, value: float | None) -> None:
        self.report.set(self.title, label, unit, BACKEND, value)

    def text(self, label: str, text: str) -> None:
        self.report.text(self.title, label, BACKEND, text)

    def note(self, text: str) -> None:
        self.report.note(f"{BACKEND}: soak: {text}")


def _since(load: Load, run: dict[str, Any], key: str) -> float:
    """When ``run[key]`` happened, seconds after the load began (-1 if it did not)."""
    value = run.get(key)
    return timestamp(str(value)) - load.started if value else -1.0


def _start_ms(run: dict[str, Any]) -> float:
    return (timestamp(str(run["started_at"])) - timestamp(str(run["created_at"]))) * 1000


def slice_rows(load: Load, sizes: Sizes) -> list[dict[str, Any]]:
    slices = slice_count(sizes)
    length = sizes.soak_seconds / slices
    rows = []
    for k in range(slices):
        lo, hi = k * length, (k + 1) * length
        # Response times by when the POST was due, the rest by when it went on the wire.
        due = [p.ms for p in load.posts if lo <= p.at < hi and p.status is not None]
        sent = [p for p in load.posts if lo <= p.on_wire < hi]
        wire = [p.wire_ms for p in sent if p.status is not None]
        done = sum(
            1
            for r in load.runs
            if r["status"] == "completed" and lo <= _since(load, r, "completed_at") < hi
        )
        waits = [
            _start_ms(r)
            for r in load.runs
            if r.get("started_at") and lo <= _since(load, r, "created_at") < hi
        ]
        before = load.samples[k]
        after = load.samples[k + 1] if k + 1 < len(load.samples) else None
        rows.append(
            {
                "slice": f"{lo:.0f}-{hi:.0f} s",
                "accepted/s": sum(1 for p in sent if p.status == 202) / length,
                "completed/s": done / length,
                "wire p50": percentile(wire, 50),
                "wire p99": percentile(wire, 99),
                "wire max": max(wire) if wire else None,
                "response p99": percentile(due, 99),
                "start p99": percentile(waits, 99),
                "API CPU/POST": _per(before, after, "api_cpu", len(sent)),
                "worker CPU/run": _per(before, after, "worker_cpu", done),
                "PG CPU/run": _per(before, after, "pg_cpu", len(sent)),
                "API RSS": after.api_rss if after else None,
                "workers RSS": after.worker_rss if after else None,
            }
        )
    return rows


def report_course(load: Load, figure: Figure, sizes: Sizes, rows: list[dict[str, Any]]) -> None:
    """Throughput and its drift, POST latency, and what the load cost each process."""
    posts = load.posts
    accepted = sum(1 for p in posts if p.status == 202)
    sent = sum(1 for p in posts if not math.isnan(p.on_wire))
    figure.text(
        "POST /v1/run due / sent / accepted (202)", f"{len(posts):,} / {sent:,} / {accepted:,}"
    )
    rate, seconds = sizes.soak_rate, sizes.soak_seconds
    figure.set(f"accepted runs/s (offered: {rate:g}/s)", "runs/s", accepted / seconds)
    first, last = rows[0], rows[-1]
    figure.set(f"completed runs/s, first slice ({first['slice']})", "runs/s", first["completed/s"])
    figure.set(f"completed runs/s, last slice ({last['slice']})", "runs/s", last["completed/s"])
    if first["completed/s"]:
        figure.set(
            "drift: last slice / first slice", "x", last["completed/s"] / first["completed/s"]
        )
    # The same drift in CPU per run, which a busy machine disturbs far less than rates.
    cost_first, cost_last = _cost(first), _cost(last)
    if cost_first and cost_last is not None:
        figure.set("drift of CPU per run (API + workers + PostgreSQL)", "x", cost_last / cost_first)
    answered = [p for p in posts if p.status is not None]
    wire = [p.wire_ms for p in answered]
    figure.set("POST /v1/run latency on the wire p50", "ms", percentile(wire, 50))
    figure.set("POST /v1/run latency on the wire p99", "ms", percentile(wire, 99))
    figure.set("POST /v1/run latency on the wire max", "ms", max(wire) if wire else None)
    worst = max(rows, key=lambda r: _num(r["wire p99"]))
    figure.set(f"  p99 on the wire, worst slice ({worst['slice']})", "ms", worst["wire p99"])
    response = [p.ms for p in answered]
    label = "POST /v1/run response time from its schedule"
    figure.set(f"{label} p99", "ms", percentile(response, 99))
    figure.set(f"{label} max", "ms", max(response) if response else None)
    during = [r for r in load.runs if r.get("started_at") and _since(load, r, "created_at") >= 0]
    figure.set(
        "run created_at -> started_at p99", "ms", percentile(list(map(_start_ms, during)), 99)
    )
    start, end = load.samples[0], load.samples[-1]
    done = sum(
        1
        for r in load.runs
        if r["status"] == "completed" and 0 <= _since(load, r, "completed_at") < end.at
    )
    figure.set("server CPU per POST (API process)", "ms", _per(start, end, "api_cpu", sent))
    figure.set("worker CPU per run (both workers)", "ms", _per(start, end, "worker_cpu", done))
    figure.set("PostgreSQL CPU per run (its backends)", "ms", _per(start, end, "pg_cpu", sent))
    span = end.at - start.at
    client = (end.client_cpu - start.client_cpu) / span * 100 if span else None
    figure.set("bench client CPU during the load", "% core", client)
    for name, key in (("API", "api_rss"), ("workers", "worker_rss")):
        a, z = getattr(start, key), getattr(end, key)
        if a is not None and z is not None:
            figure.text(f"{name} resident memory, start -> end of load", f"{a:.0f} -> {z:.0f} MiB")


def report_nothing_lost(load: Load, figure: Figure, sizes: Sizes) -> None:
    """After the drain: every accepted run terminal, every run charged exactly once (one
    ledger row per run charged, ``credits_charged`` matching its status, the org's
    ``credits_used`` their sum), and no 5xx to any request of the figure."""
    by_id = {str(r["id"]): r for r in load.runs}
    accepted = {p.run_id for p in load.posts if p.status == 202 and p.run_id}
    # The org also holds the warm-up runs: charges are checked over all its runs.
    statuses = Counter(str(r["status"]) for r in load.runs)
    missing = accepted - by_id.keys()
    not_terminal = sorted(i for i in accepted & by_id.keys() if by_id[i]["status"] not in TERMINAL)
    left = sum(statuses[s] for s in UNSETTLED)
    charged = sum(statuses[s] for s in CHARGED)
    credits_used = int(load.usage["credits_used"])
    wrong = [
        r
        for r in load.runs
        if int(r.get("credits_charged") or 0) != (CREDITS_PER_RUN if r["status"] in CHARGED else 0)
    ]
    charged_once = (
        credits_used == charged * CREDITS_PER_RUN and load.ledger_charges == charged and not wrong
    )
    fives = sum(load.server_errors.values())

    label = "drain: last POST answered -> none queued or running"
    if load.drained:
        figure.set(label, "s", load.drain_seconds)
    else:
        limit = f"> {sizes.soak_drain_timeout:g} s"
        figure.report.unavailable(figure.title, label, "s", BACKEND, limit)
    counts = " / ".join(f"{statuses[s]:,}" for s in (*TERMINAL, "awaiting_triage"))
    figure.text("runs after the drain: completed / failed / cancelled / triage", counts)
    figure.text("left queued or running", f"{left:,}")
    figure.text("accepted runs missing from GET /v1/runs", f"{len(missing):,}")
    figure.text(
        "credits_used / ledger charges / runs charged",
        f"{credits_used:,} / {load.ledger_charges:,} / {charged:,}",
    )
    figure.text("5xx answers (any request of the figure)", f"{fives:,}")
    lost = missing or not_terminal or left or not charged_once or fives or not load.drained
    figure.text("nothing lost (all of the above)", "NO: see the notes" if lost else "yes")

    refused = [p for p in load.posts if p.status != 202]
    if refused:
        kinds = Counter((p.error or "")[:60] for p in refused).most_common(3)
        figure.note(
            f"{len(refused)} POSTs not accepted: " + "; ".join(f"{n} x {k}" for k, n in kinds)
        )
    if fives:
        figure.note(f"5xx answers by request: {dict(load.server_errors)}")
    if missing:
        figure.note(f"{len(missing)} accepted runs are not listed, e.g. {sorted(missing)[0]}")
    if not_terminal:
        first = not_terminal[0]
        figure.note(
            f"{len(not_terminal)} accepted runs not terminal after the drain, e.g. {first} "
            f"({by_id[first]['status']})"
        )
    if statuses["failed"]:
        why = Counter(
            str(r.get("error_message"))[:80] for r in load.runs if r["status"] == "failed"
        )
        figure.note(f"{statuses['failed']} runs failed: {why.most_common(2)}")
    unanswered = len(by_id.keys() - accepted) - sizes.soak_connections  # less the warm-up runs
    if unanswered > 0:
        figure.note(f"{unanswered} runs exist whose POST got no 202 (a time-out after the INSERT)")
    if not charged_once:
        figure.note(
            f"charges do not add up: credits_used {credits_used}, ledger charges "
            f"{load.ledger_charges}, runs charged {charged}, {len(wrong)} runs whose "
            "credits_charged does not match their status"
        )


def _per(before: Sample | None, after: Sample | None, key: str, count: int) -> float | None:
    """Milliseconds of ``key``'s CPU per item between two samples."""
    if before is None or after is None or not count:
        return None
    a, z = getattr(before, key), getattr(after, key)
    if a is None or z is None:
        return None
    return float(z - a) * 1000 / count


def _cost(row: dict[str, Any]) -> float | None:
    """A slice's CPU milliseconds per run, API, workers and PostgreSQL together."""
    parts = [row["API CPU/POST"], row["worker CPU/run"], row["PG CPU/run"]]
    return None if any(part is None for part in parts) else sum(parts)


def _num(value: float | None) -> float:
    return -1.0 if value is None or math.isnan(value) else value


SLICE_COLUMNS = [
    ("slice", ""),
    ("accepted/s", ""),
    ("completed/s", ""),
    ("wire p50", "ms"),
    ("wire p99", "ms"),
    ("wire max", "ms"),
    ("response p99", "ms"),
    ("start p99", "ms"),
    ("API CPU/POST", "ms"),
    ("worker CPU/run", "ms"),
    ("PG CPU/run", "ms"),
    ("API RSS", "MiB"),
    ("workers RSS", "MiB"),
]


def slice_table(rows: list[dict[str, Any]], slices: int, length: float) -> str:
    """Figure 7 slice by slice: the table holds the whole load, this its course."""
    cells = [[name + (f" {unit}" if unit else "") for name, unit in SLICE_COLUMNS]]
    for row in rows:
        line = []
        for name, _unit in SLICE_COLUMNS:
            value = row[name]
            if isinstance(value, str):
                line.append(value)
            elif value is None or math.isnan(value):
                line.append("n/a")
            else:
                line.append(fmt(value, ""))
        cells.append(line)
    widths = [max(len(c[i]) for c in cells) for i in range(len(SLICE_COLUMNS))]
    legend = (
        f"7 Soak (PostgreSQL), {slices} slices of {length:g} s. accepted/s, wire (latency on "
        "the connection) and CPU per POST (API, PostgreSQL) count POSTs by when they went on "
        "the wire; response p99 (from the POST's scheduled time, waiting for a connection "
        "included) by when it was due; completed/s and worker CPU per run by completed_at; "
        "start p99 (created_at -> started_at) by created_at; RSS at the slice's end."
    )
    out = textwrap.wrap(legend, width=100)
    for c in cells:
        rest = [x.rjust(w) for x, w in zip(c[1:], widths[1:], strict=True)]
        out.append("  " + "  ".join([c[0].ljust(widths[0]), *rest]))
    return "\n".join(out)
