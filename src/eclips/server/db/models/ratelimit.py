from __future__ import annotations

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from eclips.server.db.base import Base


class RateLimitCounter(Base):
    """One fixed-window counter of the rate limiter, shared by every API process."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    # Unix time at which the window ends.
    expires_at: Mapped[float] = mapped_column(Float)
