"""The ``batch.completed`` event, sent to the org's endpoints and the job's webhook_url."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from eclips.server.batches.schemas import JobOut
from eclips.server.db.models import BatchJob
from eclips.server.webhooks import outbox


async def record_batch_completed(session: AsyncSession, batch_id: uuid.UUID) -> None:
    job = await session.get(BatchJob, batch_id, populate_existing=True)
    if job is None:
        return
    await outbox.record_event(
        session,
        org_id=job.org_id,
        event_type=outbox.BATCH_COMPLETED,
        data=JobOut.of(job).model_dump(mode="json"),
        extra_urls=[job.webhook_url] if job.webhook_url else [],
    )
