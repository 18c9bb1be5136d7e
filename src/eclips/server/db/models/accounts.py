from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from eclips.server.db.base import Base, IdMixin
from eclips.server.db.encryption import EncryptedText
from eclips.server.db.types import JSONType, UTCDateTime


class Organization(IdMixin, Base):
    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    plan: Mapped[str] = mapped_column(String(32))
    # -1 means unlimited, as the manual's usage shape says.
    included_credits: Mapped[int] = mapped_column(Integer)
    # Signs events sent to per-run and per-batch webhook_url targets.
    signing_secret: Mapped[str] = mapped_column(EncryptedText)


class Member(IdMixin, Base):
    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("org_id", "email"),)

    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("organizations.id"), index=True)
    email: Mapped[str] = mapped_column(String(320))


class ApiKey(IdMixin, Base):
    __tablename__ = "api_keys"

    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("organizations.id"), index=True)
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("members.id"))
    # Only the SHA-256 digest of the key is stored; the prefix helps humans tell keys apart.
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(32))
    scopes: Mapped[list[str]] = mapped_column(JSONType)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AgentSettingsRow(Base):
    __tablename__ = "agent_settings"

    org_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organizations.id"), primary_key=True
    )
    agent_type: Mapped[str] = mapped_column(String(100), primary_key=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
