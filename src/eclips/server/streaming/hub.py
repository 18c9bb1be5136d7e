"""One hub per API process: a single query loop feeds every SSE stream of the process.

Streams register the runs they watch; the hub re-reads all watched runs in one query when
woken (a change in this process, or NOTIFY from another on PostgreSQL) or on a short poll,
and wakes the streams whose run changed. Ten thousand streams cost one loop, not ten
thousand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eclips.server.db.models import Run
from eclips.server.queue.signals import RunSignals, wait_any
from eclips.server.queue.status import TERMINAL

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunSnapshot:
    """What a stream shows: the manual's event fields, plus the version that orders them."""

    status: str
    confidence: float | None
    result: dict[str, Any] | None
    error: str | None
    version: int
    progress: tuple[dict[str, Any], ...] = ()

    @classmethod
    def of(cls, run: Run) -> RunSnapshot:
        return cls(
            status=run.status,
            confidence=run.confidence_score,
            result=run.output,
            error=run.error_message,
            version=run.version,
            progress=tuple(run.progress or ()),
        )

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    def event(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "confidence": self.confidence,
            "result": self.result,
            "error": self.error,
            # Beyond the manual's four fields: every step the agent reported so far, so a
            # client that reconnects has missed nothing.
            "progress": list(self.progress),
        }


@dataclass(eq=False)
class Watch:
    snapshot: RunSnapshot
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_change(self, timeout: float) -> bool:
        """True when the run changed within ``timeout`` seconds."""
        try:
            await asyncio.wait_for(self._changed.wait(), timeout)
        except TimeoutError:
            return False
        self._changed.clear()
        return True


class RunHub:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        signals: RunSignals,
        *,
        poll_seconds: float,
    ) -> None:
        self._sessions = sessions
        self._signals = signals
        self._poll_seconds = poll_seconds
        self._watches: dict[uuid.UUID, set[Watch]] = {}
        self._has_watchers = asyncio.Event()

    @contextlib.asynccontextmanager
    async def watch(self, run_id: uuid.UUID, initial: RunSnapshot) -> AsyncIterator[Watch]:
        watch = Watch(initial)
        self._watches.setdefault(run_id, set()).add(watch)
        self._has_watchers.set()
        try:
            yield watch
        finally:
            watchers = self._watches.get(run_id)
            if watchers is not None:
                watchers.discard(watch)
                if not watchers:
                    del self._watches[run_id]

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if not self._watches:
                self._has_watchers.clear()
                await wait_any(stop, self._has_watchers, timeout=None)
                continue
            await wait_any(stop, self._signals.changed, timeout=self._poll_seconds)
            self._signals.changed.clear()
            try:
                await self.refresh()
            except Exception as exc:  # an outage must not end every stream of the process
                log.warning("stream hub could not read runs: %s", exc)
                await asyncio.sleep(self._poll_seconds)

    async def refresh(self) -> None:
        ids = list(self._watches)
        if not ids:
            return
        async with self._sessions() as session:
            runs = await session.scalars(select(Run).where(Run.id.in_(ids)))
            fresh = {run.id: RunSnapshot.of(run) for run in runs.all()}
        for run_id, snapshot in fresh.items():
            for watch in self._watches.get(run_id, ()):
                if snapshot.version != watch.snapshot.version:
                    watch.snapshot = snapshot
                    watch._changed.set()
