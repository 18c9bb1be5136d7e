from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from eclips.server.api.fields import (
    NOT_BLANK,
    OPTIONAL_WEBHOOK_URL_PATTERN,
    AgentTypeName,
    Count,
    RequestBody,
    Timestamp,
)
from eclips.server.api.payload import RunData
from eclips.server.batches.counters import BatchStatus
from eclips.server.db.models import BatchJob, Run
from eclips.server.db.types import iso
from eclips.server.queue.status import RunStatus

MAX_ROWS = 500
TOO_MANY_ROWS = "Maximum 500 rows per batch"


class BatchRowIn(BaseModel):
    task: str = Field(min_length=1, max_length=100_000, json_schema_extra={"pattern": NOT_BLANK})
    data: RunData = Field(default_factory=dict)
    custom_id: str | None = Field(
        default=None, max_length=200, description="Your id for the row, echoed in its results"
    )


class BatchCreate(RequestBody):
    """Body of ``POST /v1/batches``. Unknown fields are ignored."""

    agent_type: AgentTypeName
    rows: Annotated[list[BatchRowIn], Field(min_length=1, json_schema_extra={"maxItems": MAX_ROWS})]
    name: str | None = Field(default=None, max_length=300)
    webhook_url: str | None = Field(
        default=None,
        max_length=2000,
        description="https:// URL that receives the events of the batch's rows",
        json_schema_extra={"pattern": OPTIONAL_WEBHOOK_URL_PATTERN},
    )

    @field_validator("rows")
    @classmethod
    def _at_most_500(cls, rows: list[BatchRowIn]) -> list[BatchRowIn]:
        if len(rows) > MAX_ROWS:
            raise ValueError(TOO_MANY_ROWS)
        return rows


class JobOut(BaseModel):
    id: uuid.UUID
    name: str | None
    agent_type: str
    status: BatchStatus
    total_rows: int = Field(ge=1, le=MAX_ROWS)
    completed_rows: Count
    failed_rows: Count
    triage_rows: Count
    cancelled_rows: Count
    created_at: Timestamp
    started_at: Timestamp | None
    completed_at: Timestamp | None
    webhook_url: str | None

    @classmethod
    def of(cls, job: BatchJob) -> JobOut:
        return cls(
            id=job.id,
            name=job.name,
            agent_type=job.agent_type,
            status=BatchStatus(job.status),
            total_rows=job.total_rows,
            completed_rows=job.completed_rows,
            failed_rows=job.failed_rows,
            triage_rows=job.triage_rows,
            cancelled_rows=job.cancelled_rows,
            created_at=iso(job.created_at) or "",
            started_at=iso(job.started_at),
            completed_at=iso(job.completed_at),
            webhook_url=job.webhook_url,
        )


class RowOut(BaseModel):
    id: uuid.UUID
    row_index: int = Field(ge=0, lt=MAX_ROWS)
    custom_id: str | None
    task: str
    status: RunStatus
    result: dict[str, Any] | None
    error_message: str | None

    @classmethod
    def of(cls, run: Run) -> RowOut:
        return cls(
            id=run.id,
            row_index=run.row_index or 0,
            custom_id=run.custom_id,
            task=run.task,
            status=RunStatus(run.status),
            result=run.output,
            error_message=run.error_message,
        )


class JobEnvelope(BaseModel):
    job: JobOut


class JobWithRows(BaseModel):
    job: JobOut
    rows: list[RowOut]


class JobList(BaseModel):
    jobs: list[JobOut]


class BatchCancelled(BaseModel):
    cancelled: Literal[True] = True
