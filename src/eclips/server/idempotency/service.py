"""``Idempotency-Key`` on creating POSTs, as Stripe does it.

The first request with a key inserts a record (the primary key makes concurrent
duplicates lose the race), does its work and stores its response in the same transaction
as that work. Later requests with the key replay the stored status and body; a different
body is 422; a request still in progress is 409. Records are kept 24 hours.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eclips.server.accounts.service import Principal
from eclips.server.db.models import IdempotencyRecord
from eclips.server.db.types import utcnow
from eclips.server.errors import AppError, Conflict

RETENTION = timedelta(hours=24)
ResultT = TypeVar("ResultT", bound=BaseModel)


class KeyReused(AppError):
    status_code = 422


def fingerprint(path: str, body: BaseModel | None) -> str:
    payload = body.model_dump(mode="json") if body is not None else None
    canonical = json.dumps([path, payload], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def idempotent(
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    key: str | None,
    request_fingerprint: str,
    status_code: int,
    work: Callable[[AsyncSession], Awaitable[ResultT]],
) -> ResultT | JSONResponse:
    """Run ``work`` (which must not commit) once per key; replay its response afterwards."""
    if key is None:
        async with sessions.begin() as session:
            return await work(session)
    replay = await _claim(sessions, principal, key, request_fingerprint)
    if replay is not None:
        return replay
    try:
        async with sessions.begin() as session:
            result = await work(session)
            await session.execute(
                update(IdempotencyRecord)
                .where(IdempotencyRecord.org_id == principal.org_id, IdempotencyRecord.key == key)
                .values(response_status=status_code, response_body=result.model_dump(mode="json"))
            )
    except BaseException:
        # The work failed and nothing of it committed: free the key for a retry.
        async with sessions.begin() as session:
            await session.execute(
                delete(IdempotencyRecord).where(
                    IdempotencyRecord.org_id == principal.org_id, IdempotencyRecord.key == key
                )
            )
        raise
    return result


async def _claim(
    sessions: async_sessionmaker[AsyncSession], principal: Principal, key: str, print_: str
) -> JSONResponse | None:
    """Insert the record, or explain why this request must not run."""
    for _ in range(2):
        async with sessions.begin() as session:
            if await _insert_if_absent(session, principal, key, print_):
                return None
        async with sessions.begin() as session:
            record = await session.get(IdempotencyRecord, (principal.org_id, key))
            if record is None:
                continue  # the first request failed and freed the key just now
            if record.created_at < utcnow() - RETENTION:
                await session.delete(record)
                continue
            if record.fingerprint != print_:
                raise KeyReused(
                    "Idempotency-Key was already used with a different request; "
                    "use a new key for a new request"
                )
            if record.response_status is None:
                raise Conflict("A request with this Idempotency-Key is still in progress")
            return JSONResponse(
                record.response_body,
                status_code=record.response_status,
                headers={"Idempotent-Replayed": "true"},
            )
    raise Conflict("A request with this Idempotency-Key is still in progress")


async def _insert_if_absent(
    session: AsyncSession, principal: Principal, key: str, print_: str
) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING: True when this request took the key."""
    values = {
        "org_id": principal.org_id,
        "key": key,
        "fingerprint": print_,
        "created_at": utcnow(),
    }
    dialect = session.bind.dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    result = await session.execute(
        insert(IdempotencyRecord).values(**values).on_conflict_do_nothing()
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
