"""Run one claimed run: build the agent's context, execute it, turn its outcome into a Finish."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eclips.server.agent_types.service import effective_settings
from eclips.server.agents.base import (
    Agent,
    AgentContext,
    AgentError,
    AgentSettings,
    LanguageModel,
    Outcome,
)
from eclips.server.agents.registry import AgentRegistry
from eclips.server.db.models import Run
from eclips.server.db.session import TRANSIENT_ERRORS
from eclips.server.db.types import iso, utcnow
from eclips.server.queue.signals import CHANGED_CHANNEL, notify
from eclips.server.queue.status import RunStatus
from eclips.server.runs import repository as runs_repository
from eclips.server.runs.transitions import Finish

log = logging.getLogger(__name__)

_NOT_THE_AGENTS_FAULT: tuple[type[BaseException], ...] = (asyncio.CancelledError, *TRANSIENT_ERRORS)

# Delegation depth guard: center -> specialist is one level; loops end here.
_MAX_DEPTH = 3


class DatabaseHistory:
    """The org's run history as agents see it (read-only, through the worker)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], org_id: uuid.UUID, run_id: uuid.UUID
    ) -> None:
        self._sessions, self._org_id, self._run_id = sessions, org_id, run_id

    async def runs_with_reference(self, reference: str) -> list[str]:
        async with self._sessions() as session:
            return await runs_repository.ids_with_reference(
                session, self._org_id, reference, exclude=self._run_id
            )


class RunExecution:
    """Everything about executing one run, from context to Finish."""

    def __init__(
        self,
        run: Run,
        *,
        sessions: async_sessionmaker[AsyncSession],
        registry: AgentRegistry,
        worker_id: str,
        llm: LanguageModel | None,
    ) -> None:
        self.run = run
        self._sessions = sessions
        self._registry = registry
        self._worker_id = worker_id
        self._llm = llm
        self._progress: list[dict[str, Any]] = list(run.progress or [])
        self.cancelled = asyncio.Event()

    async def execute(self) -> Finish:
        agent_cls = self._registry.get(self.run.agent_type)
        if agent_cls is None:
            return Finish(RunStatus.FAILED, error=f"Unknown agent_type: {self.run.agent_type}")
        # Outside the try: a database failure here is transient, never the agent's fault.
        settings = await self._settings(agent_cls)
        try:
            ctx = self._context(settings, self.run.task, self.run.data, depth=0)
            outcome = await asyncio.wait_for(agent_cls().run(ctx), settings.timeout_seconds)
        except AgentError as exc:
            return Finish(RunStatus.FAILED, error=str(exc) or "Agent failed")
        except TimeoutError:
            return Finish(
                RunStatus.FAILED,
                error=f"Agent timed out after {settings.timeout_seconds:g} s "
                "(timeout_seconds in the agent's settings)",
            )
        except _NOT_THE_AGENTS_FAULT:
            # Cancelled, or the database is away: not the agent's fault. The run keeps
            # its status; the worker retries recording, or the rescuer re-runs it.
            raise
        except Exception as exc:
            log.exception("Agent %s crashed on run %s", self.run.agent_type, self.run.id)
            return Finish(RunStatus.FAILED, error=f"Agent error: {type(exc).__name__}: {exc}")
        return self._decide(outcome, settings)

    @staticmethod
    def _decide(outcome: Outcome, settings: AgentSettings) -> Finish:
        """The platform, not the agent, decides triage: the agent's reason or low confidence."""
        confidence = min(max(float(outcome.confidence), 0.0), 1.0)
        reason = outcome.triage_reason
        if reason is None and confidence < settings.confidence_threshold:
            reason = (
                f"Confidence {confidence:.2f} below the threshold "
                f"{settings.confidence_threshold:.2f}"
            )
        return Finish(
            RunStatus.AWAITING_TRIAGE if reason else RunStatus.COMPLETED,
            output=outcome.output,
            confidence=confidence,
            triage_reason=reason,
            reference=outcome.reference,
        )

    async def _settings(self, agent_cls: type[Agent]) -> AgentSettings:
        async with self._sessions() as session:
            return await effective_settings(
                session, self.run.org_id, agent_cls.settings_model, agent_cls.agent_type
            )

    def _context(
        self,
        settings: AgentSettings,
        task: str,
        data: dict[str, Any],
        *,
        depth: int,
    ) -> AgentContext:
        async def delegate(agent_type: str, sub_task: str, sub_data: dict[str, Any]) -> Outcome:
            child = self._registry.get(agent_type)
            if child is None:
                raise AgentError(f"Unknown agent_type to delegate to: {agent_type}")
            if depth + 1 >= _MAX_DEPTH:
                raise AgentError("Delegation too deep")
            child_settings = await self._settings(child)
            await self._report(f"{agent_type}:start", {})
            ctx = self._context(child_settings, sub_task, sub_data, depth=depth + 1)
            return await child().run(ctx)

        return AgentContext(
            run_id=str(self.run.id),
            org_id=str(self.run.org_id),
            task=task,
            data=dict(data),
            settings=settings,
            history=DatabaseHistory(self._sessions, self.run.org_id, self.run.id),
            llm=self._llm,
            cancelled=self.cancelled,
            _report=self._report,
            _delegate=delegate,
        )

    async def _report(self, step: str, detail: dict[str, Any]) -> None:
        self._progress.append({"step": step, "at": iso(utcnow()), **detail})
        async with self._sessions.begin() as session:
            await session.execute(
                update(Run)
                .where(Run.id == self.run.id, Run.worker_id == self._worker_id)
                .values(progress=list(self._progress), version=Run.version + 1)
                .execution_options(synchronize_session=False)
            )
            await notify(session, CHANGED_CHANNEL, str(self.run.id))
