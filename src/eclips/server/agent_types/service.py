"""Agent types as the API shows them, and each org's settings for them."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from eclips.server.accounts.service import Principal
from eclips.server.agent_types import repository
from eclips.server.agent_types.schemas import AgentSettingsOut
from eclips.server.agents.base import AgentSettings
from eclips.server.agents.registry import AgentRegistry
from eclips.server.db.models import AgentSettingsRow
from eclips.server.db.types import utcnow
from eclips.server.errors import BadRequest, NotFound


def _agent(registry: AgentRegistry, agent_type: str) -> type[AgentSettings]:
    agent = registry.get(agent_type)
    if agent is None:
        raise NotFound(f"Unknown agent_type: {agent_type}")
    return agent.settings_model


async def effective_settings(
    session: AsyncSession, org_id: uuid.UUID, model: type[AgentSettings], agent_type: str
) -> AgentSettings:
    """The org's stored settings over the agent's defaults."""
    stored = await repository.settings_for(session, org_id, agent_type)
    return model.model_validate(stored or {})


async def get_settings(
    session: AsyncSession, principal: Principal, *, registry: AgentRegistry, agent_type: str
) -> AgentSettingsOut:
    model = _agent(registry, agent_type)
    settings = await effective_settings(session, principal.org_id, model, agent_type)
    return AgentSettingsOut(agent_type=agent_type, settings=settings.model_dump(mode="json"))


async def put_settings(
    session: AsyncSession,
    principal: Principal,
    *,
    registry: AgentRegistry,
    agent_type: str,
    settings: dict[str, Any],
) -> AgentSettingsOut:
    model = _agent(registry, agent_type)
    try:
        validated = model.model_validate(settings)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise BadRequest(f"Invalid settings.{where}: {first['msg']}") from exc
    stored = validated.model_dump(mode="json")
    row = await session.get(AgentSettingsRow, (principal.org_id, agent_type))
    if row is None:
        session.add(
            AgentSettingsRow(
                org_id=principal.org_id, agent_type=agent_type, settings=stored, updated_at=utcnow()
            )
        )
    else:
        row.settings = stored
        row.updated_at = utcnow()
    return AgentSettingsOut(agent_type=agent_type, settings=stored)
