"""Per-API-key rate limits with the IETF ``RateLimit`` / ``RateLimit-Policy`` headers.

One process on SQLite counts in memory; on PostgreSQL the counters live in the database,
shared by every API process. Windows are fixed, counted with a ``limits`` storage.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eclips.server.errors import AppError
from eclips.server.ratelimit.storage import DatabaseStorage


class RateLimited(AppError):
    status_code = 429


@dataclass(frozen=True)
class Quota:
    """What one request left of its key's window, as response headers."""

    limit: int
    remaining: int
    reset_seconds: int
    window_seconds: int

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Policy": f'"default";q={self.limit};w={self.window_seconds}',
            "RateLimit": f'"default";r={self.remaining};t={self.reset_seconds}',
        }


class RateLimiter:
    def __init__(self, rule: str, storage: Storage) -> None:
        self._item: RateLimitItem = parse(rule)
        self._storage = storage

    @classmethod
    def for_database(
        cls, rule: str, sessions: async_sessionmaker[AsyncSession], *, is_sqlite: bool
    ) -> RateLimiter:
        storage: Storage = MemoryStorage() if is_sqlite else DatabaseStorage(sessions)
        return cls(rule, storage)

    async def hit(self, identity: str) -> Quota:
        """Count one request; 429 with ``Retry-After`` once the window's quota is spent."""
        used, resets_at = await self._count(identity)
        allowed = used <= self._item.amount
        reset = max(0, math.ceil(resets_at - time.time()))
        quota = Quota(
            limit=self._item.amount,
            remaining=max(0, self._item.amount - used),
            reset_seconds=reset,
            window_seconds=self._item.get_expiry(),
        )
        if not allowed:
            raise RateLimited(
                f"Rate limit exceeded: {self._item.amount} requests per "
                f"{quota.window_seconds} s for this API key; retry in {reset} s",
                headers={**quota.headers(), "Retry-After": str(max(reset, 1))},
            )
        return quota

    async def _count(self, identity: str) -> tuple[int, float]:
        """(requests in the window including this one, when the window ends)."""
        key, expiry = self._item.key_for(identity), self._item.get_expiry()
        if isinstance(self._storage, DatabaseStorage):
            return await self._storage.incr_with_expiry(key, expiry)
        count = await self._storage.incr(key, expiry)
        return count, await self._storage.get_expiry(key)
