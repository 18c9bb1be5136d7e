"""Engine and session factory for SQLite (embedded) and PostgreSQL (fleet)."""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from eclips.server.db import encryption
from eclips.server.settings import get_settings

# Failures that say "the database is away for now", not "this is a bug": PostgreSQL
# restarting or unreachable, a dropped connection, a pool that could not hand out a
# connection in time. asyncpg raises some unwrapped while connecting.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    DBAPIError,
    PoolTimeout,
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int | None = None,
    pool_timeout: float = 5,
) -> AsyncEngine:
    """An engine for ``url``, with the secrets key for its encrypted columns in place."""
    encryption.configure(encryption.keys_for(url, get_settings().secrets_key))
    if url.startswith("sqlite"):
        # One connection: every transaction here takes SQLite's single write lock anyway
        # (BEGIN IMMEDIATE), and queueing on the pool is fair and instant where many
        # connections would contend in SQLite's busy handler, which sleeps up to 100 ms a try.
        engine = create_async_engine(
            url, connect_args={"timeout": 60}, pool_size=1, max_overflow=0, pool_timeout=60
        )
        _configure_sqlite(engine)
        return engine
    # A short pool timeout and connect timeout by default: during an outage requests fail
    # fast with 503 instead of hanging. Workers, which can wait, pass a longer one.
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size * 2 if max_overflow is None else max_overflow,
        pool_pre_ping=True,
        pool_timeout=pool_timeout,
        connect_args={"timeout": 5},
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL for concurrent readers, and BEGIN IMMEDIATE so two writers queue on the busy
    timeout instead of failing with SQLITE_BUSY when a read transaction upgrades."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
