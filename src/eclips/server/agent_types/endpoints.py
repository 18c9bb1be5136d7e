from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path

from eclips.server.agent_types import service
from eclips.server.agent_types.schemas import AgentSettingsOut, AgentTypeList, AgentTypeOut
from eclips.server.api.deps import AgentsRead, AgentsRun, Session, State

router = APIRouter(prefix="/v1/agents", tags=["agents"])
AgentType = Annotated[str, Path(min_length=1, max_length=100)]


@router.get("")
async def list_agents(state: State, _principal: AgentsRead) -> AgentTypeList:
    """Every registered agent type, with its price and settings schema."""
    return AgentTypeList(data=[AgentTypeOut(**a) for a in state.registry.describe()])


@router.get("/{agent_type}/settings")
async def get_agent_settings(
    agent_type: AgentType, state: State, session: Session, principal: AgentsRun
) -> AgentSettingsOut:
    """The org's settings for this agent (defaults where never set)."""
    return await service.get_settings(
        session, principal, registry=state.registry, agent_type=agent_type
    )


@router.put("/{agent_type}/settings")
async def put_agent_settings(
    agent_type: AgentType,
    state: State,
    session: Session,
    principal: AgentsRun,
    settings: Annotated[dict[str, Any], Body()],
) -> AgentSettingsOut:
    """Replace the org's settings for this agent, validated against its schema."""
    result = await service.put_settings(
        session, principal, registry=state.registry, agent_type=agent_type, settings=settings
    )
    await session.commit()
    return result
