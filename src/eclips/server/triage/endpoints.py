from __future__ import annotations

import uuid

from fastapi import APIRouter, Body

from eclips.server.api.deps import Pagination, Session, TriageRead, TriageWrite
from eclips.server.api.responses import errors
from eclips.server.triage import service
from eclips.server.triage.schemas import ApproveBody, RejectBody, ResolutionEnvelope, TriageList

router = APIRouter(prefix="/v1/triage", tags=["triage"])


@router.get("", responses=errors(400))
async def list_triage(session: Session, principal: TriageRead, page: Pagination) -> TriageList:
    """Pending triage items, each joined to its run."""
    return await service.list_pending(session, principal, limit=page.limit, offset=page.offset)


@router.post("/{item_id}/approve", responses=errors(400, 404, 409, 413))
async def approve_triage(
    item_id: uuid.UUID,
    session: Session,
    principal: TriageWrite,
    body: ApproveBody | None = Body(default=None),
) -> ResolutionEnvelope:
    """Approve the item; the blocked run becomes completed."""
    body = body or ApproveBody()
    resolution = await service.resolve(
        session, principal, item_id, approve=True, note=body.resolution_note, output=body.output
    )
    await session.commit()
    return ResolutionEnvelope(data=resolution)


@router.post("/{item_id}/reject", responses=errors(400, 404, 409, 413))
async def reject_triage(
    item_id: uuid.UUID,
    session: Session,
    principal: TriageWrite,
    body: RejectBody | None = Body(default=None),
) -> ResolutionEnvelope:
    """Reject the item; the run becomes cancelled."""
    body = body or RejectBody()
    resolution = await service.resolve(
        session, principal, item_id, approve=False, note=body.reason or body.resolution_note
    )
    await session.commit()
    return ResolutionEnvelope(data=resolution)
