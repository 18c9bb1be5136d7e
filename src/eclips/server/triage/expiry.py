"""Pending triage items that waited past their org's ``triage_expiry_hours`` are resolved
with the org's default action, recorded as an expiry (no member, no key)."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eclips.server.db.models import AgentSettingsRow, Run, TriageItem
from eclips.server.db.types import utcnow
from eclips.server.queue.status import RunStatus
from eclips.server.runs import transitions

log = logging.getLogger(__name__)


async def expire_pending(sessions: async_sessionmaker[AsyncSession], *, limit: int = 200) -> int:
    """Resolve expired items; returns how many."""
    async with sessions.begin() as session:
        rows = await session.scalars(select(AgentSettingsRow))
        policies = []
        for row in rows.all():
            hours = row.settings.get("triage_expiry_hours")
            if hours:
                action = row.settings.get("triage_expiry_action", "reject")
                policies.append((row.org_id, row.agent_type, float(hours), action))
        done = 0
        for org_id, agent_type, hours, action in policies:
            done += await _expire(session, org_id, agent_type, hours, action, limit=limit)
    if done:
        log.info("expired %d triage items", done)
    return done


async def _expire(
    session: AsyncSession,
    org_id: uuid.UUID,
    agent_type: str,
    hours: float,
    action: str,
    *,
    limit: int,
) -> int:
    cutoff = utcnow() - timedelta(hours=hours)
    found = await session.execute(
        select(TriageItem, Run)
        .join(Run, Run.id == TriageItem.run_id)
        .where(
            TriageItem.org_id == org_id,
            TriageItem.status == "pending",
            TriageItem.created_at < cutoff,
            Run.agent_type == agent_type,
            Run.status == RunStatus.AWAITING_TRIAGE,
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    count = 0
    for item, run in found.tuples().all():
        approve = action == "approve"
        item.status = "approved" if approve else "rejected"
        item.resolution_note = f"Expired after {hours:g} h; default action: {action}"
        item.resolved_at = utcnow()
        if approve:
            await transitions.move(session, run, RunStatus.COMPLETED)
        else:
            await transitions.move(
                session, run, RunStatus.CANCELLED, error="Triage expired: rejected by default"
            )
        count += 1
    return count
