"""Keys and scopes: every endpoint refuses a missing, bad or revoked key, and a missing scope."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid

import httpx
import pytest

from eclips.server import bootstrap
from tests.support.server import ROOT, LiveServer, server_env

ZERO = str(uuid.UUID(int=0, version=4))
# (method, path, scope) for every authenticated endpoint.
ENDPOINTS = [
    ("POST", "/v1/run", "agents:run"),
    ("GET", "/v1/runs", "agents:read"),
    ("GET", f"/v1/runs/{ZERO}", "agents:read"),
    ("GET", f"/v1/runs/{ZERO}/stream", "agents:read"),
    ("POST", f"/v1/runs/{ZERO}/cancel", "agents:run"),
    ("GET", "/v1/triage", "triage:read"),
    ("POST", f"/v1/triage/{ZERO}/approve", "triage:write"),
    ("POST", f"/v1/triage/{ZERO}/reject", "triage:write"),
    ("GET", "/v1/usage", "agents:read"),
    ("GET", "/v1/usage/history", "agents:read"),
    ("GET", "/v1/usage/members", "agents:read"),
    ("GET", "/v1/agents", "agents:read"),
    ("GET", "/v1/agents/center/settings", "agents:run"),
    ("PUT", "/v1/agents/center/settings", "agents:run"),
]
ALL_SCOPES = sorted(
    {scope for _, _, scope in ENDPOINTS}
    | {"batch:run", "batch:read", "webhooks:read", "webhooks:write"}
)


def call(client: httpx.Client, method: str, path: str) -> httpx.Response:
    return client.request(method, path, json={} if method in ("POST", "PUT") else None)


@pytest.mark.parametrize(("method", "path", "scope"), ENDPOINTS)
def test_missing_scope_is_403(live_server: LiveServer, method: str, path: str, scope: str) -> None:
    key = live_server.new_key([s for s in ALL_SCOPES if s != scope])
    response = call(live_server.client(key), method, path)
    assert response.status_code == 403
    assert response.json() == {"error": "Insufficient scope"}


@pytest.mark.parametrize(("method", "path", "scope"), ENDPOINTS)
def test_missing_or_bad_keys_are_401(
    live_server: LiveServer, method: str, path: str, scope: str
) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer eck_live_short"},
        {"Authorization": "Bearer eck_live_" + "A" * 36},
    ):
        response = httpx.request(
            method,
            live_server.base_url + path,
            headers=headers,
            json={} if method in ("POST", "PUT") else None,
        )
        assert response.status_code == 401, (headers, response.text)
        assert "error" in response.json()


def test_unknown_well_formed_key_is_401(live_server: LiveServer) -> None:
    key = live_server.new_key()
    forged = key[:-7] + ("B" if key[-7] != "B" else "C") + key[-6:]
    assert live_server.client(forged).get("/v1/runs").status_code == 401
    assert live_server.client(key).get("/v1/runs").status_code == 200


def test_revoked_key_stops_working_at_once(live_server: LiveServer) -> None:
    org = live_server.new_org()
    created = asyncio.run(
        bootstrap.create_key(org=org, member=None, scopes=[], database_url=live_server.database_url)
    )
    client = live_server.client(created["key"])
    assert client.get("/v1/runs").status_code == 200
    asyncio.run(bootstrap.revoke_key(created["id"], database_url=live_server.database_url))
    response = client.get("/v1/runs")
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]


def test_operator_cli_prints_each_result_on_the_last_line(live_server: LiveServer) -> None:
    env = server_env(live_server.database_url)

    def eclips(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "eclips", *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip().splitlines()[-1]

    name = f"cli-{uuid.uuid4().hex[:8]}"
    org_id = eclips("orgs", "create", name, "--plan", "team")
    uuid.UUID(org_id)
    key = eclips("keys", "create", "--org", name, "--scope", "agents:read")
    assert key.startswith("eck_live_")
    client = live_server.client(key)
    assert client.get("/v1/usage").json()["credits_remaining"] == 50_000
    assert client.post("/v1/run", json={"task": "x"}).status_code == 403
    assert eclips("credits", "topup", "--org", name, "1000") == "51000"
    assert client.get("/v1/usage").json()["topup_credits"] == 1000
