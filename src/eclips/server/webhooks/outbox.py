"""The outbox: events written in the transaction of the state change that causes them.

The dispatcher (``delivery.py``) sends what is written here after the transaction commits,
so an event is never sent for a change that rolled back and never lost for one that
committed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from eclips.server.db.models import WebhookDelivery, WebhookEvent
from eclips.server.db.types import iso, utcnow
from eclips.server.webhooks import repository
from eclips.server.webhooks.status import DeliveryStatus

RUN_COMPLETED: Final = "run.completed"
RUN_FAILED: Final = "run.failed"
RUN_TRIAGE_REQUIRED: Final = "run.triage_required"
RUN_CANCELLED: Final = "run.cancelled"
BATCH_COMPLETED: Final = "batch.completed"

EVENT_TYPES: Final[tuple[str, ...]] = (
    RUN_COMPLETED,
    RUN_FAILED,
    RUN_TRIAGE_REQUIRED,
    RUN_CANCELLED,
    BATCH_COMPLETED,
)


async def record_event(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    event_type: str,
    data: dict[str, Any],
    extra_urls: Sequence[str] = (),
) -> uuid.UUID | None:
    """Write one event and a delivery for each URL that should receive it.

    Receivers: every active endpoint of the org subscribed to ``event_type``, plus each of
    ``extra_urls`` (a run's or batch's own ``webhook_url``, signed with the org's signing
    secret). ``data`` must be JSON-ready (the run or job exactly as the API returns it).
    Nothing is written when nobody listens. Returns the event id (the ``webhook-id`` header
    of every attempt), or None. The caller commits.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type: {event_type}")
    endpoints = await repository.subscribed_endpoints(session, org_id, event_type)
    urls = list(dict.fromkeys(u for u in extra_urls if u))
    if not endpoints and not urls:
        return None
    now = utcnow()
    event_id = uuid.uuid4()
    session.add(
        WebhookEvent(
            id=event_id,
            org_id=org_id,
            type=event_type,
            payload={"id": str(event_id), "type": event_type, "created_at": iso(now), "data": data},
            created_at=now,
        )
    )
    targets: list[tuple[uuid.UUID | None, str]] = [(e.id, e.url) for e in endpoints]
    targets.extend((None, url) for url in urls)
    # The event row must exist before its deliveries reference it (PostgreSQL checks the
    # foreign key per statement; the unit of work orders by mapper otherwise).
    await session.flush()
    session.add_all(
        WebhookDelivery(
            org_id=org_id,
            event_id=event_id,
            endpoint_id=endpoint_id,
            url=url,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        for endpoint_id, url in targets
    )
    await session.flush()
    return event_id
