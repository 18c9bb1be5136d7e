"""Agent types registered only in tests and benchmarks (through ECLIPS_AGENT_CLASSES)."""

from __future__ import annotations

import asyncio

from eclips.server.agents.base import Agent, AgentContext, AgentError, Outcome


class Noop(Agent):
    agent_type = "test_noop"
    description = "Does nothing, at once."

    async def run(self, ctx: AgentContext) -> Outcome:
        return Outcome(output={"echo": ctx.task}, confidence=1.0)


class Sleepy(Agent):
    """Sleeps ``data.seconds`` (default 1 s), then fails if ``data.fail`` is true."""

    agent_type = "test_sleep"
    description = "Sleeps, then succeeds or fails as told."

    async def run(self, ctx: AgentContext) -> Outcome:
        await asyncio.sleep(float(ctx.data.get("seconds", 1.0)))
        if ctx.data.get("fail"):
            raise AgentError(str(ctx.data.get("fail")))
        if ctx.data.get("triage"):
            return Outcome(output={"slept": True}, confidence=0.9, triage_reason="Asked for it")
        return Outcome(output={"slept": True, "task": ctx.task}, confidence=0.95)


TEST_AGENT_CLASSES = ["tests.support.agents:Noop", "tests.support.agents:Sleepy"]
