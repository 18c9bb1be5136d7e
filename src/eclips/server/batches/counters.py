"""Exact batch counters: every row transition adjusts them in the row's own transaction.

The increments are single UPDATE statements, so concurrent workers on PostgreSQL serialize
on the job's row lock and never lose an update.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from eclips.server.db.models import BatchJob
from eclips.server.db.types import utcnow
from eclips.server.queue.status import RunStatus

_COUNTER = {
    RunStatus.COMPLETED: "completed_rows",
    RunStatus.FAILED: "failed_rows",
    RunStatus.AWAITING_TRIAGE: "triage_rows",
    RunStatus.CANCELLED: "cancelled_rows",
}


class BatchStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    AWAITING_TRIAGE = "awaiting_triage"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


OPEN_STATUSES = (BatchStatus.PENDING, BatchStatus.RUNNING)
FINISHED_STATUSES = (BatchStatus.COMPLETED, BatchStatus.FAILED, BatchStatus.CANCELLED)


@dataclass(frozen=True)
class RowTransition:
    """What a row's move did to its job: the job's webhook_url, and whether it finished."""

    webhook_url: str | None
    job_finished: bool


async def record_row_transition(
    session: AsyncSession, batch_id: uuid.UUID, old: RunStatus, new: RunStatus
) -> RowTransition:
    """Move one row between counters, and the job's status with them."""
    values: dict[str, object] = {}
    if old in _COUNTER:
        values[_COUNTER[old]] = getattr(BatchJob, _COUNTER[old]) - 1
    if new in _COUNTER:
        values[_COUNTER[new]] = getattr(BatchJob, _COUNTER[new]) + 1
    if not values:
        webhook_url = await session.scalar(
            select(BatchJob.webhook_url).where(BatchJob.id == batch_id)
        )
        return RowTransition(webhook_url, job_finished=False)
    row = (
        await session.execute(
            update(BatchJob)
            .where(BatchJob.id == batch_id)
            .values(**values)
            .returning(
                BatchJob.status,
                BatchJob.total_rows,
                BatchJob.completed_rows,
                BatchJob.failed_rows,
                BatchJob.triage_rows,
                BatchJob.cancelled_rows,
                BatchJob.webhook_url,
            )
        )
    ).one()
    status, total, completed, failed, triage, cancelled, webhook_url = row
    new_status = _derive(status, total, completed, failed, triage, cancelled)
    if new_status == status:
        return RowTransition(webhook_url, job_finished=False)
    finished = new_status in FINISHED_STATUSES
    await session.execute(
        update(BatchJob)
        .where(BatchJob.id == batch_id)
        .values(status=new_status, completed_at=utcnow() if finished else None)
    )
    return RowTransition(webhook_url, job_finished=finished)


def _derive(
    status: str, total: int, completed: int, failed: int, triage: int, cancelled: int
) -> str:
    if status == BatchStatus.CANCELLED:
        return status
    if completed + failed + triage + cancelled < total:
        return BatchStatus.RUNNING if status != BatchStatus.PENDING else status
    if triage:
        return BatchStatus.AWAITING_TRIAGE
    if failed == total:
        return BatchStatus.FAILED
    return BatchStatus.COMPLETED


async def mark_started(session: AsyncSession, batch_ids: set[uuid.UUID]) -> None:
    if not batch_ids:
        return
    await session.execute(
        update(BatchJob)
        .where(BatchJob.id.in_(batch_ids), BatchJob.status == BatchStatus.PENDING)
        .values(status=BatchStatus.RUNNING, started_at=utcnow())
    )
