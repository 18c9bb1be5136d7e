from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from eclips.server.api.fields import WEBHOOK_URL_PATTERN, Count, RequestBody, Timestamp
from eclips.server.db.models import WebhookAttempt, WebhookEndpoint
from eclips.server.db.types import iso
from eclips.server.webhooks.outbox import EVENT_TYPES
from eclips.server.webhooks.signing import SECRET_PREFIX
from eclips.server.webhooks.ssrf import MAX_URL_LENGTH

# Typed as plain strings so the service answers an unknown event with its own message;
# the schema still lists the event types.
_EVENT_TYPE_SCHEMA: dict[str, Any] = {"type": "string", "enum": list(EVENT_TYPES)}
EventType = Annotated[str, Field(json_schema_extra={"enum": list(EVENT_TYPES)})]
Secret = Annotated[str, Field(json_schema_extra={"pattern": f"^{SECRET_PREFIX}[A-Za-z0-9+/=]+$"})]


class WebhookCreate(RequestBody):
    """Body of ``POST /v1/webhooks``. Events are checked by the service, for a clear 400."""

    url: str = Field(
        max_length=MAX_URL_LENGTH,
        description="https:// URL that receives events",
        json_schema_extra={"pattern": WEBHOOK_URL_PATTERN},
    )
    events: list[str] = Field(
        description="Event types to receive, at least one",
        json_schema_extra={"minItems": 1, "items": _EVENT_TYPE_SCHEMA},
    )


class Webhook(BaseModel):
    id: uuid.UUID
    url: str
    events: list[EventType]
    is_active: bool
    disabled_reason: str | None = None
    created_at: Timestamp

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
    secret: Secret = Field(description="Shown once: verify deliveries with it")


class WebhookCreated(BaseModel):
    data: WebhookWithSecret


class WebhookEnvelope(BaseModel):
    data: Webhook


class WebhookList(BaseModel):
    data: list[Webhook]


class Deleted(BaseModel):
    success: Literal[True] = True


class RotatedSecret(BaseModel):
    id: uuid.UUID
    secret: Secret
    previous_secret_expires_at: Timestamp | None


class RotatedSecretEnvelope(BaseModel):
    data: RotatedSecret


class SigningSecret(BaseModel):
    secret: Secret


class SigningSecretEnvelope(BaseModel):
    data: SigningSecret


class DeliveryAttempt(BaseModel):
    id: uuid.UUID
    delivery_id: uuid.UUID
    event_id: uuid.UUID
    event_type: EventType
    attempt: int = Field(ge=1)
    status_code: int | None = Field(ge=100, le=599)
    latency_ms: float = Field(ge=0)
    error: str | None
    created_at: Timestamp

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
    total: Count
    limit: int = Field(ge=1, le=100)
    offset: Count
