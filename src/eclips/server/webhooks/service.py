"""Webhook endpoints of an org: register, list, delete, rotate, re-enable; the org's
signing secret for per-run and per-batch ``webhook_url`` targets."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from eclips.server.accounts.service import Principal
from eclips.server.db.models import WebhookEndpoint
from eclips.server.db.types import iso, utcnow
from eclips.server.errors import BadRequest, NotFound
from eclips.server.settings import Settings
from eclips.server.webhooks import repository, signing, ssrf
from eclips.server.webhooks.outbox import EVENT_TYPES
from eclips.server.webhooks.schemas import (
    DeliveryAttempt,
    DeliveryAttemptList,
    RotatedSecret,
    SigningSecret,
    Webhook,
    WebhookCreate,
    WebhookWithSecret,
)

MAX_ENDPOINTS_PER_ORG = 50
# After a rotation the old secret keeps signing beside the new one this long.
ROTATION_GRACE = timedelta(hours=24)


def check_events(events: list[str]) -> list[str]:
    """The events, de-duplicated in order; 400 when empty or naming an unknown type."""
    known = ", ".join(EVENT_TYPES)
    if not events:
        raise BadRequest(f"events must be a non-empty array of: {known}")
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        raise BadRequest(f"Unknown event type: {unknown[0]} (choose from {known})")
    return list(dict.fromkeys(events))


async def create_webhook(
    session: AsyncSession, principal: Principal, *, body: WebhookCreate, settings: Settings
) -> WebhookWithSecret:
    events = check_events(body.events)
    url = await ssrf.validate_url(body.url, allow_private=settings.webhooks_allow_private)
    if await repository.count_for_org(session, principal.org_id) >= MAX_ENDPOINTS_PER_ORG:
        raise BadRequest(f"Maximum {MAX_ENDPOINTS_PER_ORG} webhooks per organisation")
    endpoint = WebhookEndpoint(
        org_id=principal.org_id,
        url=url,
        events=events,
        secret=signing.new_secret(),
        is_active=True,
        created_at=utcnow(),
    )
    session.add(endpoint)
    await session.flush()
    return WebhookWithSecret(**Webhook.of(endpoint).model_dump(), secret=endpoint.secret)


async def list_webhooks(session: AsyncSession, principal: Principal) -> list[Webhook]:
    endpoints = await repository.endpoints_for_org(session, principal.org_id)
    return [Webhook.of(e) for e in endpoints]


async def _get(
    session: AsyncSession, principal: Principal, webhook_id: uuid.UUID
) -> WebhookEndpoint:
    endpoint = await repository.endpoint_for_org(session, principal.org_id, webhook_id, lock=True)
    if endpoint is None:
        raise NotFound("Webhook not found")
    return endpoint


async def delete_webhook(
    session: AsyncSession, principal: Principal, webhook_id: uuid.UUID
) -> None:
    """Soft-delete: attempts stay visible to the operator; pending deliveries are cancelled."""
    endpoint = await _get(session, principal, webhook_id)
    endpoint.deleted_at = utcnow()
    endpoint.is_active = False
    await repository.cancel_pending(session, endpoint.id, reason="Webhook deleted")


async def rotate_secret(
    session: AsyncSession, principal: Principal, webhook_id: uuid.UUID
) -> RotatedSecret:
    endpoint = await _get(session, principal, webhook_id)
    now = utcnow()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + ROTATION_GRACE
    endpoint.secret = signing.new_secret()
    return RotatedSecret(
        id=endpoint.id,
        secret=endpoint.secret,
        previous_secret_expires_at=iso(endpoint.previous_secret_expires_at),
    )


async def enable_webhook(
    session: AsyncSession, principal: Principal, webhook_id: uuid.UUID
) -> Webhook:
    """Re-enable a disabled endpoint; deliveries held while it was disabled go out at once."""
    endpoint = await _get(session, principal, webhook_id)
    if not endpoint.is_active:
        now = utcnow()
        endpoint.is_active = True
        endpoint.disabled_reason = None
        endpoint.disabled_at = None
        endpoint.failing_since = None
        await repository.resume_pending(session, endpoint.id, now=now)
    return Webhook.of(endpoint)


async def list_attempts(
    session: AsyncSession, principal: Principal, webhook_id: uuid.UUID, *, limit: int, offset: int
) -> DeliveryAttemptList:
    endpoint = await repository.endpoint_for_org(session, principal.org_id, webhook_id)
    if endpoint is None:
        raise NotFound("Webhook not found")
    attempts, total = await repository.attempts_for_endpoint(
        session, principal.org_id, endpoint.id, limit=limit, offset=offset
    )
    return DeliveryAttemptList(
        data=[DeliveryAttempt.of(a) for a in attempts], total=total, limit=limit, offset=offset
    )


async def signing_secret(session: AsyncSession, principal: Principal) -> SigningSecret:
    secret = await repository.org_signing_secret(session, principal.org_id)
    if secret is None:
        raise NotFound("Organisation not found")
    return SigningSecret(secret=secret)


async def rotate_signing_secret(session: AsyncSession, principal: Principal) -> SigningSecret:
    """A new org signing secret, effective at once (the org keeps no previous secret)."""
    org = await repository.org_for_update(session, principal.org_id)
    if org is None:
        raise NotFound("Organisation not found")
    org.signing_secret = signing.new_secret()
    return SigningSecret(secret=org.signing_secret)
