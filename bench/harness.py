"""Servers for the bench: real ``eclips serve`` processes (through the test harness) and
the bare ASGI app, each on a fresh database, with their CPU time read from ``/proc``."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.server import (
    ROOT,
    LiveServer,
    Process,
    database,
    free_port,
    server_env,
    start_server,
    wait_healthy,
)

from eclips.server import bootstrap

# The test harness shrinks these for speed; the bench measures the shipped defaults.
PRODUCTION_DEFAULTS: dict[str, Any] = {"poll_interval_seconds": 1.0, "webhook_retry_scale": 1.0}
# The per-key rate limit (600/minute by default) would cap every figure at 10 req/s; a
# limit never reached keeps its cost on the request path without its refusals.
RATE_LIMIT = "1000000/minute"
# Runs still in flight when a server stops are not part of any figure: don't wait for them.
QUICK_STOP: dict[str, Any] = {"shutdown_grace_seconds": 1}


@dataclass
class Tenant:
    org_id: uuid.UUID
    key: str


@dataclass
class Server:
    """A running ``eclips serve`` (or the bare app) and what the bench needs from it."""

    base_url: str
    database_url: str
    process: Process
    live: LiveServer | None = None

    @property
    def pid(self) -> int:
        assert self.process.proc is not None
        return self.process.proc.pid

    def cpu_seconds(self) -> float | None:
        return cpu_seconds(self.pid)

    def tenant(self, plan: str = "team") -> Tenant:
        """A fresh organisation and an all-scopes key, so each figure counts only its runs."""
        name = f"bench-{uuid.uuid4().hex[:10]}"
        org = asyncio.run(
            bootstrap.create_org(name=name, plan=plan, database_url=self.database_url)
        )
        key = asyncio.run(
            bootstrap.create_key(org=name, member=None, scopes=[], database_url=self.database_url)
        )
        return Tenant(uuid.UUID(org["id"]), str(key["key"]))

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.process.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def secrets_key() -> None:
    """One key for this run, shared by the bench and every server it starts (PostgreSQL
    deployments must set it; SQLite would otherwise write a key file per database)."""
    from cryptography.fernet import Fernet

    os.environ.setdefault("ECLIPS_SECRETS_KEY", Fernet.generate_key().decode())


@contextmanager
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="eclips-bench-") as tmp:
        yield Path(tmp)


@contextmanager
def fresh_database(backend: str, root: Path) -> Iterator[tuple[str, Path]]:
    """A migrated database of its own, and a directory for its servers' logs."""
    tmp = Path(tempfile.mkdtemp(prefix=f"{backend}-", dir=root))
    with database(backend, tmp) as url:
        yield url, tmp


@contextmanager
def eclips_server(
    backend: str, database_url: str, tmp: Path, *, worker: bool = True, **settings: Any
) -> Iterator[Server]:
    """``eclips serve`` (API and, unless ``worker=False``, the embedded worker)."""
    overrides = {**PRODUCTION_DEFAULTS, **QUICK_STOP, "rate_limit": RATE_LIMIT, **settings}
    logs = Path(tempfile.mkdtemp(prefix="serve-", dir=tmp))
    live, process = start_server(backend, database_url, logs, worker=worker, **overrides)
    try:
        yield Server(live.base_url, database_url, process, live)
    finally:
        process.stop()


@contextmanager
def bare_server(database_url: str, org_id: uuid.UUID, tmp: Path) -> Iterator[Server]:
    """The bare ASGI app of ``bench.bare``, served by uvicorn the way ``serve`` does."""
    port = free_port()
    env = server_env(database_url)
    env["BENCH_ORG_ID"] = str(org_id)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    log = Path(tempfile.mkdtemp(prefix="bare-", dir=tmp)) / "bare.log"
    process = Process(["--port", str(port)], env, log)
    with log.open("ab") as out:
        process.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.bare", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base_url, process)
        yield Server(base_url, database_url, process)
    finally:
        process.stop()


@contextmanager
def workers(
    server: Server, n: int, *, timeout: float = 60, **settings: Any
) -> Iterator[list[Process]]:
    """``n`` ``eclips worker`` processes on the server's database, each up and claiming (its
    "worker ... started" line logged) before this yields; stopped (SIGTERM) on the way out."""
    assert server.live is not None
    overrides = {**PRODUCTION_DEFAULTS, **QUICK_STOP, "rate_limit": RATE_LIMIT, **settings}
    started: list[Process] = []
    try:
        for _ in range(n):
            started.append(server.live.worker(**overrides))
        deadline = time.monotonic() + timeout
        for process in started:
            while "started (concurrency" not in _read(process.log):
                assert process.proc is not None
                if process.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"worker did not start:\n{_read(process.log)[-4000:]}")
                time.sleep(0.1)
        yield started
    finally:
        for process in started:
            process.stop()


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process in MiB (Linux ``/proc``; None elsewhere)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process so far (Linux ``/proc``; None elsewhere)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    # Fields 14 and 15 of proc(5), counted after "pid (comm)", which are fields 1 and 2.
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")
