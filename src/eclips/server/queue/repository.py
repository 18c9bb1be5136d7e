"""Claim, lease, heartbeat and rescue: the run row is the queue entry."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from eclips.server.db.models import Run
from eclips.server.db.types import utcnow
from eclips.server.queue.status import RunStatus


async def claim(
    session: AsyncSession, *, worker_id: str, lane: int, limit: int, lease_seconds: float
) -> Sequence[Run]:
    """Take up to ``limit`` queued runs of one lane; SKIP LOCKED lets many workers claim at
    once. Batch rows go by row index first, so concurrent batches take turns."""
    if limit <= 0:
        return []
    now = utcnow()
    # A CTE, not ``IN (subquery)``: PostgreSQL may re-run an IN-subquery per row, and with
    # SKIP LOCKED each run picks new rows, so one claim could take far more than ``limit``.
    # A CTE that locks rows is evaluated exactly once.
    picked = (
        select(Run.id)
        .where(Run.status == RunStatus.QUEUED, Run.queue_lane == lane)
        .order_by(Run.priority_rank.desc(), Run.row_index, Run.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("picked")
    )
    result = await session.scalars(
        update(Run)
        .where(Run.id == picked.c.id, Run.status == RunStatus.QUEUED)
        .values(
            status=RunStatus.RUNNING,
            worker_id=worker_id,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            attempts=Run.attempts + 1,
            # Never before created_at: the API stamps that before it waits for the database.
            started_at=func.coalesce(
                Run.started_at, case((Run.created_at > now, Run.created_at), else_=now)
            ),
            updated_at=now,
            version=Run.version + 1,
        )
        .returning(Run)
        .execution_options(synchronize_session=False)
    )
    return result.all()


async def heartbeat(
    session: AsyncSession, *, worker_id: str, run_ids: Sequence[uuid.UUID], lease_seconds: float
) -> None:
    if not run_ids:
        return
    await session.execute(
        update(Run)
        .where(Run.id.in_(run_ids), Run.worker_id == worker_id, Run.status == RunStatus.RUNNING)
        .values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )


async def stopped_among(
    session: AsyncSession, *, worker_id: str, run_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    """Runs this worker holds that were cancelled or taken away from it."""
    if not run_ids:
        return []
    still_mine = await session.scalars(
        select(Run.id).where(
            Run.id.in_(run_ids), Run.worker_id == worker_id, Run.status == RunStatus.RUNNING
        )
    )
    mine = set(still_mine.all())
    return [run_id for run_id in run_ids if run_id not in mine]


async def release(session: AsyncSession, *, worker_id: str, run_ids: Sequence[uuid.UUID]) -> None:
    """Give runs back to the queue at once (graceful shutdown)."""
    if not run_ids:
        return
    await session.execute(
        update(Run)
        .where(Run.id.in_(run_ids), Run.worker_id == worker_id, Run.status == RunStatus.RUNNING)
        .values(
            status=RunStatus.QUEUED,
            worker_id=None,
            lease_expires_at=None,
            attempts=Run.attempts - 1,
            progress=[],
            updated_at=utcnow(),
            version=Run.version + 1,
        )
        .execution_options(synchronize_session=False)
    )


async def expired_leases(session: AsyncSession, *, limit: int = 500) -> Sequence[Run]:
    """Running runs whose worker stopped heartbeating, locked for the rescuer."""
    result = await session.scalars(
        select(Run)
        .where(Run.status == RunStatus.RUNNING, Run.lease_expires_at < utcnow())
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return result.all()


async def requeue(session: AsyncSession, run_ids: Sequence[uuid.UUID]) -> None:
    if not run_ids:
        return
    await session.execute(
        update(Run)
        .where(Run.id.in_(run_ids), Run.status == RunStatus.RUNNING)
        .values(
            status=RunStatus.QUEUED,
            worker_id=None,
            lease_expires_at=None,
            progress=[],
            updated_at=utcnow(),
            version=Run.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
