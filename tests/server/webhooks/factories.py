"""Small factories for webhook tests that talk to the database directly."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eclips.server.accounts.service import Principal, create_org
from eclips.server.db.models import (
    Organization,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from eclips.server.settings import Settings
from eclips.server.webhooks import signing
from eclips.server.webhooks.outbox import EVENT_TYPES, record_event

Sessions = async_sessionmaker[AsyncSession]


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "webhooks_allow_private": True,
        "webhook_retry_scale": 0.0001,
        "webhook_timeout_seconds": 5.0,
        "webhook_poll_seconds": 0.05,
        "webhook_concurrency": 8,
    }
    values.update(overrides)
    return Settings(**values)


async def new_org(sessions: Sessions) -> Organization:
    async with sessions.begin() as session:
        return await create_org(session, name=f"org-{uuid.uuid4().hex[:12]}")


def principal(org: Organization) -> Principal:
    return Principal(
        org_id=org.id,
        key_id=uuid.uuid4(),
        member_id=None,
        scopes=frozenset({"webhooks:read", "webhooks:write"}),
    )


async def new_endpoint(
    sessions: Sessions,
    org: Organization,
    url: str,
    *,
    events: list[str] | None = None,
    is_active: bool = True,
) -> WebhookEndpoint:
    async with sessions.begin() as session:
        endpoint = WebhookEndpoint(
            org_id=org.id,
            url=url,
            events=list(events or EVENT_TYPES),
            secret=signing.new_secret(),
            is_active=is_active,
        )
        session.add(endpoint)
    return endpoint


async def emit(
    sessions: Sessions,
    org: Organization,
    event_type: str = "run.completed",
    *,
    data: dict[str, Any] | None = None,
    extra_urls: tuple[str, ...] = (),
) -> uuid.UUID | None:
    async with sessions.begin() as session:
        return await record_event(
            session,
            org_id=org.id,
            event_type=event_type,
            data=data if data is not None else {"id": str(uuid.uuid4()), "status": "completed"},
            extra_urls=extra_urls,
        )


async def deliveries(sessions: Sessions) -> list[WebhookDelivery]:
    async with sessions() as session:
        result = await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.created_at))
        return list(result.all())


async def attempts(sessions: Sessions) -> list[WebhookAttempt]:
    async with sessions() as session:
        result = await session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.created_at))
        return list(result.all())


async def endpoint(sessions: Sessions, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    async with sessions() as session:
        found = await session.get(WebhookEndpoint, endpoint_id)
        assert found is not None
        return found
