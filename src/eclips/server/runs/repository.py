from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from eclips.server.db.models import Run, TriageItem
from eclips.server.queue.status import RunStatus


async def get_for_org(
    session: AsyncSession, org_id: uuid.UUID, run_id: uuid.UUID, *, lock: bool = False
) -> Run | None:
    query = select(Run).where(Run.id == run_id, Run.org_id == org_id)
    if lock:
        query = query.with_for_update()
    found: Run | None = await session.scalar(query)
    return found


async def list_for_org(
    session: AsyncSession, org_id: uuid.UUID, *, status: str | None, limit: int, offset: int
) -> tuple[Sequence[Run], int]:
    where = [Run.org_id == org_id]
    if status is not None:
        where.append(Run.status == status)
    total = await session.scalar(select(func.count()).select_from(Run).where(*where)) or 0
    rows = await session.scalars(
        select(Run)
        .where(*where)
        .order_by(Run.created_at.desc(), Run.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return rows.all(), total


async def triage_item_for_run(session: AsyncSession, run_id: uuid.UUID) -> TriageItem | None:
    found: TriageItem | None = await session.scalar(
        select(TriageItem).where(TriageItem.run_id == run_id)
    )
    return found


async def ids_with_reference(
    session: AsyncSession, org_id: uuid.UUID, reference: str, *, exclude: uuid.UUID
) -> list[str]:
    rows = await session.scalars(
        select(Run.id)
        .where(
            Run.org_id == org_id,
            Run.reference == reference,
            Run.id != exclude,
            Run.status.not_in([RunStatus.FAILED, RunStatus.CANCELLED]),
        )
        .order_by(Run.created_at)
    )
    return [str(run_id) for run_id in rows.all()]


async def reserved_credits(session: AsyncSession, org_id: uuid.UUID) -> int:
    """Credits promised to runs that are accepted but not yet charged."""
    total = await session.scalar(
        select(func.coalesce(func.sum(Run.credits), 0)).where(
            Run.org_id == org_id, Run.status.in_([RunStatus.QUEUED, RunStatus.RUNNING])
        )
    )
    return int(total or 0)
