"""Registered agent types: built-ins, entry points in ``eclips.agents``, and extra classes
named in settings (``module:Class``)."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable, Iterator
from importlib.metadata import entry_points
from typing import Any

from eclips.server.agents.base import Agent

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "eclips.agents"


def load_class(path: str) -> type[Agent]:
    """Import ``package.module:ClassName`` and check it is an agent."""
    module_name, _, attr = path.partition(":")
    obj = getattr(importlib.import_module(module_name), attr)
    if not (isinstance(obj, type) and issubclass(obj, Agent)):
        raise TypeError(f"{path} is not an eclips Agent subclass")
    return obj


class AgentRegistry:
    def __init__(self, agents: Iterable[type[Agent]]) -> None:
        self._agents = {agent.agent_type: agent for agent in agents}

    @classmethod
    def discover(cls, *, extra: Iterable[str] = ()) -> AgentRegistry:
        from eclips.server.agents.builtin import BUILTIN_AGENTS

        agents: list[type[Agent]] = list(BUILTIN_AGENTS)
        for point in entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = point.load()
            except Exception:
                log.exception("Could not load agent entry point %s", point.value)
                continue
            if isinstance(loaded, type) and issubclass(loaded, Agent):
                agents.append(loaded)
            else:
                log.error("Entry point %s is not an eclips Agent subclass", point.value)
        agents.extend(load_class(path) for path in extra)
        return cls(agents)

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
