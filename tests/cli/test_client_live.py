"""The client commands against a real server: through Typer's runner and as a subprocess."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from eclips.cli.main import app
from tests.server.webhooks.receiver import Receiver
from tests.support.server import LiveServer

ROOT = Path(__file__).resolve().parents[2]


def cli(live_server: LiveServer, key: str | None, *args: str) -> Any:
    env = {"ECLIPS_BASE_URL": live_server.base_url, "COLUMNS": "200", "ECLIPS_API_KEY": key or ""}
    return CliRunner().invoke(app, list(args), env=env)


def cli_json(live_server: LiveServer, key: str, *args: str) -> Any:
    result = cli(live_server, key, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def eclips(live_server: LiveServer, key: str | None, *args: str, stdin: str | None = None):
    env = {
        **os.environ,
        "ECLIPS_BASE_URL": live_server.base_url,
        "PYTHONPATH": str(ROOT),
        "COLUMNS": "200",  # as cli() does; pytest-xdist exports COLUMNS=80 to workers
    }
    env.pop("ECLIPS_API_KEY", None)
    if key:
        env["ECLIPS_API_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "eclips", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.timeout(600)  # 1,030 agent runs; a minute or more on a busy machine
def test_batch_create_1001_rows_with_wait_as_a_subprocess(
    live_server: LiveServer, tmp_path: Path
) -> None:
    key = live_server.new_key()
    path = tmp_path / "invoices.csv"
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["task", "custom_id", "amount"])
        writer.writerows([f"Process invoice INV-{i}", f"inv-{i}", i] for i in range(1001))
    done = eclips(
        live_server, key, "batch", "create", str(path), "--agent", "test_noop", "--wait",
        "--interval", "0.5", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    jobs = json.loads(done.stdout)["jobs"]
    assert [j["total_rows"] for j in jobs] == [500, 500, 1]
    assert [j["name"] for j in jobs] == [f"invoices.csv ({i}/3)" for i in (1, 2, 3)]
    assert all(j["status"] == "completed" and j["completed_rows"] == j["total_rows"] for j in jobs)

    listed = cli_json(live_server, key, "batch", "list")["jobs"]
    assert {j["id"] for j in listed} == {j["id"] for j in jobs}
    results = eclips(live_server, key, "batch", "results", jobs[1]["id"], "--format", "csv")
    assert results.returncode == 0, results.stderr
    rows = list(csv.DictReader(io.StringIO(results.stdout)))
    assert len(rows) == 500
    assert rows[0]["custom_id"] == "inv-500"
    assert json.loads(rows[0]["result"]) == {"echo": "Process invoice INV-500"}

    # With a human watching: a progress bar on stderr, a summary table on stdout.
    small = tmp_path / "small.jsonl"
    small.write_text("".join(json.dumps({"task": f"t{i}"}) + "\n" for i in range(30)))
    human = eclips(
        live_server, key, "batch", "create", str(small), "-a", "test_noop", "--wait",
        "--interval", "0.5",
    )  # fmt: skip
    assert human.returncode == 0, human.stderr
    assert "Created 1 batch job, 30 rows" in human.stderr
    assert "30/30" in human.stderr
    assert human.stdout.count("completed") == 1
    assert "small.jsonl" in human.stdout


def test_subprocess_exit_codes(live_server: LiveServer) -> None:
    key = live_server.new_key()
    ok = eclips(live_server, key, "run", "hi", "--agent", "test_noop", "--wait", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["run"]["output"] == {"echo": "hi"}
    failed = eclips(
        live_server, key, "run", "x", "-a", "test_sleep", "--data",
        '{"seconds": 0, "fail": "boom"}', "--wait",
    )  # fmt: skip
    assert failed.returncode == 3
    assert "boom" in failed.stdout
    missing = eclips(live_server, None, "usage")
    assert missing.returncode == 1
    assert "No API key" in missing.stderr
    wrong = eclips(live_server, "eck_live_" + "x" * 36, "usage")
    assert wrong.returncode == 1
    assert "(HTTP 401)" in wrong.stderr
    assert wrong.stdout == ""
    rows = '{"task": "a"}\n{"task": "b"}\n'
    piped = eclips(
        live_server, key, "batch", "create", "-", "-a", "test_noop", "--json", stdin=rows
    )
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)["jobs"][0]["total_rows"] == 2


def test_run_and_runs(live_server: LiveServer) -> None:
    key = live_server.new_key()
    waited = cli(
        live_server, key, "run", "nap", "-a", "test_sleep", "--data", '{"seconds": 1}', "--wait"
    )
    assert waited.exit_code == 0, waited.output
    assert "completed" in waited.stdout and '"slept": true' in waited.stdout

    queued = cli_json(
        live_server, key, "run", "long", "-a", "test_sleep", "--data", '{"seconds": 30}'
    )
    run_id = queued["run_id"]
    assert queued["status"] == "queued"
    assert cli_json(live_server, key, "runs", "cancel", run_id) == {"cancelled": True}
    assert cli_json(live_server, key, "runs", "get", run_id)["run"]["status"] == "cancelled"
    listed = cli_json(live_server, key, "runs", "list", "--status", "cancelled")
    assert [r["id"] for r in listed["data"]] == [run_id]
    assert run_id in cli(live_server, key, "runs", "list", "--all").stdout
    again = cli(live_server, key, "runs", "cancel", run_id)
    assert again.exit_code == 1
    assert "cannot be cancelled (HTTP 400)" in again.stderr


def test_triage(live_server: LiveServer) -> None:
    key = live_server.new_key()
    asked = '{"seconds": 0, "triage": true}'
    first = cli_json(live_server, key, "run", "a", "-a", "test_sleep", "--data", asked, "--wait")
    second = cli_json(live_server, key, "run", "b", "-a", "test_sleep", "--data", asked, "--wait")
    assert first["run"]["status"] == second["run"]["status"] == "awaiting_triage"
    items = {i["run_id"]: i["id"] for i in cli_json(live_server, key, "triage", "list")["data"]}
    assert "Asked for it" in cli(live_server, key, "triage", "list").stdout
    approved = cli_json(
        live_server, key, "triage", "approve", items[first["run"]["id"]], "--note", "fine"
    )
    assert approved["status"] == "approved"
    rejected = cli(
        live_server, key, "triage", "reject", items[second["run"]["id"]], "--reason", "no"
    )
    assert rejected.exit_code == 0 and "rejected" in rejected.stdout
    twice = cli(live_server, key, "triage", "approve", items[first["run"]["id"]])
    assert twice.exit_code == 1
    assert twice.stderr.strip() == "Triage item is already approved (HTTP 409)"


def test_webhooks(live_server: LiveServer) -> None:
    key = live_server.new_key()
    with Receiver() as receiver:
        created = cli_json(
            live_server, key, "webhooks", "create", "--url", receiver.url, "-e", "run.completed"
        )
        assert created["secret"].startswith("whsec_")
        cli_json(live_server, key, "run", "x", "-a", "test_noop", "--wait")
        receiver.wait(1, timeout=30)
    hook_id = created["id"]
    assert [w["id"] for w in cli_json(live_server, key, "webhooks", "list")["data"]] == [hook_id]
    deliveries = cli_json(live_server, key, "webhooks", "deliveries", hook_id)
    assert deliveries["total"] == 1 and deliveries["data"][0]["status_code"] == 200
    shown = cli(live_server, key, "webhooks", "deliveries", hook_id)
    assert "run.completed" in shown.stdout
    rotated = cli_json(live_server, key, "webhooks", "rotate-secret", hook_id)
    assert rotated["secret"] != created["secret"]
    assert cli_json(live_server, key, "webhooks", "enable", hook_id)["is_active"] is True
    signing = cli_json(live_server, key, "webhooks", "signing-secret")["secret"]
    assert cli_json(live_server, key, "webhooks", "signing-secret", "--rotate")["secret"] != signing
    assert cli_json(live_server, key, "webhooks", "delete", hook_id) == {"success": True}
    gone = cli(live_server, key, "webhooks", "delete", hook_id)
    assert gone.exit_code == 1 and "(HTTP 404)" in gone.stderr


def test_batch_commands(live_server: LiveServer, tmp_path: Path) -> None:
    key = live_server.new_key()
    path = tmp_path / "rows.jsonl"
    path.write_text(
        '{"task": "ok", "data": {"seconds": 0}, "custom_id": "a"}\n'
        '{"task": "bad", "data": {"seconds": 0, "fail": "boom"}, "custom_id": "b"}\n'
    )
    waited = cli(
        live_server,
        key,
        "batch",
        "create",
        str(path),
        "-a",
        "test_sleep",
        "--wait",
        "--interval",
        "0.2",
    )
    assert waited.exit_code == 3, waited.output  # a row failed
    assert "eclips batch retry" in waited.stderr
    job_id = cli_json(live_server, key, "batch", "list")["jobs"][0]["id"]
    detail = cli_json(live_server, key, "batch", "get", job_id)
    assert (detail["job"]["completed_rows"], detail["job"]["failed_rows"]) == (1, 1)
    assert "boom" in cli(live_server, key, "batch", "get", job_id).stdout
    results = cli(live_server, key, "batch", "results", job_id)
    assert [json.loads(line)["custom_id"] for line in results.stdout.splitlines()] == ["a", "b"]
    retried = cli_json(live_server, key, "batch", "retry", job_id)
    assert retried["id"] == job_id
    again = cli(live_server, key, "batch", "wait", job_id, "--interval", "0.2", "--json")
    assert again.exit_code == 3
    assert json.loads(again.stdout)["jobs"][0]["failed_rows"] == 1

    sleepy = tmp_path / "sleepy.csv"
    sleepy.write_text("task,seconds\nnap,30\n")
    job = cli_json(live_server, key, "batch", "create", str(sleepy), "-a", "test_sleep")["jobs"][0]
    assert cli_json(live_server, key, "batch", "cancel", job["id"]) == {"cancelled": True}
    late = cli(live_server, key, "batch", "cancel", job["id"])
    assert late.exit_code == 1 and "(HTTP 400)" in late.stderr


def test_usage_agents_and_health(live_server: LiveServer) -> None:
    key = live_server.new_key()
    cli_json(live_server, key, "run", "x", "-a", "test_noop", "--wait")
    usage = cli_json(live_server, key, "usage")
    assert (usage["plan"], usage["credits_used"]) == ("team", 1)
    both = cli_json(live_server, key, "usage", "--history", "--members")
    assert both["history"]["data"][0]["kind"] == "charge"
    assert both["members"]["period"] == usage["period"]
    table = cli(live_server, key, "usage", "--history")
    assert "49999" in table.stdout and "charge" in table.stdout
    agents = cli_json(live_server, key, "agents", "list")["data"]
    assert "test_noop" in {a["agent_type"] for a in agents}
    changed = cli_json(
        live_server, key, "agents", "settings", "test_noop", "--set", "confidence_threshold=0.7"
    )
    assert changed["settings"]["confidence_threshold"] == 0.7
    bad = cli(
        live_server, key, "agents", "settings", "test_noop", "--set", "confidence_threshold=9"
    )
    assert bad.exit_code == 1 and "(HTTP 400)" in bad.stderr
    assert cli_json(live_server, None, "health")["status"] == "ok"  # type: ignore[arg-type]
    scoped = live_server.new_key(["agents:read"])
    denied = cli(live_server, scoped, "batch", "list")
    assert denied.exit_code == 1
    assert denied.stderr.strip() == "Insufficient scope (HTTP 403)"


@pytest.mark.parametrize("command", [["health"], ["usage"]])
def test_unreachable_server(command: list[str]) -> None:
    result = CliRunner().invoke(
        app, [*command, "--base-url", "http://127.0.0.1:9", "--api-key", "k"]
    )
    assert result.exit_code == 1
    assert "Could not connect to the EClips server at http://127.0.0.1:9" in result.stderr
