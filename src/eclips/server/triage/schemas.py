from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from eclips.server.api.fields import Confidence, Count, RequestBody, Timestamp

TriageStatus = Literal["pending", "approved", "rejected", "cancelled"]


class TriageRun(BaseModel):
    id: uuid.UUID
    agent_type: str
    confidence_score: Confidence | None


class TriageListItem(BaseModel):
    id: uuid.UUID
    run_id: uuid.UUID
    status: TriageStatus
    triage_reason: str
    created_at: Timestamp
    agent_runs: TriageRun


class TriageList(BaseModel):
    data: list[TriageListItem]
    total: Count
    limit: int = Field(ge=1, le=100)
    offset: Count


class ApproveBody(RequestBody):
    resolution_note: str | None = Field(default=None, max_length=10_000)
    output: dict[str, Any] | None = Field(
        default=None, description="An edited output that replaces the run's output"
    )


class RejectBody(RequestBody):
    reason: str | None = Field(default=None, max_length=10_000)
    resolution_note: str | None = Field(default=None, max_length=10_000)


class Resolution(BaseModel):
    id: uuid.UUID
    status: TriageStatus
    resolved_at: Timestamp | None
    resolution_note: str | None = None


class ResolutionEnvelope(BaseModel):
    data: Resolution
