"""What one server process holds while it runs; nothing here outlives the process."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from eclips.server.agents.registry import AgentRegistry
from eclips.server.queue.signals import RunSignals
from eclips.server.ratelimit.service import RateLimiter
from eclips.server.settings import Settings
from eclips.server.streaming.hub import RunHub


@dataclass
class ServerState:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    registry: AgentRegistry
    signals: RunSignals
    hub: RunHub
    limiter: RateLimiter | None = None
