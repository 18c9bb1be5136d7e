"""Fixtures for the webhooks suite: a migrated database per backend, orgs, receivers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eclips.server.db.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from eclips.server.db.session import create_engine, create_sessionmaker
from tests.server.webhooks.receiver import Receiver, self_signed_certificate
from tests.support.server import database


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with database(str(request.param), tmp_path_factory.mktemp("webhooks-db")) as url:
        yield url


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A session factory on a database whose webhook tables start empty."""
    engine = create_engine(database_url, pool_size=4)
    factory = create_sessionmaker(engine)
    async with factory.begin() as session:
        for model in (WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookEndpoint):
            await session.execute(delete(model))
    try:
        yield factory
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
def tls_receiver(certificate: tuple[Path, Path]) -> Iterator[Receiver]:
    with Receiver(tls=certificate) as running:
        yield running
