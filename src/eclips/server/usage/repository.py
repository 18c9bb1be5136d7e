from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from eclips.server.db.models import LedgerEntry, Member, Run


async def period_totals(session: AsyncSession, org_id: uuid.UUID, period: str) -> dict[str, int]:
    rows = await session.execute(
        select(LedgerEntry.kind, func.coalesce(func.sum(LedgerEntry.credits), 0))
        .where(LedgerEntry.org_id == org_id, LedgerEntry.period == period)
        .group_by(LedgerEntry.kind)
    )
    return {kind: int(total) for kind, total in rows.all()}


async def recent_entries(
    session: AsyncSession, org_id: uuid.UUID, *, limit: int
) -> Sequence[LedgerEntry]:
    rows = await session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.org_id == org_id)
        .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id)
        .limit(limit)
    )
    return rows.all()


async def member_usage(
    session: AsyncSession, org_id: uuid.UUID, period: str
) -> list[tuple[uuid.UUID | None, str | None, int, int]]:
    """(member id, email, runs charged, credits used) for the period, biggest first."""
    rows = await session.execute(
        select(
            LedgerEntry.member_id,
            Member.email,
            func.count(LedgerEntry.id),
            func.coalesce(func.sum(LedgerEntry.credits), 0),
        )
        .outerjoin(Member, Member.id == LedgerEntry.member_id)
        .where(
            LedgerEntry.org_id == org_id,
            LedgerEntry.period == period,
            LedgerEntry.kind == "charge",
        )
        .group_by(LedgerEntry.member_id, Member.email)
        .order_by(func.sum(LedgerEntry.credits).desc())
    )
    return [(m, e, int(n), int(c)) for m, e, n, c in rows.all()]


def charge_entry(run: Run, period: str) -> LedgerEntry:
    return LedgerEntry(
        org_id=run.org_id,
        member_id=run.member_id,
        run_id=run.id,
        kind="charge",
        credits=run.credits,
        period=period,
        description=f"{run.agent_type} run",
    )
