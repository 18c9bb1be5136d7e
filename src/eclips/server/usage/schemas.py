from __future__ import annotations

import uuid

from pydantic import BaseModel


class UsageSummary(BaseModel):
    plan: str
    scope: str
    period: str
    included_credits: int
    topup_credits: int
    credits_used: int
    credits_remaining: int | None
    unlimited: bool
    topup_price_per_1000_usd: int


class LedgerEntryOut(BaseModel):
    id: uuid.UUID
    kind: str
    credits: int
    period: str
    run_id: uuid.UUID | None
    member_id: uuid.UUID | None
    description: str
    created_at: str


class LedgerHistory(BaseModel):
    data: list[LedgerEntryOut]


class MemberUsage(BaseModel):
    member_id: uuid.UUID | None
    email: str | None
    runs: int
    credits_used: int


class MemberUsageList(BaseModel):
    period: str
    data: list[MemberUsage]
