from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from eclips.server.db.base import Base, IdMixin
from eclips.server.db.types import UTCDateTime


class BatchJob(IdMixin, Base):
    """A batch job; its rows are runs carrying ``batch_id`` and ``row_index``."""

    __tablename__ = "batch_jobs"
    __table_args__ = (Index("ix_batch_jobs_org_created", "org_id", "created_at"),)

    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("organizations.id"))
    name: Mapped[str | None] = mapped_column(String(300))
    agent_type: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(32))
    total_rows: Mapped[int] = mapped_column(Integer)
    completed_rows: Mapped[int] = mapped_column(Integer, default=0)
    failed_rows: Mapped[int] = mapped_column(Integer, default=0)
    triage_rows: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_rows: Mapped[int] = mapped_column(Integer, default=0)
    webhook_url: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
