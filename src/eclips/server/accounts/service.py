"""Organisations, members, API keys and credit top-ups: the operator's side of tenancy."""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from eclips.server.accounts import keys, plans, repository
from eclips.server.db.models import ApiKey, LedgerEntry, Member, Organization
from eclips.server.db.types import utcnow
from eclips.server.errors import BadRequest, NotFound, Unauthorized
from eclips.server.webhooks.signing import new_secret

# last_used_at is written at most this often per key, so reads stay reads.
_TOUCH_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True)
class Principal:
    """Who is calling: resolved from the bearer key on every request."""

    org_id: uuid.UUID
    key_id: uuid.UUID
    member_id: uuid.UUID | None
    scopes: frozenset[str]


async def create_org(session: AsyncSession, *, name: str, plan: str = "team") -> Organization:
    if plan not in plans.PLANS:
        raise BadRequest(f"Unknown plan: {plan} (choose from {', '.join(plans.PLANS)})")
    if await repository.org_by_name(session, name) is not None:
        raise BadRequest(f"Organisation already exists: {name}")
    org = Organization(
        name=name,
        plan=plan,
        included_credits=plans.PLANS[plan],
        signing_secret=new_secret(),
    )
    session.add(org)
    await session.flush()
    return org


async def get_org_by_name(session: AsyncSession, name: str) -> Organization:
    org = await repository.org_by_name(session, name)
    if org is None:
        raise NotFound(f"Organisation not found: {name}")
    return org


async def create_key(
    session: AsyncSession,
    *,
    org: Organization,
    member_email: str | None = None,
    scopes: list[str] | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; the plain key is returned once and never stored."""
    chosen = list(keys.SCOPES) if not scopes else scopes
    unknown = sorted(set(chosen) - set(keys.SCOPES))
    if unknown:
        raise BadRequest(f"Unknown scope: {', '.join(unknown)}")
    member_id = None
    if member_email:
        member = await repository.member_by_email(session, org.id, member_email)
        if member is None:
            member = Member(org_id=org.id, email=member_email)
            session.add(member)
            await session.flush()
        member_id = member.id
    plain = keys.generate_key()
    key = ApiKey(
        org_id=org.id,
        member_id=member_id,
        digest=keys.digest(plain),
        prefix=keys.display_prefix(plain),
        scopes=sorted(set(chosen)),
    )
    session.add(key)
    await session.flush()
    return key, plain


async def revoke_key(session: AsyncSession, *, key_id: uuid.UUID) -> ApiKey:
    key = await repository.key_by_id(session, key_id)
    if key is None:
        raise NotFound(f"API key not found: {key_id}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key


async def topup(session: AsyncSession, *, org: Organization, credits: int) -> LedgerEntry:
    if credits <= 0:
        raise BadRequest("Top-up credits must be a positive number")
    now = utcnow()
    entry = LedgerEntry(
        org_id=org.id,
        kind="topup",
        credits=credits,
        period=now.strftime("%Y-%m"),
        description=f"Top-up of {credits} credits",
        created_at=now,
    )
    session.add(entry)
    await session.flush()
    return entry


async def authenticate(session: AsyncSession, authorization: str | None) -> Principal:
    """Resolve a bearer key; 401 for a missing, malformed, unknown or revoked key."""
    if not authorization:
        raise Unauthorized("Missing API key: send Authorization: Bearer eck_live_...")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not keys.is_well_formed(token):
        raise Unauthorized("Malformed API key")
    digest = keys.digest(token)
    key = await repository.key_by_digest(session, digest)
    if key is None or not hmac.compare_digest(key.digest, digest):
        raise Unauthorized("Invalid API key")
    if key.revoked_at is not None:
        raise Unauthorized("API key has been revoked")
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > _TOUCH_INTERVAL:
        await repository.touch_key(session, key.id, now)
    return Principal(
        org_id=key.org_id, key_id=key.id, member_id=key.member_id, scopes=frozenset(key.scopes)
    )
