"""Batch jobs: many rows, each a run of its own, created in one transaction.

Rows wait in the batch lane of the queue: interactive runs are claimed first and batch rows
take at most a share of a worker's slots, so a 500-row batch never starves other work
(see docs/batches.md).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eclips.server.accounts.service import Principal
from eclips.server.agents.registry import AgentRegistry
from eclips.server.batches import repository
from eclips.server.batches.counters import OPEN_STATUSES, BatchStatus
from eclips.server.batches.schemas import BatchCreate, JobOut, JobWithRows, RowOut
from eclips.server.db.models import BatchJob
from eclips.server.db.types import utcnow
from eclips.server.errors import BadRequest, NotFound
from eclips.server.queue.signals import QUEUED_CHANNEL, notify
from eclips.server.queue.status import BATCH_LANE, PRIORITY_RANK, Priority, RunStatus
from eclips.server.runs.service import credits_for
from eclips.server.runs.transitions import publish
from eclips.server.usage.service import ensure_affordable
from eclips.server.webhooks.ssrf import validate_url

_RESULTS_CHUNK = 100


async def create_batch(
    session: AsyncSession,
    principal: Principal,
    *,
    body: BatchCreate,
    registry: AgentRegistry,
    allow_private_webhooks: bool = False,
) -> BatchJob:
    price = credits_for(registry, body.agent_type)
    if body.webhook_url:
        await validate_url(
            body.webhook_url, allow_private=allow_private_webhooks, resolve_host=False
        )
    blank = next((i for i, row in enumerate(body.rows) if not row.task.strip()), None)
    if blank is not None:
        raise BadRequest(f"Invalid rows.{blank}.task: must not be empty")
    await ensure_affordable(session, principal, credits=price * len(body.rows))
    now = utcnow()
    job = BatchJob(
        id=uuid.uuid4(),
        org_id=principal.org_id,
        name=body.name,
        agent_type=body.agent_type,
        status=BatchStatus.PENDING,
        total_rows=len(body.rows),
        completed_rows=0,
        failed_rows=0,
        triage_rows=0,
        cancelled_rows=0,
        webhook_url=body.webhook_url,
        created_at=now,
    )
    session.add(job)
    await session.flush()
    await repository.insert_rows(
        session,
        [
            {
                "id": uuid.uuid4(),
                "org_id": principal.org_id,
                "member_id": principal.member_id,
                "api_key_id": principal.key_id,
                "agent_type": body.agent_type,
                "task": row.task,
                "data": row.data,
                "priority": Priority.NORMAL,
                "priority_rank": PRIORITY_RANK[Priority.NORMAL],
                "queue_lane": BATCH_LANE,
                "status": RunStatus.QUEUED,
                "credits": price,
                "credits_charged": 0,
                "progress": [],
                "batch_id": job.id,
                "row_index": index,
                "custom_id": row.custom_id,
                "attempts": 0,
                "requires_triage": False,
                "cancel_requested": False,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for index, row in enumerate(body.rows)
        ],
    )
    await notify(session, QUEUED_CHANNEL)
    return job


async def get_job(
    session: AsyncSession, principal: Principal, batch_id: uuid.UUID, *, lock: bool = False
) -> BatchJob:
    job = await repository.get_for_org(session, principal.org_id, batch_id, lock=lock)
    if job is None:
        raise NotFound("Batch not found")
    return job


async def job_with_rows(
    session: AsyncSession, principal: Principal, batch_id: uuid.UUID
) -> JobWithRows:
    job = await get_job(session, principal, batch_id)
    rows = await repository.rows_of(session, job.id)
    return JobWithRows(job=JobOut.of(job), rows=[RowOut.of(r) for r in rows])


async def list_jobs(
    session: AsyncSession,
    principal: Principal,
    *,
    status: BatchStatus | None,
    limit: int,
    offset: int,
) -> list[JobOut]:
    jobs = await repository.list_for_org(
        session, principal.org_id, status=status, limit=limit, offset=offset
    )
    return [JobOut.of(job) for job in jobs]


async def cancel_job(session: AsyncSession, principal: Principal, batch_id: uuid.UUID) -> None:
    job = await get_job(session, principal, batch_id, lock=True)
    if job.status not in OPEN_STATUSES:
        raise BadRequest(f"Batch is {job.status}; only pending or running batches can be cancelled")
    cancelled = await repository.cancel_unfinished_rows(session, job.id)
    await session.execute(
        update(BatchJob)
        .where(BatchJob.id == job.id)
        .values(
            status=BatchStatus.CANCELLED,
            cancelled_rows=BatchJob.cancelled_rows + len(cancelled),
            completed_at=utcnow(),
        )
    )
    for run in cancelled:
        urls = [u for u in (run.webhook_url, job.webhook_url) if u]
        await publish(session, run, RunStatus.CANCELLED, extra_urls=urls)


async def retry_failed(
    session: AsyncSession, principal: Principal, batch_id: uuid.UUID, *, registry: AgentRegistry
) -> BatchJob:
    job = await get_job(session, principal, batch_id, lock=True)
    if job.status == BatchStatus.CANCELLED:
        raise BadRequest("Batch is cancelled; create a new batch instead")
    if job.failed_rows == 0:
        raise BadRequest("Batch has no failed rows to retry")
    await ensure_affordable(
        session, principal, credits=credits_for(registry, job.agent_type) * job.failed_rows
    )
    requeued = await repository.requeue_failed_rows(session, job.id)
    await session.execute(
        update(BatchJob)
        .where(BatchJob.id == job.id)
        .values(
            status=BatchStatus.RUNNING,
            failed_rows=BatchJob.failed_rows - requeued,
            completed_at=None,
        )
    )
    await notify(session, QUEUED_CHANNEL)
    await session.refresh(job)
    return job


async def stream_results(
    sessions: async_sessionmaker[AsyncSession], batch_id: uuid.UUID
) -> AsyncIterator[dict[str, Any]]:
    """Every row in order, read in chunks so 500 rows never sit in memory at once."""
    after = -1
    while True:
        async with sessions() as session:
            rows = await repository.rows_of(session, batch_id, after=after, limit=_RESULTS_CHUNK)
        for row in rows:
            yield RowOut.of(row).model_dump(mode="json")
        if len(rows) < _RESULTS_CHUNK:
            return
        after = rows[-1].row_index or 0
