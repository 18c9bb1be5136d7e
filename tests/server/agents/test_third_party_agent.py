"""A third-party agent package, installed with pip, is picked up at start and runs via the API.

The package (``tests/fixtures/eclips_agent_example``) is installed into a temporary
``--target`` folder that only the server process sees on its ``PYTHONPATH``, so the test
environment stays as it was. EClips finds it through its ``eclips.agents`` entry point.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.test_runs import finished
from tests.support.server import (
    ROOT,
    LiveServer,
    Process,
    database,
    free_port,
    server_env,
    wait_healthy,
)

PACKAGE = ROOT / "tests" / "fixtures" / "eclips_agent_example"


def install(target: Path, tmp: Path) -> None:
    source = shutil.copytree(PACKAGE, tmp / "source")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
    # With the build backend at hand the install needs no network; without it pip
    # fetches hatchling into an isolated build environment, as for any sdist.
    if importlib.util.find_spec("hatchling") is not None:
        command.append("--no-build-isolation")
    done = subprocess.run(
        [*command, "--target", str(target), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"pip could not install the example agent:\n{done.stderr[-4000:]}")


@pytest.fixture(scope="module")
def plugin_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp: Path = tmp_path_factory.mktemp("plugin")
    target = tmp / "site"
    install(target, tmp)
    assert (target / "eclips_agent_example").is_dir()
    with database(backend, tmp) as url:
        env = server_env(url)
        env["PYTHONPATH"] = os.pathsep.join([env["PYTHONPATH"], str(target)])
        port = free_port()
        process = Process(["serve", "--port", str(port)], env, tmp / "server.log").start()
        server = LiveServer(backend, url, f"http://127.0.0.1:{port}", tmp)
        try:
            wait_healthy(server.base_url, process)
            yield server
        finally:
            process.stop()


def test_the_package_does_not_leak_into_the_test_environment() -> None:
    assert importlib.util.find_spec("eclips_agent_example") is None


def test_an_installed_agent_is_listed(plugin_server: LiveServer) -> None:
    client = plugin_server.client(plugin_server.new_key())
    agents = {a["agent_type"]: a for a in client.get("/v1/agents").json()["data"]}
    assert {"center", "ap_specialist", "procurement_specialist"} <= set(agents)
    agent = agents["expense_checker"]
    assert agent["description"].startswith("Checks an expense claim")
    assert agent["credits_per_run"] == 1
    assert {"limit", "categories", "confidence_threshold"} <= set(
        agent["settings_schema"]["properties"]
    )


def test_an_installed_agent_runs_through_the_api(plugin_server: LiveServer) -> None:
    client = plugin_server.client(plugin_server.new_key())
    accepted = client.post(
        "/v1/run",
        json={
            "agent_type": "expense_checker",
            "task": "Taxi to the airport",
            "data": {"amount": 42.5, "category": "Travel"},
        },
    )
    assert accepted.status_code == 202
    assert accepted.json()["agent_type"] == "expense_checker"
    run = finished(client, accepted.json()["run_id"])["run"]
    assert run["status"] == "completed"
    assert run["output"] == {"amount": 42.5, "category": "travel", "problems": []}
    assert run["confidence_score"] == 0.95
    assert run["credits_charged"] == 1


def test_an_installed_agent_has_settings_and_triage(plugin_server: LiveServer) -> None:
    client = plugin_server.client(plugin_server.new_key())
    bad = client.put("/v1/agents/expense_checker/settings", json={"limit": 0})
    assert bad.status_code == 400
    assert "settings.limit:" in bad.json()["error"]
    response = client.put(
        "/v1/agents/expense_checker/settings", json={"limit": 100, "categories": ["meals"]}
    )
    assert response.status_code == 200
    accepted = client.post(
        "/v1/run",
        json={
            "agent_type": "expense_checker",
            "task": "Team dinner",
            "data": {"amount": 180, "category": "meals"},
        },
    ).json()
    detail = finished(client, accepted["run_id"])
    assert detail["run"]["status"] == "awaiting_triage"
    assert detail["triage_item"]["triage_reason"] == "Amount 180.00 above the limit 100.00"

    failed = client.post(
        "/v1/run", json={"agent_type": "expense_checker", "task": "Lunch", "data": {}}
    ).json()
    run = finished(client, failed["run_id"])["run"]
    assert run["status"] == "failed"
    assert run["error_message"] == "data.amount must be a positive number"


def test_the_docs_show_this_agent_whole_in_under_40_lines() -> None:
    source = (PACKAGE / "src" / "eclips_agent_example" / "__init__.py").read_text()
    assert len(source.splitlines()) < 40
    assert f"```python\n{source}```" in (ROOT / "docs" / "agents.md").read_text()
