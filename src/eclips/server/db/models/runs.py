from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from eclips.server.db.base import Base, IdMixin
from eclips.server.db.types import JSONType, UTCDateTime


class Run(IdMixin, Base):
    """One agent run, and at the same time its queue entry (see DESIGN.md)."""

    __tablename__ = "runs"
    __table_args__ = (
        # Claim order: interactive before batch rows, then priority, then row index (so the
        # rows of concurrent batches take turns), then age.
        Index("ix_runs_queue", "status", "queue_lane", "priority_rank", "row_index", "created_at"),
        Index("ix_runs_org_created", "org_id", "created_at"),
        Index("ix_runs_org_reference", "org_id", "reference"),
        Index("ix_runs_batch_row", "batch_id", "row_index"),
        Index("ix_runs_lease", "status", "lease_expires_at"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("organizations.id"))
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("members.id"))
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("api_keys.id"))
    agent_type: Mapped[str] = mapped_column(String(100))
    task: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    priority: Mapped[str] = mapped_column(String(16))
    priority_rank: Mapped[int] = mapped_column(Integer)
    # 0 for interactive runs, 1 for batch rows: batches never starve interactive work.
    queue_lane: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(32))
    output: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    confidence_score: Mapped[float | None] = mapped_column(Float)
    requires_triage: Mapped[bool] = mapped_column(Boolean, default=False)
    error_message: Mapped[str | None] = mapped_column(Text)
    webhook_url: Mapped[str | None] = mapped_column(Text)
    credits: Mapped[int] = mapped_column(Integer)
    credits_charged: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    reference: Mapped[str | None] = mapped_column(String(200))
    batch_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("batch_jobs.id"))
    row_index: Mapped[int | None] = mapped_column(Integer)
    custom_id: Mapped[str | None] = mapped_column(String(200))
    retry_of: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker_id: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bumped on every visible change; SSE event ids are built from it.
    version: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TriageItem(IdMixin, Base):
    __tablename__ = "triage_items"
    __table_args__ = (
        UniqueConstraint("run_id"),
        Index("ix_triage_org_status", "org_id", "status", "created_at"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("organizations.id"))
    run_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("runs.id"))
    status: Mapped[str] = mapped_column(String(32))
    triage_reason: Mapped[str] = mapped_column(Text)
    resolution_note: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    resolved_by_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class LedgerEntry(IdMixin, Base):
    """Append-only credit ledger: a charge per run (unique), or a top-up."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        UniqueConstraint("run_id"),
        Index("ix_ledger_org_period", "org_id", "period"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("organizations.id"))
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    run_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(16))
    credits: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(7))
    description: Mapped[str] = mapped_column(Text)
