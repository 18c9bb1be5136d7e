"""Per-key rate limits: 429 with Retry-After and the IETF headers, shared across API
processes on PostgreSQL, health exempt."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import LiveServer, Process, database, start_server


@pytest.fixture(scope="module")
def limited(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, LiveServer | None]]:
    """Two API processes on PostgreSQL (one on SQLite), each allowing 5 requests a minute."""
    tmp: Path = tmp_path_factory.mktemp("limited")
    with database(backend, tmp) as url:
        first, first_process = start_server(backend, url, tmp, rate_limit="5/minute")
        processes: list[Process] = [first_process]
        second: LiveServer | None = None
        if backend == "postgresql":
            other = tmp / "second"
            other.mkdir()
            second, second_process = start_server(
                backend, url, other, worker=False, rate_limit="5/minute"
            )
            processes.append(second_process)
        try:
            yield first, second
        finally:
            for process in processes:
                process.stop()


def test_sixth_request_in_a_minute_is_429(limited: tuple[LiveServer, LiveServer | None]) -> None:
    server, _ = limited
    client = server.client(server.new_key())
    responses = [client.get("/v1/runs") for _ in range(5)]
    assert [r.status_code for r in responses] == [200] * 5
    assert responses[0].headers["RateLimit-Policy"] == '"default";q=5;w=60'
    assert responses[0].headers["RateLimit"].startswith('"default";r=4;t=')
    assert responses[4].headers["RateLimit"].startswith('"default";r=0;t=')
    refused = client.get("/v1/runs")
    assert refused.status_code == 429
    assert "Rate limit exceeded" in refused.json()["error"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["RateLimit"].startswith('"default";r=0;')
    # Another key has its own quota; health is never limited.
    assert server.client(server.new_key()).get("/v1/runs").status_code == 200
    for _ in range(10):
        assert httpx.get(f"{server.base_url}/v1/health").status_code == 200


def test_limit_is_shared_across_api_processes(
    limited: tuple[LiveServer, LiveServer | None],
) -> None:
    first, second = limited
    if second is None:
        pytest.skip("one process per SQLite database")
    key = first.new_key()
    codes = [
        (first if i % 2 else second).client(key).get("/v1/usage").status_code for i in range(6)
    ]
    assert codes == [200] * 5 + [429]
