"""Wake-ups: tell workers a run is queued and streams that a run changed.

In one process an ``asyncio.Event`` does it; across processes on PostgreSQL the same
transaction that writes the change sends ``NOTIFY``, delivered only if it commits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)

QUEUED_CHANNEL = "eclips_run_queued"
CHANGED_CHANNEL = "eclips_run_changed"


async def notify(session: AsyncSession, channel: str, payload: str = "") -> None:
    """Send NOTIFY inside the caller's transaction (PostgreSQL only; SQLite is one process)."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": channel, "payload": payload}
        )


class RunSignals:
    """In-process events, fed also by LISTEN on PostgreSQL."""

    def __init__(self) -> None:
        self.queued = asyncio.Event()
        self.changed = asyncio.Event()
        self._connection: asyncpg.Connection | None = None

    def run_queued(self) -> None:
        self.queued.set()

    def run_changed(self) -> None:
        self.changed.set()

    async def listen(self, database_url: str) -> None:
        """Subscribe to the NOTIFY channels; a lost connection degrades to polling."""
        url = make_url(database_url)
        if url.get_backend_name() != "postgresql":
            return
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            self._connection = await asyncpg.connect(dsn)
            await self._connection.add_listener(QUEUED_CHANNEL, self._on_queued)
            await self._connection.add_listener(CHANGED_CHANNEL, self._on_changed)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("LISTEN unavailable, falling back to polling: %s", exc)
            self._connection = None

    async def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()
            self._connection = None

    def _on_queued(self, *_args: object) -> None:
        self.queued.set()

    def _on_changed(self, *_args: object) -> None:
        self.changed.set()


async def wait_any(*events: asyncio.Event | None, timeout: float | None) -> None:
    """Return when any event is set or after ``timeout`` seconds."""
    waiters = [asyncio.ensure_future(e.wait()) for e in events if e is not None]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
