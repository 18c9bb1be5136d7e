from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from eclips.server.db.models import BatchJob, Run
from eclips.server.db.types import utcnow
from eclips.server.queue.status import RunStatus


async def insert_rows(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """All rows in one multi-row INSERT (SQLAlchemy's insertmanyvalues), not one per row."""
    await session.execute(insert(Run), rows)


async def get_for_org(
    session: AsyncSession, org_id: uuid.UUID, batch_id: uuid.UUID, *, lock: bool = False
) -> BatchJob | None:
    query = select(BatchJob).where(BatchJob.id == batch_id, BatchJob.org_id == org_id)
    if lock:
        query = query.with_for_update()
    found: BatchJob | None = await session.scalar(query)
    return found


async def list_for_org(
    session: AsyncSession, org_id: uuid.UUID, *, status: str | None, limit: int, offset: int
) -> Sequence[BatchJob]:
    query = select(BatchJob).where(BatchJob.org_id == org_id)
    if status is not None:
        query = query.where(BatchJob.status == status)
    rows = await session.scalars(
        query.order_by(BatchJob.created_at.desc(), BatchJob.id.desc()).limit(limit).offset(offset)
    )
    return rows.all()


async def rows_of(
    session: AsyncSession, batch_id: uuid.UUID, *, after: int = -1, limit: int | None = None
) -> Sequence[Run]:
    query = (
        select(Run)
        .where(Run.batch_id == batch_id, Run.row_index > after)
        .order_by(Run.row_index)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def cancel_unfinished_rows(session: AsyncSession, batch_id: uuid.UUID) -> list[Run]:
    """Queued and running rows become cancelled; running ones stop at their worker's next
    look (the worker's finish is fenced on status, so they are never charged)."""
    ids = (
        await session.scalars(
            select(Run.id)
            .where(Run.batch_id == batch_id, Run.status.in_([RunStatus.QUEUED, RunStatus.RUNNING]))
            .with_for_update()
        )
    ).all()
    if not ids:
        return []
    await session.execute(
        update(Run)
        .where(Run.id.in_(ids))
        .values(
            status=RunStatus.CANCELLED,
            error_message="Batch cancelled",
            lease_expires_at=None,
            completed_at=utcnow(),
            updated_at=utcnow(),
            version=Run.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return list((await session.scalars(select(Run).where(Run.id.in_(ids)))).all())


async def requeue_failed_rows(session: AsyncSession, batch_id: uuid.UUID) -> int:
    result = await session.execute(
        update(Run)
        .where(Run.batch_id == batch_id, Run.status == RunStatus.FAILED)
        .values(
            status=RunStatus.QUEUED,
            error_message=None,
            output=None,
            attempts=0,
            worker_id=None,
            started_at=None,
            completed_at=None,
            progress=[],
            updated_at=utcnow(),
            version=Run.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
