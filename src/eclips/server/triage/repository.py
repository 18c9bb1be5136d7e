from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from eclips.server.db.models import Run, TriageItem
from eclips.server.db.types import utcnow


async def pending_for_org(
    session: AsyncSession, org_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[Sequence[tuple[TriageItem, Run]], int]:
    where = [TriageItem.org_id == org_id, TriageItem.status == "pending"]
    total = await session.scalar(select(func.count()).select_from(TriageItem).where(*where)) or 0
    rows = await session.execute(
        select(TriageItem, Run)
        .join(Run, Run.id == TriageItem.run_id)
        .where(*where)
        .order_by(TriageItem.created_at.desc(), TriageItem.id)
        .limit(limit)
        .offset(offset)
    )
    return [(item, run) for item, run in rows.tuples().all()], total


async def get_for_org(
    session: AsyncSession, org_id: uuid.UUID, item_id: uuid.UUID
) -> TriageItem | None:
    found: TriageItem | None = await session.scalar(
        select(TriageItem)
        .where(TriageItem.id == item_id, TriageItem.org_id == org_id)
        .with_for_update()
    )
    return found


async def close_for_run(session: AsyncSession, run_id: uuid.UUID, *, status: str) -> None:
    await session.execute(
        update(TriageItem)
        .where(TriageItem.run_id == run_id, TriageItem.status == "pending")
        .values(status=status, resolved_at=utcnow())
    )
