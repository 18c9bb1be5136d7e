from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from eclips.server.db.models import AgentSettingsRow


async def settings_for(
    session: AsyncSession, org_id: uuid.UUID, agent_type: str
) -> dict[str, Any] | None:
    row = await session.get(AgentSettingsRow, (org_id, agent_type))
    return row.settings if row else None


async def all_settings_for(session: AsyncSession, org_id: uuid.UUID) -> dict[str, dict[str, Any]]:
    rows = await session.scalars(select(AgentSettingsRow).where(AgentSettingsRow.org_id == org_id))
    return {row.agent_type: row.settings for row in rows.all()}
