"""A real EClips server process for tests: ``eclips serve`` on SQLite or PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from eclips.server import bootstrap
from eclips.server.db.migrate import upgrade
from tests.support.agents import TEST_AGENT_CLASSES

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_DSN = os.environ.get("ECLIPS_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def database(backend: str, tmp: Path) -> Iterator[str]:
    """A fresh, migrated database; PostgreSQL ones are dropped afterwards."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'eclips.db'}"
        asyncio.run(upgrade(url))
        yield url
        return
    name = f"eclips_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{base}/{name}"
    try:
        asyncio.run(upgrade(url))
        yield url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def server_env(database_url: str, **overrides: Any) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "ECLIPS_DATABASE_URL": database_url,
            "ECLIPS_AGENT_CLASSES": json.dumps(TEST_AGENT_CLASSES),
            "ECLIPS_WEBHOOKS_ALLOW_PRIVATE": "true",
            "ECLIPS_WEBHOOK_RETRY_SCALE": "0.002",
            "ECLIPS_POLL_INTERVAL_SECONDS": "0.2",
            # Tests poll hard; the limiter stays on, out of their way (see test_rate_limits).
            "ECLIPS_RATE_LIMIT": "100000/minute",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update({f"ECLIPS_{k.upper()}": str(v) for k, v in overrides.items()})
    return env


@dataclass
class Process:
    """A child ``eclips`` process whose output goes to a log file."""

    args: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "eclips", *self.args],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return self

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 30) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class LiveServer:
    """A running server; each test makes its own organisation with ``new_key``."""

    backend: str
    database_url: str
    base_url: str
    tmp: Path
    processes: list[Process] = field(default_factory=list)

    def new_org(self, plan: str = "team") -> str:
        name = f"org-{uuid.uuid4().hex[:12]}"
        asyncio.run(bootstrap.create_org(name=name, plan=plan, database_url=self.database_url))
        return name

    def new_key(
        self, scopes: list[str] | None = None, *, org: str | None = None, plan: str = "team"
    ) -> str:
        org = org or self.new_org(plan)
        key = asyncio.run(
            bootstrap.create_key(
                org=org, member=None, scopes=scopes or [], database_url=self.database_url
            )
        )
        return str(key["key"])

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)

    def worker(self, **overrides: Any) -> Process:
        """An extra ``eclips worker`` process against the same database."""
        log = self.tmp / f"worker-{len(self.processes)}.log"
        process = Process(["worker"], server_env(self.database_url, **overrides), log).start()
        self.processes.append(process)
        return process


def start_server(
    backend: str, database_url: str, tmp: Path, *, worker: bool = True, **overrides: Any
) -> tuple[LiveServer, Process]:
    port = free_port()
    args = ["serve", "--port", str(port)] + ([] if worker else ["--no-worker"])
    process = Process(args, server_env(database_url, **overrides), tmp / "server.log").start()
    server = LiveServer(backend, database_url, f"http://127.0.0.1:{port}", tmp)
    wait_healthy(server.base_url, process)
    return server, process


def wait_healthy(base_url: str, process: Process, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.proc is not None
        if process.proc.poll() is not None:
            raise RuntimeError(f"server exited:\n{process.log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{base_url}/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not start:\n{process.log.read_text()[-4000:]}")


def wait_for(predicate: Any, timeout: float = 30, interval: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {value!r})")
        time.sleep(interval)
