"""Every change of a run's status, with all its effects in the caller's transaction.

Finishing a run writes its status, triage item, ledger charge and batch counters
together, fenced on the worker that holds it, so a second execution changes nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from eclips.server.batches import events as batch_events
from eclips.server.batches.counters import record_row_transition
from eclips.server.db.models import Run, TriageItem
from eclips.server.db.types import utcnow
from eclips.server.queue.signals import CHANGED_CHANNEL, notify
from eclips.server.queue.status import TERMINAL, RunStatus
from eclips.server.runs.repository import triage_item_for_run
from eclips.server.runs.schemas import RunDetail
from eclips.server.usage.service import charge
from eclips.server.webhooks import outbox


@dataclass(frozen=True)
class Finish:
    """How a worker ends a run."""

    status: RunStatus
    output: dict[str, Any] | None = None
    confidence: float | None = None
    error: str | None = None
    triage_reason: str | None = None
    reference: str | None = None

    @property
    def charged(self) -> bool:
        return self.status in (RunStatus.COMPLETED, RunStatus.AWAITING_TRIAGE)


async def finish_by_worker(
    session: AsyncSession, run: Run, *, worker_id: str, finish: Finish
) -> bool:
    """Apply the outcome if this worker still holds the run; False if it lost it."""
    now = utcnow()
    result = await session.execute(
        update(Run)
        .where(
            Run.id == run.id,
            Run.worker_id == worker_id,
            Run.attempts == run.attempts,
            Run.status == RunStatus.RUNNING,
        )
        .values(
            status=finish.status,
            output=finish.output,
            confidence_score=finish.confidence,
            error_message=finish.error,
            requires_triage=finish.status == RunStatus.AWAITING_TRIAGE,
            reference=finish.reference,
            credits_charged=run.credits if finish.charged else 0,
            lease_expires_at=None,
            completed_at=now if finish.status in TERMINAL else None,
            updated_at=now,
            version=Run.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        return False
    if finish.status == RunStatus.AWAITING_TRIAGE:
        session.add(
            TriageItem(
                org_id=run.org_id,
                run_id=run.id,
                status="pending",
                triage_reason=finish.triage_reason or "Needs review",
            )
        )
    if finish.charged:
        await charge(session, run)
    await _after_transition(session, run, RunStatus.RUNNING, finish.status)
    return True


async def move(
    session: AsyncSession,
    run: Run,
    new: RunStatus,
    *,
    output: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    """A status change made by the API or the rescuer on a run the caller has locked."""
    old = RunStatus(run.status)
    now = utcnow()
    values: dict[str, Any] = {
        "status": new,
        "updated_at": now,
        "version": Run.version + 1,
        "requires_triage": new == RunStatus.AWAITING_TRIAGE,
    }
    if new in TERMINAL:
        values["completed_at"] = now
        values["lease_expires_at"] = None
    if output is not None:
        values["output"] = output
    if error is not None:
        values["error_message"] = error
    await session.execute(
        update(Run)
        .where(Run.id == run.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    await _after_transition(session, run, old, new)


_EVENTS = {
    RunStatus.COMPLETED: outbox.RUN_COMPLETED,
    RunStatus.FAILED: outbox.RUN_FAILED,
    RunStatus.AWAITING_TRIAGE: outbox.RUN_TRIAGE_REQUIRED,
    RunStatus.CANCELLED: outbox.RUN_CANCELLED,
}


async def _after_transition(
    session: AsyncSession, run: Run, old: RunStatus, new: RunStatus
) -> None:
    """Batch counters, outbox events and wake-ups, in the transaction of the change."""
    urls = [run.webhook_url] if run.webhook_url else []
    job_finished = False
    if run.batch_id is not None:
        moved = await record_row_transition(session, run.batch_id, old, new)
        urls += [moved.webhook_url] if moved.webhook_url else []
        job_finished = moved.job_finished
    await publish(session, run, new, extra_urls=urls)
    if job_finished and run.batch_id is not None:
        await batch_events.record_batch_completed(session, run.batch_id)
    await notify(session, CHANGED_CHANNEL, str(run.id))


async def publish(
    session: AsyncSession, run: Run, status: RunStatus, *, extra_urls: list[str]
) -> None:
    """Write the run's webhook event for ``status`` (if it has one) to the outbox."""
    event = _EVENTS.get(status)
    if event is None:
        return
    fresh = await session.get(Run, run.id, populate_existing=True)
    data = RunDetail.of(fresh or run).model_dump(mode="json")
    if status == RunStatus.AWAITING_TRIAGE:
        # The receiver learns why a human is needed without another API call.
        item = await triage_item_for_run(session, run.id)
        if item is not None:
            data["triage_item_id"] = str(item.id)
            data["triage_reason"] = item.triage_reason
    await outbox.record_event(
        session, org_id=run.org_id, event_type=event, data=data, extra_urls=extra_urls
    )
