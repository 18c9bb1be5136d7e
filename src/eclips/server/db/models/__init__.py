"""All tables, imported here so Alembic and the app see one complete metadata."""

from eclips.server.db.models.accounts import AgentSettingsRow, ApiKey, Member, Organization
from eclips.server.db.models.batches import BatchJob
from eclips.server.db.models.idempotency import IdempotencyRecord
from eclips.server.db.models.ratelimit import RateLimitCounter
from eclips.server.db.models.runs import LedgerEntry, Run, TriageItem
from eclips.server.db.models.webhooks import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

__all__ = [
    "AgentSettingsRow",
    "ApiKey",
    "BatchJob",
    "IdempotencyRecord",
    "LedgerEntry",
    "Member",
    "Organization",
    "RateLimitCounter",
    "Run",
    "TriageItem",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
]
