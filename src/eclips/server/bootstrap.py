"""Operator actions on the database, each in its own transaction (used by the CLI)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from eclips.server.accounts import repository, service
from eclips.server.db.migrate import upgrade
from eclips.server.db.session import create_engine, create_sessionmaker
from eclips.server.errors import BadRequest
from eclips.server.settings import Settings, get_settings
from eclips.server.usage import service as usage_service

DEMO_ORG = "demo"


@asynccontextmanager
async def _transaction(database_url: str | None = None) -> AsyncIterator[AsyncSession]:
    engine = create_engine(database_url or get_settings().database_url, pool_size=1)
    try:
        async with create_sessionmaker(engine).begin() as session:
            yield session
    finally:
        await engine.dispose()


async def prepare(settings: Settings) -> str | None:
    """Before serving: migrate SQLite, and on a first start create the demo org and a key."""
    if settings.is_sqlite:
        await upgrade(settings.database_url)
    async with _transaction(settings.database_url) as session:
        if await repository.any_org(session) is not None:
            return None
        org = await service.create_org(session, name=DEMO_ORG, plan="team")
        _key, plain = await service.create_key(session, org=org)
        return plain


async def create_org(*, name: str, plan: str, database_url: str | None = None) -> dict[str, Any]:
    async with _transaction(database_url) as session:
        org = await service.create_org(session, name=name, plan=plan)
        return {"id": str(org.id), "name": org.name, "plan": org.plan}


async def create_key(
    *, org: str, member: str | None, scopes: list[str], database_url: str | None = None
) -> dict[str, Any]:
    async with _transaction(database_url) as session:
        found = await service.get_org_by_name(session, org)
        key, plain = await service.create_key(
            session, org=found, member_email=member, scopes=scopes
        )
        return {"id": str(key.id), "key": plain, "org": org, "scopes": key.scopes}


async def revoke_key(key_id: str, *, database_url: str | None = None) -> dict[str, Any]:
    try:
        parsed = uuid.UUID(key_id)
    except ValueError as exc:
        raise BadRequest(f"Not a key id: {key_id}") from exc
    async with _transaction(database_url) as session:
        key = await service.revoke_key(session, key_id=parsed)
        return {"id": str(key.id), "revoked": True}


async def topup(*, org: str, credits: int, database_url: str | None = None) -> dict[str, Any]:
    async with _transaction(database_url) as session:
        found = await service.get_org_by_name(session, org)
        await service.topup(session, org=found, credits=credits)
        summary = await usage_service.summary(session, _operator(found.id))
        return summary.model_dump()


def _operator(org_id: uuid.UUID) -> service.Principal:
    return service.Principal(org_id=org_id, key_id=uuid.uuid4(), member_id=None, scopes=frozenset())
