from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from eclips.server.db.models import ApiKey, Member, Organization


async def org_by_name(session: AsyncSession, name: str) -> Organization | None:
    found: Organization | None = await session.scalar(
        select(Organization).where(Organization.name == name)
    )
    return found


async def org_by_id(session: AsyncSession, org_id: uuid.UUID) -> Organization | None:
    return await session.get(Organization, org_id)


async def any_org(session: AsyncSession) -> Organization | None:
    found: Organization | None = await session.scalar(select(Organization).limit(1))
    return found


async def member_by_email(session: AsyncSession, org_id: uuid.UUID, email: str) -> Member | None:
    found: Member | None = await session.scalar(
        select(Member).where(Member.org_id == org_id, Member.email == email)
    )
    return found


async def key_by_digest(session: AsyncSession, digest: str) -> ApiKey | None:
    found: ApiKey | None = await session.scalar(select(ApiKey).where(ApiKey.digest == digest))
    return found


async def key_by_id(session: AsyncSession, key_id: uuid.UUID) -> ApiKey | None:
    return await session.get(ApiKey, key_id)


async def touch_key(session: AsyncSession, key_id: uuid.UUID, now: datetime) -> None:
    await session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))
