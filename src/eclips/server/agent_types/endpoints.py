from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path

from eclips.server.agent_types import service
from eclips.server.agent_types.schemas import AgentSettingsOut, AgentTypeList, AgentTypeOut
from eclips.server.api.deps import AgentsRead, AgentsRun, Session, State
from eclips.server.api.fields import AGENT_TYPE_ENUM_MARK, StorableObject
from eclips.server.api.responses import errors

router = APIRouter(prefix="/v1/agents", tags=["agents"])
AgentType = Annotated[
    str, Path(min_length=1, max_length=100, json_schema_extra={AGENT_TYPE_ENUM_MARK: True})
]


@router.get("", responses=errors())
async def list_agents(state: State, _principal: AgentsRead) -> AgentTypeList:
    """Every registered agent type, with its price and settings schema."""
    return AgentTypeList(data=[AgentTypeOut(**a) for a in state.registry.describe()])


@router.get("/{agent_type}/settings", responses=errors(400, 404))
async def get_agent_settings(
    agent_type: AgentType, state: State, session: Session, principal: AgentsRun
) -> AgentSettingsOut:
    """The org's settings for this agent (defaults where never set)."""
    return await service.get_settings(
        session, principal, registry=state.registry, agent_type=agent_type
    )


@router.put("/{agent_type}/settings", responses=errors(400, 404, 413))
async def put_agent_settings(
    agent_type: AgentType,
    state: State,
    session: Session,
    principal: AgentsRun,
    settings: Annotated[StorableObject, Body()],
) -> AgentSettingsOut:
    """Replace the org's settings for this agent, validated against its schema."""
    result = await service.put_settings(
        session, principal, registry=state.registry, agent_type=agent_type, settings=settings
    )
    await session.commit()
    return result
