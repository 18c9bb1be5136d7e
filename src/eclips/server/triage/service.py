"""Human triage: list what waits for a person, approve or reject it exactly once."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from eclips.server.accounts.service import Principal
from eclips.server.db.models import TriageItem
from eclips.server.db.types import iso, utcnow
from eclips.server.errors import Conflict, NotFound
from eclips.server.queue.status import RunStatus
from eclips.server.runs import repository as runs_repository
from eclips.server.runs import transitions
from eclips.server.triage import repository
from eclips.server.triage.schemas import (
    Resolution,
    TriageList,
    TriageListItem,
    TriageRun,
)


async def list_pending(
    session: AsyncSession, principal: Principal, *, limit: int, offset: int
) -> TriageList:
    rows, total = await repository.pending_for_org(
        session, principal.org_id, limit=limit, offset=offset
    )
    return TriageList(
        data=[
            TriageListItem(
                id=item.id,
                run_id=item.run_id,
                status=item.status,
                triage_reason=item.triage_reason,
                created_at=iso(item.created_at) or "",
                agent_runs=TriageRun(
                    id=run.id, agent_type=run.agent_type, confidence_score=run.confidence_score
                ),
            )
            for item, run in rows
        ],
        total=total,
        limit=limit,
        offset=offset,
    )


async def resolve(
    session: AsyncSession,
    principal: Principal,
    item_id: uuid.UUID,
    *,
    approve: bool,
    note: str | None,
    output: dict[str, Any] | None = None,
) -> Resolution:
    item = await repository.get_for_org(session, principal.org_id, item_id)
    if item is None:
        raise NotFound("Triage item not found")
    if item.status != "pending":
        raise Conflict(f"Triage item is already {item.status}")
    run = await runs_repository.get_for_org(session, principal.org_id, item.run_id, lock=True)
    if run is None or run.status != RunStatus.AWAITING_TRIAGE:
        raise Conflict("The run of this triage item is no longer awaiting triage")
    _record(item, principal, status="approved" if approve else "rejected", note=note)
    if approve:
        await transitions.move(session, run, RunStatus.COMPLETED, output=output)
    else:
        await transitions.move(
            session, run, RunStatus.CANCELLED, error=f"Rejected in triage: {note or 'no reason'}"
        )
    return Resolution(
        id=item.id,
        status=item.status,
        resolved_at=iso(item.resolved_at),
        resolution_note=item.resolution_note,
    )


def _record(item: TriageItem, principal: Principal, *, status: str, note: str | None) -> None:
    item.status = status
    item.resolution_note = note
    item.resolved_at = utcnow()
    item.resolved_by_member_id = principal.member_id
    item.resolved_by_key_id = principal.key_id
