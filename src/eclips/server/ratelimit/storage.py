"""A ``limits`` storage in our own database, so every API process of a fleet shares one
count per key without another moving part (Redis) to run."""

from __future__ import annotations

import time

from limits.aio.storage import Storage
from sqlalchemy import case, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eclips.server.db.models import RateLimitCounter


class DatabaseStorage(Storage):
    """Fixed-window counters in ``rate_limit_counters``: one atomic upsert per hit."""

    STORAGE_SCHEME = ["eclips+db"]  # noqa: RUF012  (the base class declares it so)

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        super().__init__()
        self._sessions = sessions

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return (DBAPIError,)

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        count, _expires_at = await self.incr_with_expiry(key, expiry, amount)
        return count

    async def incr_with_expiry(self, key: str, expiry: int, amount: int = 1) -> tuple[int, float]:
        """Count a hit and read the window's end in one statement (one round trip)."""
        now = time.time()
        table = RateLimitCounter.__table__
        async with self._sessions.begin() as session:
            insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
            expired = table.c.expires_at <= now
            upsert = (
                insert(RateLimitCounter)
                .values(key=key, count=amount, expires_at=now + expiry)
                .on_conflict_do_update(
                    index_elements=[table.c.key],
                    set_={
                        "count": case((expired, amount), else_=table.c.count + amount),
                        "expires_at": case((expired, now + expiry), else_=table.c.expires_at),
                    },
                )
                .returning(table.c.count, table.c.expires_at)
            )
            count, expires_at = (await session.execute(upsert)).one()
            return int(count), float(expires_at)

    async def get(self, key: str) -> int:
        row = await self._row(key)
        return row[0] if row else 0

    async def get_expiry(self, key: str) -> float:
        row = await self._row(key)
        return row[1] if row else time.time()

    async def _row(self, key: str) -> tuple[int, float] | None:
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(RateLimitCounter.count, RateLimitCounter.expires_at).where(
                        RateLimitCounter.key == key, RateLimitCounter.expires_at > time.time()
                    )
                )
            ).first()
        return (int(row[0]), float(row[1])) if row else None

    async def check(self) -> bool:
        try:
            await self.get("health")
        except DBAPIError:
            return False
        return True

    async def reset(self) -> int | None:
        async with self._sessions.begin() as session:
            result = await session.execute(delete(RateLimitCounter))
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def clear(self, key: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key))
