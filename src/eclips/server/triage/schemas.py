from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field


class TriageRun(BaseModel):
    id: uuid.UUID
    agent_type: str
    confidence_score: float | None


class TriageListItem(BaseModel):
    id: uuid.UUID
    run_id: uuid.UUID
    status: str
    triage_reason: str
    created_at: str
    agent_runs: TriageRun


class TriageList(BaseModel):
    data: list[TriageListItem]
    total: int
    limit: int
    offset: int


class ApproveBody(BaseModel):
    resolution_note: str | None = Field(default=None, max_length=10_000)
    output: dict[str, Any] | None = Field(
        default=None, description="An edited output that replaces the run's output"
    )


class RejectBody(BaseModel):
    reason: str | None = Field(default=None, max_length=10_000)
    resolution_note: str | None = Field(default=None, max_length=10_000)


class Resolution(BaseModel):
    id: uuid.UUID
    status: str
    resolved_at: str | None
    resolution_note: str | None = None


class ResolutionEnvelope(BaseModel):
    data: Resolution
