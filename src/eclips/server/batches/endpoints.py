from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from eclips.server.api.deps import (
    BatchRead,
    BatchRun,
    IdempotencyKey,
    Pagination,
    Session,
    State,
)
from eclips.server.api.responses import errors, links
from eclips.server.batches import service
from eclips.server.batches.counters import BatchStatus
from eclips.server.batches.schemas import (
    BatchCancelled,
    BatchCreate,
    JobEnvelope,
    JobList,
    JobOut,
    JobWithRows,
)
from eclips.server.idempotency.service import fingerprint, idempotent

router = APIRouter(prefix="/v1/batches", tags=["batches"])


@router.post(
    "",
    status_code=201,
    response_model=JobEnvelope,
    responses={
        201: links(
            "get_batch",
            "cancel_batch",
            "retry_batch",
            "batch_results",
            parameter="batch_id",
            source="/job/id",
        ),
        **errors(400, 402, 409, 413, 422),
    },
)
async def create_batch(
    body: BatchCreate,
    request: Request,
    state: State,
    principal: BatchRun,
    idempotency_key: IdempotencyKey = None,
) -> JobEnvelope | Response:
    """Create a batch job; each row becomes a run of its own."""

    async def create(session: AsyncSession) -> JobEnvelope:
        job = await service.create_batch(
            session,
            principal,
            body=body,
            registry=state.registry,
            allow_private_webhooks=state.settings.webhooks_allow_private,
        )
        return JobEnvelope(job=JobOut.of(job))

    result = await idempotent(
        state.sessions,
        principal,
        key=idempotency_key,
        request_fingerprint=fingerprint(request.url.path, body),
        status_code=201,
        work=create,
    )
    state.signals.run_queued()
    return result


@router.get("", responses=errors(400))
async def list_batches(
    session: Session,
    principal: BatchRead,
    page: Pagination,
    status: Annotated[BatchStatus | None, Query(description="Only jobs in this status")] = None,
) -> JobList:
    """The org's batch jobs, newest first."""
    jobs = await service.list_jobs(
        session, principal, status=status, limit=page.limit, offset=page.offset
    )
    return JobList(jobs=jobs)


@router.get("/{batch_id}", responses=errors(400, 404))
async def get_batch(batch_id: uuid.UUID, session: Session, principal: BatchRead) -> JobWithRows:
    """The job and its rows, ordered by row_index."""
    return await service.job_with_rows(session, principal, batch_id)


@router.post("/{batch_id}/cancel", responses=errors(400, 404))
async def cancel_batch(
    batch_id: uuid.UUID, state: State, session: Session, principal: BatchRun
) -> BatchCancelled:
    """Cancel a pending or running job: queued rows are cancelled, running rows stopped."""
    await service.cancel_job(session, principal, batch_id)
    await session.commit()
    state.signals.run_changed()
    return BatchCancelled()


@router.post("/{batch_id}/retry", responses=errors(400, 402, 404))
async def retry_batch(
    batch_id: uuid.UUID, state: State, session: Session, principal: BatchRun
) -> JobEnvelope:
    """Re-queue the job's failed rows."""
    job = await service.retry_failed(session, principal, batch_id, registry=state.registry)
    await session.commit()
    state.signals.run_queued()
    return JobEnvelope(job=JobOut.of(job))


@router.get(
    "/{batch_id}/results",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/x-ndjson": {}}, "description": "JSON Lines"},
        **errors(400, 404),
    },
)
async def batch_results(
    batch_id: uuid.UUID, state: State, session: Session, principal: BatchRead
) -> StreamingResponse:
    """Every row as JSON Lines, in row order; works while the job runs."""
    job = await service.get_job(session, principal, batch_id)
    await session.close()

    async def lines() -> AsyncIterator[str]:
        async for row in service.stream_results(state.sessions, job.id):
            yield json.dumps(row) + "\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")
