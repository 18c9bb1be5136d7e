from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from eclips.server.api.fields import Count, Credits, Timestamp

# A calendar month, as the ledger records periods.
Period = Annotated[str, Field(pattern=r"^\d{4}-\d{2}$", examples=["2026-06"])]


class UsageSummary(BaseModel):
    plan: str
    scope: Literal["organization"]
    period: Period
    included_credits: int = Field(ge=-1, description="-1 on an unlimited plan")
    topup_credits: Credits
    credits_used: Credits
    credits_remaining: int | None = Field(description="null on an unlimited plan")
    unlimited: bool
    topup_price_per_1000_usd: int = Field(ge=0)


class LedgerEntryOut(BaseModel):
    id: uuid.UUID
    kind: Literal["charge", "topup"]
    credits: int
    period: Period
    run_id: uuid.UUID | None
    member_id: uuid.UUID | None
    description: str
    created_at: Timestamp


class LedgerHistory(BaseModel):
    data: list[LedgerEntryOut]


class MemberUsage(BaseModel):
    member_id: uuid.UUID | None
    email: str | None
    runs: Count
    credits_used: Credits


class MemberUsageList(BaseModel):
    period: Period
    data: list[MemberUsage]
