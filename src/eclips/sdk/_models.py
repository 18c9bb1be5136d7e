"""Typed response objects. Field names are the manual's; unknown fields are kept.

Timestamps stay the ISO-8601 strings the server sends (``2026-06-06T09:00:00.000Z``), ids
are strings, and statuses are plain strings so a status added by a newer server never
breaks an older client; compare them with :class:`RunStatus` and :class:`BatchStatus`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Agent",
    "AgentSettings",
    "BatchDetail",
    "BatchJob",
    "BatchRow",
    "BatchStatus",
    "Cancelled",
    "Deleted",
    "Health",
    "LedgerEntry",
    "MemberUsage",
    "Run",
    "RunAccepted",
    "RunEvent",
    "RunStatus",
    "RunWithTriage",
    "SigningSecret",
    "TriageItem",
    "TriageResolution",
    "TriageRun",
    "Usage",
    "UsageHistory",
    "UsageMembers",
    "Webhook",
    "WebhookDelivery",
    "WebhookSecret",
]


class RunStatus(StrEnum):
    """Where a run is in its lifecycle."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    AWAITING_TRIAGE = "awaiting_triage"
    CANCELLED = "cancelled"


class BatchStatus(StrEnum):
    """Where a batch job is in its lifecycle."""

    PENDING = "pending"
    RUNNING = "running"
    AWAITING_TRIAGE = "awaiting_triage"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL_RUN_STATUSES = frozenset({"completed", "failed", "cancelled"})


class EClipsModel(BaseModel):
    """Base of every response object: keeps fields the SDK does not know yet."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def to_dict(self) -> dict[str, Any]:
        """The object as JSON-ready data, with only the fields the server sent."""
        return self.model_dump(mode="json", exclude_unset=True)


class Health(EClipsModel):
    status: str
    version: str | None = None
    timestamp: str | None = None


class RunAccepted(EClipsModel):
    """The answer to ``POST /v1/run``: the run is queued and runs asynchronously."""

    run_id: str
    status: str
    agent_type: str
    estimated_completion: str | None = None

    @property
    def id(self) -> str:
        """The run's id (same as ``run_id``)."""
        return self.run_id


class Run(EClipsModel):
    """An agent run. List endpoints return the summary fields; ``get_run`` returns all."""

    id: str
    agent_type: str | None = None
    status: str
    priority: str | None = None
    created_at: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    confidence_score: float | None = None
    requires_triage: bool | None = None
    error_message: str | None = None
    batch_id: str | None = None
    row_index: int | None = None
    credits_charged: int | None = None
    task: str | None = None
    data: dict[str, Any] | None = None
    output: dict[str, Any] | None = None
    progress: list[dict[str, Any]] | None = None
    credits: int | None = None
    attempts: int | None = None
    custom_id: str | None = None
    retry_of: str | None = None


class TriageRun(EClipsModel):
    """The run a triage item blocks, as joined into ``GET /v1/triage``."""

    id: str
    agent_type: str | None = None
    confidence_score: float | None = None


class TriageItem(EClipsModel):
    """A run waiting for a human decision."""

    id: str
    run_id: str
    status: str
    triage_reason: str | None = None
    created_at: str | None = None
    resolved_at: str | None = None
    resolution_note: str | None = None
    agent_runs: TriageRun | None = None


class RunWithTriage(EClipsModel):
    """``GET /v1/runs/{id}``: the full run and its triage item, if any."""

    run: Run
    triage_item: TriageItem | None = None


class RunEvent(EClipsModel):
    """One status update from a run's SSE stream."""

    status: str
    confidence: float | None = None
    result: Any = None
    error: str | None = None


class Cancelled(EClipsModel):
    cancelled: bool


class Deleted(EClipsModel):
    success: bool


class TriageResolution(EClipsModel):
    """A triage item after approval or rejection."""

    id: str
    status: str
    resolved_at: str | None = None
    resolution_note: str | None = None


class Webhook(EClipsModel):
    """A registered webhook endpoint. ``secret`` is only present when it is created."""

    id: str
    url: str
    events: list[str]
    is_active: bool | None = None
    disabled_reason: str | None = None
    secret: str | None = None
    created_at: str | None = None


