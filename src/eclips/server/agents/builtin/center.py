"""The default agent: classify the task and delegate to the specialist that fits.

Routing is by keywords when they point one way; when they do not (no keyword, or as many
for one specialist as for another) the language model classifies the task where one is
configured. When nothing fits, the run fails with a clear error instead of guessing.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from eclips.server.agents.base import Agent, AgentContext, AgentError, Outcome

SPECIALISTS = {
    "ap_specialist": "Invoices, bills and payments to vendors (accounts payable).",
    "procurement_specialist": "Buying goods or services: vendor quotes, purchases, orders.",
}
_KEYWORDS = {
    "ap_specialist": re.compile(
        r"\b(invoices?|inv-\d+|bills?|payables?|pay(ment|ing)?|remit\w*)\b", re.I
    ),
    "procurement_specialist": re.compile(
        r"\b(quotes?|quotations?|purchase|buy|procure\w*|order|rfq|vendors?|suppliers?|sourcing)\b",
        re.I,
    ),
}

RoutedBy = Literal["keywords", "model"]


class Center(Agent):
    agent_type = "center"
    description = (
        "Routes a task to the specialist that fits (accounts payable or procurement) and "
        "returns its result; fails the run when no specialist fits."
    )
    credits_per_run = 1

    async def run(self, ctx: AgentContext) -> Outcome:
        specialist, routed_by, scores = await self._route(ctx)
        if specialist is None:
            tied = [
                name for name, score in scores.items() if score and score == max(scores.values())
            ]
            if len(tied) > 1 and routed_by == "keywords":
                raise AgentError(
                    f"The task reads like more than one specialist's ({', '.join(tied)}); "
                    "name an agent_type or rephrase it"
                )
            raise AgentError(
                "No specialist fits this task; name an agent_type "
                f"({', '.join(SPECIALISTS)}) or rephrase it"
            )
        await ctx.report("delegated", specialist=specialist, routed_by=routed_by)
        outcome = await ctx.delegate(specialist, ctx.task, ctx.data)
        steps: list[dict[str, Any]] = [
            {"step": "classify", "routed_by": routed_by, "scores": scores, "result": specialist},
            {
                "step": "delegate",
                "agent_type": specialist,
                "confidence": outcome.confidence,
                "triage_reason": outcome.triage_reason,
            },
        ]
        return Outcome(
            output={**outcome.output, "specialist": specialist, "steps": steps},
            confidence=outcome.confidence,
            triage_reason=outcome.triage_reason,
            reference=outcome.reference,
        )

    async def _route(self, ctx: AgentContext) -> tuple[str | None, RoutedBy, dict[str, int]]:
        scores = {name: len(pattern.findall(ctx.task)) for name, pattern in _KEYWORDS.items()}
        best = max(scores.values())
        leaders = [name for name, score in scores.items() if score == best]
        if best > 0 and len(leaders) == 1:
            return leaders[0], "keywords", scores
        if ctx.llm is not None:
            label = await ctx.llm.classify(text=ctx.task, labels=SPECIALISTS)
            return (label if label in SPECIALISTS else None), "model", scores
        return None, "keywords", scores
