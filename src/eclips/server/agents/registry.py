"""Registered agent types: built-ins plus entry points in the ``eclips.agents`` group."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from eclips.server.agents.base import Agent


class AgentRegistry:
    def __init__(self, agents: Iterable[type[Agent]]) -> None:
        self._agents = {agent.agent_type: agent for agent in agents}

    @classmethod
    def discover(cls, *, extra: Iterable[type[Agent]] = ()) -> AgentRegistry:
        return cls(list(extra))

    def get(self, agent_type: str) -> type[Agent] | None:
        return self._agents.get(agent_type)

    def __contains__(self, agent_type: object) -> bool:
        return agent_type in self._agents

    def __iter__(self) -> Iterator[type[Agent]]:
        return iter(sorted(self._agents.values(), key=lambda a: a.agent_type))

    def describe(self) -> list[dict[str, Any]]:
        return [
            {
                "agent_type": a.agent_type,
                "description": a.description,
                "credits_per_run": a.credits_per_run,
                "settings_schema": a.settings_model.model_json_schema(),
            }
            for a in self
        ]
