from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from eclips.server.api.fields import (
    NOT_BLANK,
    OPTIONAL_WEBHOOK_URL_PATTERN,
    AgentTypeName,
    Confidence,
    Count,
    Credits,
    RequestBody,
    Timestamp,
)
from eclips.server.api.payload import RunData
from eclips.server.db.models import Run, TriageItem
from eclips.server.db.types import iso
from eclips.server.queue.status import Priority, RunStatus
from eclips.server.triage.schemas import TriageStatus


class RunCreate(RequestBody):
    """Body of ``POST /v1/run``. Unknown fields are ignored."""

    task: str = Field(
        min_length=1,
        max_length=100_000,
        description="What the agent must do",
        json_schema_extra={"pattern": NOT_BLANK},
    )
    agent_type: AgentTypeName = "center"
    data: RunData = Field(default_factory=dict)
    priority: Priority = Priority.NORMAL
    webhook_url: str | None = Field(
        default=None,
        max_length=2000,
        description="https:// URL that receives this run's events",
        json_schema_extra={"pattern": OPTIONAL_WEBHOOK_URL_PATTERN},
    )


class RunAccepted(BaseModel):
    run_id: uuid.UUID
    status: RunStatus
    agent_type: str
    estimated_completion: Literal["async"] = "async"


class RunSummary(BaseModel):
    id: uuid.UUID
    agent_type: str
    status: RunStatus
    priority: Priority
    created_at: Timestamp
    started_at: Timestamp | None
    completed_at: Timestamp | None
    confidence_score: Confidence | None
    requires_triage: bool
    error_message: str | None
    batch_id: uuid.UUID | None = None
    row_index: Count | None = None
    credits_charged: Credits = 0

    @classmethod
    def of(cls, run: Run) -> RunSummary:
        return cls(
            id=run.id,
            agent_type=run.agent_type,
            status=RunStatus(run.status),
            priority=Priority(run.priority),
            created_at=iso(run.created_at) or "",
            started_at=iso(run.started_at),
            completed_at=iso(run.completed_at),
            confidence_score=run.confidence_score,
            requires_triage=run.requires_triage,
            error_message=run.error_message,
            batch_id=run.batch_id,
            row_index=run.row_index,
            credits_charged=run.credits_charged,
        )


class RunDetail(RunSummary):
    task: str
    data: dict[str, Any]
    output: dict[str, Any] | None
    progress: list[dict[str, Any]]
    credits: Credits
    attempts: Count
    custom_id: str | None = None
    retry_of: uuid.UUID | None = None

    @classmethod
    def of(cls, run: Run) -> RunDetail:
        return cls(
            **RunSummary.of(run).model_dump(),
            task=run.task,
            data=run.data,
            output=run.output,
            progress=run.progress or [],
            credits=run.credits,
            attempts=run.attempts,
            custom_id=run.custom_id,
            retry_of=run.retry_of,
        )


class TriageItemBrief(BaseModel):
    id: uuid.UUID
    run_id: uuid.UUID
    status: TriageStatus
    triage_reason: str
    created_at: Timestamp
    resolved_at: Timestamp | None
    resolution_note: str | None

    @classmethod
    def of(cls, item: TriageItem) -> TriageItemBrief:
        return cls(
            id=item.id,
            run_id=item.run_id,
            status=item.status,
            triage_reason=item.triage_reason,
            created_at=iso(item.created_at) or "",
            resolved_at=iso(item.resolved_at),
            resolution_note=item.resolution_note,
        )


class RunWithTriage(BaseModel):
    run: RunDetail
    triage_item: TriageItemBrief | None


class RunList(BaseModel):
    data: list[RunSummary]
    total: Count
    limit: int = Field(ge=1, le=100)
    offset: Count


class Cancelled(BaseModel):
    cancelled: Literal[True] = True
