from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sdk.fake_server import FakeServer


@pytest.fixture(scope="session")
def _fake_server() -> Iterator[FakeServer]:
    with FakeServer() as server:
        yield server


@pytest.fixture
def fake(_fake_server: FakeServer) -> FakeServer:
    """A scripted HTTP server on a free local port, with no routes yet."""
    _fake_server.reset()
    return _fake_server


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests choose their key and URL; the developer's environment must not leak in.
    monkeypatch.delenv("ECLIPS_API_KEY", raising=False)
    monkeypatch.delenv("ECLIPS_BASE_URL", raising=False)
