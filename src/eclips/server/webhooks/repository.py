"""All webhook SQL. Tenant scoping lives in the ``*_for_org`` functions; the dispatcher's
functions work across orgs because deliveries are already bound to theirs."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from eclips.server.db.models import (
    Organization,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from eclips.server.webhooks.status import DeliveryStatus

PENDING = DeliveryStatus.PENDING
CANCELLED = DeliveryStatus.CANCELLED


# --- endpoints, scoped to one org -------------------------------------------------------


def _live_for_org(org_id: uuid.UUID) -> list[ColumnElement[bool]]:
    return [WebhookEndpoint.org_id == org_id, WebhookEndpoint.deleted_at.is_(None)]


async def endpoints_for_org(session: AsyncSession, org_id: uuid.UUID) -> Sequence[WebhookEndpoint]:
    result = await session.scalars(
        select(WebhookEndpoint)
        .where(*_live_for_org(org_id))
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )
    return result.all()


async def count_for_org(session: AsyncSession, org_id: uuid.UUID) -> int:
    total = await session.scalar(
        select(func.count()).select_from(WebhookEndpoint).where(*_live_for_org(org_id))
    )
    return total or 0


async def endpoint_for_org(
    session: AsyncSession, org_id: uuid.UUID, endpoint_id: uuid.UUID, *, lock: bool = False
) -> WebhookEndpoint | None:
    query = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id, *_live_for_org(org_id))
    if lock:
        query = query.with_for_update()
    return (await session.scalars(query)).first()


async def subscribed_endpoints(
    session: AsyncSession, org_id: uuid.UUID, event_type: str
) -> list[WebhookEndpoint]:
    # An org has a handful of endpoints: filtering the JSON list here keeps the query the
    # same on SQLite and PostgreSQL.
    result = await session.scalars(
        select(WebhookEndpoint).where(*_live_for_org(org_id), WebhookEndpoint.is_active)
    )
    return [e for e in result.all() if event_type in e.events]


async def org_for_update(session: AsyncSession, org_id: uuid.UUID) -> Organization | None:
    query = select(Organization).where(Organization.id == org_id).with_for_update()
    return (await session.scalars(query)).first()


async def org_signing_secret(session: AsyncSession, org_id: uuid.UUID) -> str | None:
    query = select(Organization.signing_secret).where(Organization.id == org_id)
    return (await session.scalars(query)).first()


async def attempts_for_endpoint(
    session: AsyncSession, org_id: uuid.UUID, endpoint_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[Sequence[WebhookAttempt], int]:
    where = [WebhookAttempt.org_id == org_id, WebhookAttempt.endpoint_id == endpoint_id]
    total = await session.scalar(select(func.count()).select_from(WebhookAttempt).where(*where))
    result = await session.scalars(
        select(WebhookAttempt)
        .where(*where)
        .order_by(WebhookAttempt.created_at.desc(), WebhookAttempt.id)
        .limit(limit)
        .offset(offset)
    )
    return result.all(), total or 0


async def cancel_pending(session: AsyncSession, endpoint_id: uuid.UUID, *, reason: str) -> None:
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == PENDING)
        .values(status=CANCELLED, last_error=reason, locked_until=None)
        .execution_options(synchronize_session=False)
    )


async def resume_pending(session: AsyncSession, endpoint_id: uuid.UUID, *, now: datetime) -> None:
    """Deliveries held while the endpoint was disabled become due at once."""
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == PENDING)
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )


# --- the dispatcher ---------------------------------------------------------------------


def _endpoint_accepts() -> ColumnElement[bool]:
    """Deliveries to a disabled endpoint wait (re-enabling resumes them); per-run URLs
    have no endpoint."""
    return or_(
        WebhookDelivery.endpoint_id.is_(None),
        exists().where(
            WebhookEndpoint.id == WebhookDelivery.endpoint_id,
            WebhookEndpoint.is_active,
            WebhookEndpoint.deleted_at.is_(None),
        ),
    )


async def due_candidates(
    session: AsyncSession, *, now: datetime, limit: int, exclude_urls: Collection[str]
) -> Sequence[tuple[uuid.UUID, str]]:
    """Due deliveries, oldest first, row-locked with SKIP LOCKED on PostgreSQL (SQLite has
    one writer at a time, so the transaction itself is the lock)."""
    query = (
        select(WebhookDelivery.id, WebhookDelivery.url)
        .where(
            WebhookDelivery.status == PENDING,
            WebhookDelivery.next_attempt_at <= now,
            or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until < now),
            _endpoint_accepts(),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    )
    if exclude_urls:
        query = query.where(WebhookDelivery.url.not_in(list(exclude_urls)))
    rows = await session.execute(query)
    return [(row[0], row[1]) for row in rows.all()]


async def lease(
    session: AsyncSession, delivery_ids: Sequence[uuid.UUID], *, now: datetime, until: datetime
) -> Sequence[WebhookDelivery]:
    """Take the lease and count the attempt; ``attempts`` is then the fencing token that
    the finishing update checks, so a dispatcher whose lease expired changes nothing."""
    if not delivery_ids:
        return []
    result = await session.scalars(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id.in_(delivery_ids),
            WebhookDelivery.status == PENDING,
            or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until < now),
        )
        .values(locked_until=until, attempts=WebhookDelivery.attempts + 1)
        .returning(WebhookDelivery)
        .execution_options(synchronize_session=False)
    )
    return result.all()


async def events_by_id(
    session: AsyncSession, event_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, WebhookEvent]:
    if not event_ids:
        return {}
    result = await session.scalars(select(WebhookEvent).where(WebhookEvent.id.in_(event_ids)))
    return {event.id: event for event in result.all()}


async def endpoints_by_id(
    session: AsyncSession, endpoint_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, WebhookEndpoint]:
    if not endpoint_ids:
        return {}
    result = await session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.id.in_(endpoint_ids))
    )
    return {endpoint.id: endpoint for endpoint in result.all()}


async def signing_secrets_by_org(
    session: AsyncSession, org_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, str]:
    if not org_ids:
        return {}
    rows = await session.execute(
        select(Organization.id, Organization.signing_secret).where(Organization.id.in_(org_ids))
    )
    return {row[0]: row[1] for row in rows.all()}


async def finish_delivery(
    session: AsyncSession,
    delivery_id: uuid.UUID,
    *,
    fence: int,
    values: dict[str, object],
) -> bool:
    """Apply an attempt's outcome if this dispatcher still holds the lease."""
    result = await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == PENDING,
            WebhookDelivery.attempts == fence,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def endpoint_succeeded(session: AsyncSession, endpoint_id: uuid.UUID) -> None:
    await session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.failing_since.is_not(None))
        .values(failing_since=None)
        .execution_options(synchronize_session=False)
    )


async def endpoint_failed(
    session: AsyncSession, endpoint_id: uuid.UUID, *, now: datetime
) -> datetime | None:
    """Start (or continue) the endpoint's run of failures; returns when it began."""
    await session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.failing_since.is_(None))
        .values(failing_since=now)
        .execution_options(synchronize_session=False)
    )
    query = select(WebhookEndpoint.failing_since).where(WebhookEndpoint.id == endpoint_id)
    return (await session.scalars(query)).first()


async def disable_endpoint(
    session: AsyncSession, endpoint_id: uuid.UUID, *, reason: str, now: datetime
) -> None:
    await session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.is_active)
        .values(is_active=False, disabled_reason=reason, disabled_at=now)
        .execution_options(synchronize_session=False)
    )
