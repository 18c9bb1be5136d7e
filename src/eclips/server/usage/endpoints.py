from __future__ import annotations

from fastapi import APIRouter

from eclips.server.api.deps import AgentsRead, Session
from eclips.server.api.responses import errors
from eclips.server.usage import service
from eclips.server.usage.schemas import LedgerHistory, MemberUsageList, UsageSummary

router = APIRouter(prefix="/v1/usage", tags=["usage"])


@router.get("", responses=errors())
async def get_usage(session: Session, principal: AgentsRead) -> UsageSummary:
    """The org's credit summary for the current period."""
    return await service.summary(session, principal)


@router.get("/history", responses=errors())
async def get_usage_history(session: Session, principal: AgentsRead) -> LedgerHistory:
    """The last 50 ledger entries, newest first."""
    return await service.history(session, principal)


@router.get("/members", responses=errors())
async def get_usage_members(session: Session, principal: AgentsRead) -> MemberUsageList:
    """Credits used per member this period."""
    return await service.members(session, principal)
