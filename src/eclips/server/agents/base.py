"""The contract between the platform and an agent.

An agent is a class registered under an ``agent_type``. The platform hands it an
:class:`AgentContext` and gets back an :class:`Outcome`; the platform, not the agent,
decides triage from the outcome and the org's policy, writes the triage item and bills
the run. Agents never touch the database or the web framework (import-linter enforces it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

ModelT = TypeVar("ModelT", bound=BaseModel)


class AgentSettings(BaseModel):
    """Per-org settings every agent has; agents subclass it with their own fields."""

    model_config = ConfigDict(extra="forbid")

    confidence_threshold: float = Field(
        default=0.6,
        ge=0.0,
        le=1.0,
        description="Runs whose confidence is below this go to human triage.",
    )
    timeout_seconds: float = Field(
        default=120.0,
        gt=0.0,
        le=3600.0,
        description="A run still working after this long fails.",
    )
    triage_expiry_hours: float | None = Field(
        default=None,
        gt=0.0,
        le=24.0 * 365,
        description="Pending triage items older than this are resolved by triage_expiry_action.",
    )
    triage_expiry_action: Literal["approve", "reject"] = Field(
        default="reject", description="What happens to a triage item when it expires."
    )


@dataclass(frozen=True)
class Outcome:
    """What an agent returns: its output, how sure it is, and whether a human must look."""

    output: dict[str, Any]
    confidence: float
    triage_reason: str | None = None
    # A business key (an invoice number, a PO number) the platform indexes per org so
    # later runs can find earlier ones through ``AgentContext.history``.
    reference: str | None = None


class AgentError(Exception):
    """The agent could not do the task; the run fails with this message."""


class RunHistory(Protocol):
    """Read-only view of the org's earlier runs, for checks such as duplicate invoices."""

    async def runs_with_reference(self, reference: str) -> list[str]:
        """Ids of the org's other runs that recorded ``reference`` and did not fail."""
        ...


class LanguageModel(Protocol):
    """A chat model behind any OpenAI-compatible endpoint, as the agents use it."""

    async def extract(self, *, instructions: str, text: str, schema: type[ModelT]) -> ModelT:
        """Fill ``schema`` from free ``text``; raises AgentError on an unusable answer."""
        ...

    async def classify(self, *, text: str, labels: dict[str, str]) -> str | None:
        """Pick one key of ``labels`` (label -> description) for ``text``, or None."""
        ...


ProgressReporter = Callable[[str, dict[str, Any]], Awaitable[None]]
Delegate = Callable[[str, str, dict[str, Any]], Awaitable[Outcome]]


async def _no_progress(_step: str, _detail: dict[str, Any]) -> None:
    return None


@dataclass
class AgentContext:
    """Everything an agent may use while it runs."""

    run_id: str
    org_id: str
    task: str
    data: dict[str, Any]
    settings: AgentSettings
    history: RunHistory
    llm: LanguageModel | None = None
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    _report: ProgressReporter = _no_progress
    _delegate: Delegate | None = None

    async def report(self, step: str, **detail: Any) -> None:
        """Record a progress step; it shows in the run and its SSE stream at once."""
        await self._report(step, detail)

    async def delegate(self, agent_type: str, task: str, data: dict[str, Any]) -> Outcome:
        """Run another registered agent as a child step of this run."""
        if self._delegate is None:
            raise AgentError("This run cannot delegate to other agents")
        return await self._delegate(agent_type, task, data)

    def settings_as(self, model: type[ModelT]) -> ModelT:
        """The org's settings for this agent, typed as the agent's own settings model."""
        if isinstance(self.settings, model):
            return self.settings
        return model.model_validate(self.settings.model_dump())


class Agent:
    """Base class of every agent. Subclass, set the class attributes, implement ``run``."""

    agent_type: ClassVar[str]
    description: ClassVar[str] = ""
    credits_per_run: ClassVar[int] = 1
    settings_model: ClassVar[type[AgentSettings]] = AgentSettings

    async def run(self, ctx: AgentContext) -> Outcome:
        raise NotImplementedError
