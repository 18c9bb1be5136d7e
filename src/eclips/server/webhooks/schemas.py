from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from eclips.server.db.models import WebhookAttempt, WebhookEndpoint
from eclips.server.db.types import iso
from eclips.server.webhooks.ssrf import MAX_URL_LENGTH


class WebhookCreate(BaseModel):
    """Body of ``POST /v1/webhooks``. Events are checked by the service, for a clear 400."""

    url: str = Field(max_length=MAX_URL_LENGTH, description="https:// URL that receives events")
    events: list[str] = Field(description="Event types to receive, at least one")


class Webhook(BaseModel):
    id: uuid.UUID
    url: str
    events: list[str]
    is_active: bool
    disabled_reason: str | None = None
    created_at: str

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> Webhook:
        return cls(
            id=endpoint.id,
            url=endpoint.url,
            events=list(endpoint.events),
            is_active=endpoint.is_active,
            disabled_reason=endpoint.disabled_reason,
            created_at=iso(endpoint.created_at) or "",
        )


class WebhookWithSecret(Webhook):
    secret: str = Field(description="Shown once: verify deliveries with it")


class WebhookCreated(BaseModel):
    data: WebhookWithSecret


class WebhookEnvelope(BaseModel):
    data: Webhook


class WebhookList(BaseModel):
    data: list[Webhook]


class Deleted(BaseModel):
    success: bool = True


class RotatedSecret(BaseModel):
    id: uuid.UUID
    secret: str
    previous_secret_expires_at: str | None


class RotatedSecretEnvelope(BaseModel):
    data: RotatedSecret


class SigningSecret(BaseModel):
    secret: str


class SigningSecretEnvelope(BaseModel):
    data: SigningSecret


class DeliveryAttempt(BaseModel):
    id: uuid.UUID
    delivery_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    attempt: int
    status_code: int | None
    latency_ms: float
    error: str | None
    created_at: str

    @classmethod
    def of(cls, attempt: WebhookAttempt) -> DeliveryAttempt:
        return cls(
            id=attempt.id,
            delivery_id=attempt.delivery_id,
            event_id=attempt.event_id,
            event_type=attempt.event_type,
            attempt=attempt.attempt,
            status_code=attempt.status_code,
            latency_ms=attempt.latency_ms,
            error=attempt.error,
            created_at=iso(attempt.created_at) or "",
        )


class DeliveryAttemptList(BaseModel):
    data: list[DeliveryAttempt]
    total: int
    limit: int
    offset: int
