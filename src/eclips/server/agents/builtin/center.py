"""The default agent: classify the task and delegate to the specialist that fits."""

from __future__ import annotations

import re

from eclips.server.agents.base import Agent, AgentContext, AgentError, Outcome

SPECIALISTS = {
    "ap_specialist": "Invoices, bills and payments to vendors (accounts payable).",
    "procurement_specialist": "Buying goods or services: vendor quotes, purchases, orders.",
}
_KEYWORDS = {
    "ap_specialist": re.compile(r"\b(invoices?|inv-\d+|bills?|payables?|pay(ment)?)\b", re.I),
    "procurement_specialist": re.compile(
        r"\b(quotes?|purchase|buy|procure\w*|order|vendors?|suppliers?|sourcing)\b", re.I
    ),
}


class Center(Agent):
    agent_type = "center"
    description = "Routes a task to the specialist that fits and returns its result."
    credits_per_run = 1

    async def run(self, ctx: AgentContext) -> Outcome:
        specialist = await self._route(ctx)
        if specialist is None:
            raise AgentError(
                "No specialist fits this task; name an agent_type "
                f"({', '.join(SPECIALISTS)}) or rephrase it"
            )
        await ctx.report("delegated", specialist=specialist)
        outcome = await ctx.delegate(specialist, ctx.task, ctx.data)
        return Outcome(
            output={
                "specialist": specialist,
                "steps": [{"step": "delegate", "agent_type": specialist}],
                **outcome.output,
            },
            confidence=outcome.confidence,
            triage_reason=outcome.triage_reason,
            reference=outcome.reference,
        )

    async def _route(self, ctx: AgentContext) -> str | None:
        hits = [name for name, pattern in _KEYWORDS.items() if pattern.search(ctx.task)]
        if len(hits) == 1:
            return hits[0]
        if ctx.llm is not None:
            return await ctx.llm.classify(text=ctx.task, labels=SPECIALISTS)
        return hits[0] if hits else None
