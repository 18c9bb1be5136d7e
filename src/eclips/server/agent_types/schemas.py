from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class AgentTypeOut(BaseModel):
    agent_type: str
    description: str
    credits_per_run: int
    settings_schema: dict[str, Any]


class AgentTypeList(BaseModel):
    data: list[AgentTypeOut]


class AgentSettingsOut(BaseModel):
    agent_type: str
    settings: dict[str, Any]
