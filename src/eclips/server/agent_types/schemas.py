from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class AgentTypeOut(BaseModel):
    agent_type: str
    description: str
    credits_per_run: int = Field(ge=0)
    settings_schema: dict[str, Any] = Field(description="JSON Schema of the agent's settings")


class AgentTypeList(BaseModel):
    data: list[AgentTypeOut]


class AgentSettingsOut(BaseModel):
    agent_type: str
    settings: dict[str, Any]
