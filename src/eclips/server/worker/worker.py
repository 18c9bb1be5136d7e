"""The worker loop: claim runs, execute them concurrently, heartbeat, rescue, shut down cleanly.

At-least-once execution, exactly-once effects: a claim takes a lease that heartbeats extend;
the rescuer puts runs whose lease expired back in the queue (or fails them after
``max_attempts``); finishing is fenced on the claim, so a late duplicate changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eclips.server.agents.base import LanguageModel
from eclips.server.agents.registry import AgentRegistry
from eclips.server.batches.counters import mark_started
from eclips.server.db.models import Run
from eclips.server.db.session import TRANSIENT_ERRORS
from eclips.server.queue import repository as queue
from eclips.server.queue.signals import (
    CHANGED_CHANNEL,
    QUEUED_CHANNEL,
    RunSignals,
    notify,
    wait_any,
)
from eclips.server.queue.status import BATCH_LANE, INTERACTIVE_LANE, RunStatus
from eclips.server.runs import transitions
from eclips.server.runs.transitions import Finish
from eclips.server.settings import Settings
from eclips.server.triage.expiry import expire_pending
from eclips.server.worker.runner import RunExecution

log = logging.getLogger(__name__)


@dataclass
class _InFlight:
    run: Run
    execution: RunExecution
    task: asyncio.Task[None]


class Worker:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        registry: AgentRegistry,
        signals: RunSignals,
        settings: Settings,
        llm: LanguageModel | None = None,
        background: list[Callable[[asyncio.Event], Coroutine[Any, Any, None]]] | None = None,
        after_finish: Callable[[], None] | None = None,
    ) -> None:
        self.worker_id = f"w-{uuid.uuid4().hex[:12]}"
        self._sessions = sessions
        self._registry = registry
        self._signals = signals
        self._settings = settings
        self._llm = llm
        self._background = background or []
        self._after_finish = after_finish
        self._inflight: dict[uuid.UUID, _InFlight] = {}
        self._slot_freed = asyncio.Event()

    @property
    def running(self) -> int:
        return len(self._inflight)

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set, then finish or release in-flight runs."""
        log.info("worker %s started (concurrency %d)", self.worker_id, self._concurrency)
        helpers = [
            asyncio.create_task(self._watch(stop), name="eclips-watch"),
            asyncio.create_task(self._rescue(stop), name="eclips-rescue"),
            *(asyncio.create_task(job(stop)) for job in self._background),
        ]
        try:
            await self._claim_loop(stop)
        finally:
            await self._drain()
            for helper in helpers:
                helper.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            log.info("worker %s stopped", self.worker_id)

    @property
    def _concurrency(self) -> int:
        return self._settings.worker_concurrency

    async def _claim_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            free = self._concurrency - len(self._inflight)
            if free <= 0:
                self._slot_freed.clear()
                await wait_any(stop, self._slot_freed, timeout=self._settings.poll_interval_seconds)
                continue
            # Cleared before claiming: a run that finishes from here on wakes the wait below,
            # so rows held back by the batch share start as soon as a slot frees up.
            self._signals.queued.clear()
            self._slot_freed.clear()
            try:
                claimed = await self._claim(free)
            except TRANSIENT_ERRORS as exc:
                log.warning("claim failed, retrying: %s", exc)
                await wait_any(stop, timeout=self._settings.poll_interval_seconds)
                continue
            except Exception:
                # A bug must not stop the worker for good: log it loudly and go on.
                log.exception("claim failed unexpectedly, retrying")
                await wait_any(stop, timeout=self._settings.poll_interval_seconds)
                continue
            for run in claimed:
                self._start(run)
            if len(claimed) < free:
                await wait_any(
                    stop,
                    self._signals.queued,
                    self._slot_freed,
                    timeout=self._settings.poll_interval_seconds,
                )

    async def _claim(self, limit: int) -> list[Run]:
        """Interactive runs first; batch rows only up to their share of the slots."""
        batch_slots = max(1, int(self._concurrency * self._settings.batch_share))
        batch_running = sum(1 for i in self._inflight.values() if i.run.batch_id is not None)
        lease = self._settings.lease_seconds
        async with self._sessions.begin() as session:
            runs = list(
                await queue.claim(
                    session,
                    worker_id=self.worker_id,
                    lane=INTERACTIVE_LANE,
                    limit=limit,
                    lease_seconds=lease,
                )
            )
            runs += await queue.claim(
                session,
                worker_id=self.worker_id,
                lane=BATCH_LANE,
                limit=min(limit - len(runs), batch_slots - batch_running),
                lease_seconds=lease,
            )
            batch_ids = {run.batch_id for run in runs if run.batch_id is not None}
            await mark_started(session, batch_ids)
            if runs:
                await notify(session, CHANGED_CHANNEL)
        if runs:
            self._signals.run_changed()
        return runs

    def _start(self, run: Run) -> None:
        execution = RunExecution(
            run,
            sessions=self._sessions,
            registry=self._registry,
            worker_id=self.worker_id,
            llm=self._llm,
        )
        task = asyncio.create_task(self._execute(run, execution), name=f"eclips-run-{run.id}")
        self._inflight[run.id] = _InFlight(run, execution, task)

    async def _execute(self, run: Run, execution: RunExecution) -> None:
        try:
            finish = await execution.execute()
            await self._finish(run, finish)
        except asyncio.CancelledError:
            pass  # cancelled by the API, lost its lease, or shut down: nothing to write
        except TRANSIENT_ERRORS as exc:
            log.warning(
                "run %s interrupted by the database (%s); the rescuer re-runs it", run.id, exc
            )
        except Exception:
            log.exception("recording run %s failed; the rescuer will retry it", run.id)
        finally:
            self._inflight.pop(run.id, None)
            self._slot_freed.set()

    async def _finish(self, run: Run, finish: Finish) -> None:
        """Commit the outcome; while the database is away, keep trying until the lease ends."""
        deadline = time.monotonic() + self._settings.lease_seconds
        delay = 0.2
        while True:
            try:
                async with self._sessions.begin() as session:
                    kept = await transitions.finish_by_worker(
                        session, run, worker_id=self.worker_id, finish=finish
                    )
                break
            except TRANSIENT_ERRORS as exc:
                if time.monotonic() > deadline:
                    log.error("could not record run %s, leaving it to the rescuer: %s", run.id, exc)
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        if not kept:
            log.info("run %s was taken from this worker; its outcome is dropped", run.id)
        self._signals.run_changed()
        if self._after_finish is not None:
            self._after_finish()

    async def _watch(self, stop: asyncio.Event) -> None:
        """Extend leases, and stop runs that were cancelled or taken away."""
        beat_every = self._settings.lease_seconds / 3
        last_beat = time.monotonic()
        while not stop.is_set():
            await wait_any(stop, timeout=min(1.0, beat_every))
            ids = list(self._inflight)
            if not ids:
                continue
            try:
                async with self._sessions.begin() as session:
                    if time.monotonic() - last_beat >= beat_every:
                        await queue.heartbeat(
                            session,
                            worker_id=self.worker_id,
                            run_ids=ids,
                            lease_seconds=self._settings.lease_seconds,
                        )
                        last_beat = time.monotonic()
                    gone = await queue.stopped_among(session, worker_id=self.worker_id, run_ids=ids)
            except TRANSIENT_ERRORS as exc:
                log.warning("heartbeat failed: %s", exc)
                continue
            except Exception:
                log.exception("heartbeat failed unexpectedly")
                continue
            for run_id in gone:
                inflight = self._inflight.get(run_id)
                if inflight is not None:
                    inflight.execution.cancelled.set()
                    inflight.task.cancel()

    async def _rescue(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await wait_any(stop, timeout=self._settings.rescue_interval_seconds)
            try:
                await rescue_expired(self._sessions, max_attempts=self._settings.max_attempts)
                await expire_pending(self._sessions)
            except TRANSIENT_ERRORS as exc:
                log.warning("rescue failed: %s", exc)
            except Exception:
                log.exception("rescue failed unexpectedly")

    async def _drain(self) -> None:
        """Graceful shutdown: let runs finish within the grace period, release the rest."""
        if not self._inflight:
            return
        tasks = [i.task for i in self._inflight.values()]
        _done, pending = await asyncio.wait(tasks, timeout=self._settings.shutdown_grace_seconds)
        if not pending:
            return
        left = [run_id for run_id, i in self._inflight.items() if i.task in pending]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        with contextlib.suppress(*TRANSIENT_ERRORS):
            async with self._sessions.begin() as session:
                await queue.release(session, worker_id=self.worker_id, run_ids=left)
            log.info("released %d unfinished runs back to the queue", len(left))


async def rescue_expired(sessions: async_sessionmaker[AsyncSession], *, max_attempts: int) -> int:
    """Requeue runs whose worker stopped heartbeating; fail those out of attempts."""
    async with sessions.begin() as session:
        expired = await queue.expired_leases(session)
        retry = [run.id for run in expired if run.attempts < max_attempts]
        await queue.requeue(session, retry)
        for run in expired:
            if run.attempts >= max_attempts:
                await transitions.move(
                    session,
                    run,
                    RunStatus.FAILED,
                    error=f"Run abandoned: its worker was lost {run.attempts} times",
                )
        if retry:
            await notify(session, QUEUED_CHANNEL)
    if expired:
        log.warning("rescued %d runs (%d requeued)", len(expired), len(retry))
    return len(expired)
