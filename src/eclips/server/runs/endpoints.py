from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession
from sse_starlette import EventSourceResponse

from eclips.server.api.deps import (
    AgentsRead,
    AgentsRun,
    IdempotencyKey,
    Pagination,
    Session,
    State,
)
from eclips.server.api.responses import errors, links
from eclips.server.idempotency.service import fingerprint, idempotent
from eclips.server.queue.status import RunStatus
from eclips.server.runs import service
from eclips.server.runs.schemas import Cancelled, RunAccepted, RunCreate, RunList, RunWithTriage
from eclips.server.streaming.hub import RunSnapshot

router = APIRouter(prefix="/v1", tags=["runs"])


@router.post(
    "/run",
    status_code=202,
    response_model=RunAccepted,
    responses={
        202: links("get_run", "cancel_run", "stream_run", parameter="run_id", source="/run_id"),
        **errors(400, 402, 409, 413, 422),
    },
)
async def create_run(
    body: RunCreate,
    request: Request,
    state: State,
    principal: AgentsRun,
    idempotency_key: IdempotencyKey = None,
) -> RunAccepted | Response:
    """Queue an agent run; it executes asynchronously."""

    async def accept(session: AsyncSession) -> RunAccepted:
        run = await service.create_run(
            session,
            principal,
            body=body,
            registry=state.registry,
            allow_private_webhooks=state.settings.webhooks_allow_private,
        )
        return RunAccepted(run_id=run.id, status=RunStatus.QUEUED, agent_type=run.agent_type)

    result = await idempotent(
        state.sessions,
        principal,
        key=idempotency_key,
        request_fingerprint=fingerprint(request.url.path, body),
        status_code=202,
        work=accept,
    )
    state.signals.run_queued()
    return result


@router.get("/runs", responses=errors(400))
async def list_runs(
    session: Session,
    principal: AgentsRead,
    page: Pagination,
    status: Annotated[RunStatus | None, Query(description="Only runs in this status")] = None,
) -> RunList:
    """The org's runs, newest first."""
    return await service.list_runs(
        session, principal, status=status, limit=page.limit, offset=page.offset
    )


@router.get("/runs/{run_id}", responses=errors(400, 404))
async def get_run(run_id: uuid.UUID, session: Session, principal: AgentsRead) -> RunWithTriage:
    """The full run and its triage item, if any."""
    return await service.run_with_triage(session, principal, run_id)


@router.post("/runs/{run_id}/cancel", responses=errors(400, 404))
async def cancel_run(
    run_id: uuid.UUID, state: State, session: Session, principal: AgentsRun
) -> Cancelled:
    """Cancel a queued, running or triage-waiting run; a running agent is asked to stop."""
    await service.cancel_run(session, principal, run_id)
    await session.commit()
    state.signals.run_changed()
    return Cancelled()


@router.post(
    "/runs/{run_id}/retry",
    status_code=202,
    responses={
        202: links("get_run", "cancel_run", "stream_run", parameter="run_id", source="/run_id"),
        **errors(400, 402, 404),
    },
)
async def retry_run(
    run_id: uuid.UUID, state: State, session: Session, principal: AgentsRun
) -> RunAccepted:
    """Queue a failed run again, as a new run linked to it (``retry_of``)."""
    run = await service.retry_run(
        session,
        principal,
        run_id,
        registry=state.registry,
        allow_private_webhooks=state.settings.webhooks_allow_private,
    )
    await session.commit()
    state.signals.run_queued()
    return RunAccepted(run_id=run.id, status=RunStatus.QUEUED, agent_type=run.agent_type)


@router.get(
    "/runs/{run_id}/stream",
    response_class=EventSourceResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "Run status events"},
        **errors(400, 404),
    },
)
async def stream_run(
    run_id: uuid.UUID,
    state: State,
    session: Session,
    principal: AgentsRead,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            max_length=20,
            description="Resume a stream: an event already seen is not sent again at once.",
        ),
    ] = None,
) -> EventSourceResponse:
    """Server-Sent Events: the run's status every ~2 s and at once on a change.

    Each event's ``id`` is the run's version; events carry the full state (with the agent's
    progress steps), so a client resuming with ``Last-Event-ID`` misses nothing.
    """
    run = await service.get_run(session, principal, run_id)
    initial = RunSnapshot.of(run)
    await session.close()
    settings = state.settings

    async def events() -> AsyncIterator[dict[str, Any]]:
        deadline = time.monotonic() + settings.stream_timeout_seconds
        seen = int(last_event_id) if last_event_id and last_event_id.isdigit() else -1
        async with state.hub.watch(run_id, initial) as watch:
            if watch.snapshot.version <= seen and not watch.snapshot.terminal:
                await watch.wait_change(settings.stream_update_seconds)
            while True:
                snapshot = watch.snapshot
                yield {"id": str(snapshot.version), "data": json.dumps(snapshot.event())}
                remaining = deadline - time.monotonic()
                if snapshot.terminal or remaining <= 0:
                    return
                await watch.wait_change(min(settings.stream_update_seconds, remaining))

    return EventSourceResponse(events(), ping=int(settings.stream_ping_seconds))