class WebhookSecret(EClipsModel):
    """A webhook's new signing secret after a rotation; the old one keeps signing beside it
    until ``previous_secret_expires_at``."""

    id: str
    secret: str
    previous_secret_expires_at: str | None = None


class SigningSecret(EClipsModel):
    """The organisation's secret that signs events sent to a run's or batch's
    ``webhook_url``."""

    secret: str


class WebhookDelivery(EClipsModel):
    """One HTTP attempt to deliver an event to a webhook."""

    id: str
    delivery_id: str | None = None
    event_id: str | None = None
    event_type: str | None = None
    attempt: int | None = None
    status_code: int | None = None
    latency_ms: float | None = None
    error: str | None = None
    created_at: str | None = None


class BatchJob(EClipsModel):
    """A batch job: the same agent over many rows."""

    id: str
    name: str | None = None
    agent_type: str | None = None
    status: str
    total_rows: int = 0
    completed_rows: int = 0
    failed_rows: int = 0
    triage_rows: int = 0
    cancelled_rows: int | None = None
    created_at: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    webhook_url: str | None = None


class BatchRow(EClipsModel):
    """One row of a batch job; each row is its own agent run."""

    id: str | None = None
    row_index: int
    task: str | None = None
    status: str
    result: Any = None
    error_message: str | None = None
    custom_id: str | None = None


class BatchDetail(EClipsModel):
    """``GET /v1/batches/{id}``: the job and its rows.

    The job's fields are also readable at top level (``detail.status``,
    ``detail.completed_rows``), as in the manual's SDK example.
    """

    job: BatchJob
    rows: list[BatchRow] = Field(default_factory=list)

    @property
    def id(self) -> str:
        return self.job.id

    @property
    def name(self) -> str | None:
        return self.job.name

    @property
    def agent_type(self) -> str | None:
        return self.job.agent_type

    @property
    def status(self) -> str:
        return self.job.status

    @property
    def total_rows(self) -> int:
        return self.job.total_rows

    @property
    def completed_rows(self) -> int:
        return self.job.completed_rows

    @property
    def failed_rows(self) -> int:
        return self.job.failed_rows

    @property
    def triage_rows(self) -> int:
        return self.job.triage_rows

    @property
    def cancelled_rows(self) -> int | None:
        return self.job.cancelled_rows

    @property
    def created_at(self) -> str | None:
        return self.job.created_at

    @property
    def started_at(self) -> str | None:
        return self.job.started_at

    @property
    def completed_at(self) -> str | None:
        return self.job.completed_at

    @property
    def finished_rows(self) -> int:
        """Rows that reached completed or failed."""
        return self.job.completed_rows + self.job.failed_rows


class Usage(EClipsModel):
    """The organisation's credit summary for the current period.

    On an unlimited plan ``included_credits`` is -1, ``unlimited`` is true and
    ``credits_remaining`` is None.
    """

    plan: str
    scope: str | None = None
    period: str
    included_credits: int
    topup_credits: int = 0
    credits_used: int
    credits_remaining: int | None = None
    unlimited: bool = False
    topup_price_per_1000_usd: int | float | None = None


class LedgerEntry(EClipsModel):
    """One credit movement: a run's charge, a top-up, a refund."""

    id: str
    kind: str
    credits: int
    period: str | None = None
    run_id: str | None = None
    member_id: str | None = None
    description: str | None = None
    created_at: str | None = None


class UsageHistory(EClipsModel):
    """``GET /v1/usage/history``: the last ledger entries, newest first."""

    data: list[LedgerEntry]


class MemberUsage(EClipsModel):
    member_id: str | None = None
    email: str | None = None
    runs: int = 0
    credits_used: int = 0


class UsageMembers(EClipsModel):
    """``GET /v1/usage/members``: credits used per member this period."""

    period: str
    data: list[MemberUsage]


class Agent(EClipsModel):
    """An agent type the server can run."""

    agent_type: str
    description: str | None = None
    credits_per_run: int | None = None
    settings_schema: dict[str, Any] | None = None


class AgentSettings(EClipsModel):
    """The organisation's settings for one agent type."""

    agent_type: str
    settings: dict[str, Any]
