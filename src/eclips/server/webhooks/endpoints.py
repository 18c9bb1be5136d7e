from __future__ import annotations

import uuid

from fastapi import APIRouter

from eclips.server.api.deps import Pagination, Session, State, WebhooksRead, WebhooksWrite
from eclips.server.api.responses import errors, links
from eclips.server.webhooks import service
from eclips.server.webhooks.schemas import (
    Deleted,
    DeliveryAttemptList,
    RotatedSecretEnvelope,
    SigningSecretEnvelope,
    WebhookCreate,
    WebhookCreated,
    WebhookEnvelope,
    WebhookList,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


@router.post(
    "",
    status_code=201,
    responses={
        201: links(
            "delete_webhook",
            "list_deliveries",
            "rotate_secret",
            "enable_webhook",
            parameter="webhook_id",
            source="/data/id",
        ),
        **errors(400, 413),
    },
)
async def create_webhook(
    body: WebhookCreate, state: State, session: Session, principal: WebhooksWrite
) -> WebhookCreated:
    """Register an https:// URL for some events; the signing secret is shown once."""
    created = await service.create_webhook(session, principal, body=body, settings=state.settings)
    await session.commit()
    return WebhookCreated(data=created)


@router.get("", responses=errors())
async def list_webhooks(session: Session, principal: WebhooksRead) -> WebhookList:
    """The org's webhooks, without their secrets."""
    return WebhookList(data=await service.list_webhooks(session, principal))


@router.get("/signing-secret", responses=errors())
async def get_signing_secret(session: Session, principal: WebhooksWrite) -> SigningSecretEnvelope:
    """The org's secret that signs events sent to a run's or batch's webhook_url."""
    return SigningSecretEnvelope(data=await service.signing_secret(session, principal))


@router.post("/signing-secret/rotate", responses=errors())
async def rotate_signing_secret(
    session: Session, principal: WebhooksWrite
) -> SigningSecretEnvelope:
    """Replace the org's signing secret; it takes effect at once."""
    secret = await service.rotate_signing_secret(session, principal)
    await session.commit()
    return SigningSecretEnvelope(data=secret)


@router.delete("/{webhook_id}", responses=errors(400, 404))
async def delete_webhook(
    webhook_id: uuid.UUID, session: Session, principal: WebhooksWrite
) -> Deleted:
    """Delete a webhook; its pending deliveries are cancelled."""
    await service.delete_webhook(session, principal, webhook_id)
    await session.commit()
    return Deleted()


@router.get("/{webhook_id}/deliveries", responses=errors(400, 404))
async def list_deliveries(
    webhook_id: uuid.UUID, session: Session, principal: WebhooksRead, page: Pagination
) -> DeliveryAttemptList:
    """Recent delivery attempts to this webhook, newest first, with status and latency."""
    return await service.list_attempts(
        session, principal, webhook_id, limit=page.limit, offset=page.offset
    )


@router.post("/{webhook_id}/rotate-secret", responses=errors(400, 404))
async def rotate_secret(
    webhook_id: uuid.UUID, session: Session, principal: WebhooksWrite
) -> RotatedSecretEnvelope:
    """A new secret; the old one keeps signing beside it for 24 hours."""
    rotated = await service.rotate_secret(session, principal, webhook_id)
    await session.commit()
    return RotatedSecretEnvelope(data=rotated)


@router.post("/{webhook_id}/enable", responses=errors(400, 404))
async def enable_webhook(
    webhook_id: uuid.UUID, session: Session, principal: WebhooksWrite
) -> WebhookEnvelope:
    """Re-enable a disabled webhook; deliveries held meanwhile are sent."""
    webhook = await service.enable_webhook(session, principal, webhook_id)
    await session.commit()
    return WebhookEnvelope(data=webhook)
