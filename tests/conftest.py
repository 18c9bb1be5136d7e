"""Fixtures shared by every suite: a real server per database backend.

Every test that takes ``live_server`` runs twice, on SQLite and on PostgreSQL. Tests
isolate themselves by creating their own organisation (``live_server.new_key()``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import LiveServer, database, start_server

BACKENDS = ["sqlite", "postgresql"]

# One secrets key for this test run, shared by the test process and every server it starts.
os.environ.setdefault("ECLIPS_SECRETS_KEY", "Y2xpcHMtdGVzdC1rZXktMzItYnl0ZXMtbG9uZy0hISE=")


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def live_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp: Path = tmp_path_factory.mktemp(f"server-{backend}")
    with database(backend, tmp) as url:
        server, process = start_server(backend, url, tmp)
        try:
            yield server
        finally:
            process.stop()
            for extra in server.processes:
                extra.stop()
