"""Credits: computed from the append-only ledger for the current calendar month (UTC).

Top-ups count in the month they are bought. A run reserves its price when accepted and is
charged once, by a ledger row unique per run, when its agent work ends (completed or sent
to triage); failed and cancelled runs are not charged.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from eclips.server.accounts import plans
from eclips.server.accounts.repository import org_by_id
from eclips.server.accounts.service import Principal
from eclips.server.db.models import Organization, Run
from eclips.server.db.types import iso, utcnow
from eclips.server.errors import NotFound, PaymentRequired
from eclips.server.runs.repository import reserved_credits
from eclips.server.usage import repository
from eclips.server.usage.schemas import (
    LedgerEntryOut,
    LedgerHistory,
    MemberUsage,
    MemberUsageList,
    UsageSummary,
)

HISTORY_LENGTH = 50


def current_period() -> str:
    return utcnow().strftime("%Y-%m")


async def _org(session: AsyncSession, principal: Principal) -> Organization:
    org = await org_by_id(session, principal.org_id)
    if org is None:
        raise NotFound("Organisation not found")
    return org


async def summary(session: AsyncSession, principal: Principal) -> UsageSummary:
    org = await _org(session, principal)
    period = current_period()
    totals = await repository.period_totals(session, org.id, period)
    used, topups = totals.get("charge", 0), totals.get("topup", 0)
    unlimited = org.included_credits == plans.UNLIMITED
    return UsageSummary(
        plan=org.plan,
        scope="organization",
        period=period,
        included_credits=org.included_credits,
        topup_credits=topups,
        credits_used=used,
        credits_remaining=None if unlimited else org.included_credits + topups - used,
        unlimited=unlimited,
        topup_price_per_1000_usd=plans.TOPUP_PRICE_PER_1000_USD,
    )


async def ensure_affordable(session: AsyncSession, principal: Principal, *, credits: int) -> None:
    """402 when the org cannot pay for ``credits`` more on top of what is already promised."""
    if (await _org(session, principal)).included_credits == plans.UNLIMITED:
        return  # nothing to sum up: unlimited plans never run out
    usage = await summary(session, principal)
    if usage.credits_remaining is None:
        return
    available = usage.credits_remaining - await reserved_credits(session, principal.org_id)
    if credits > available:
        raise PaymentRequired(
            f"Insufficient credits: this request needs {credits} credits and "
            f"{max(available, 0)} are available this period. Buy a top-up to continue."
        )


async def history(session: AsyncSession, principal: Principal) -> LedgerHistory:
    entries = await repository.recent_entries(session, principal.org_id, limit=HISTORY_LENGTH)
    return LedgerHistory(
        data=[
            LedgerEntryOut(
                id=e.id,
                kind=e.kind,
                credits=e.credits,
                period=e.period,
                run_id=e.run_id,
                member_id=e.member_id,
                description=e.description,
                created_at=iso(e.created_at) or "",
            )
            for e in entries
        ]
    )


async def members(session: AsyncSession, principal: Principal) -> MemberUsageList:
    period = current_period()
    rows = await repository.member_usage(session, principal.org_id, period)
    return MemberUsageList(
        period=period,
        data=[MemberUsage(member_id=m, email=e, runs=n, credits_used=c) for m, e, n, c in rows],
    )


async def charge(session: AsyncSession, run: Run) -> None:
    session.add(repository.charge_entry(run, current_period()))
