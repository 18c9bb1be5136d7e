"""The client commands against a scripted local HTTP server (no EClips server needed)."""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from eclips.cli import client
from eclips.cli.client_batch import RowFileError, read_rows, split_rows
from tests.sdk import manual_payloads as m
from tests.sdk.fake_server import FakeServer, Recorded, Reply

KEY = "eck_live_cli"


@pytest.fixture(scope="module")
def _server() -> Iterator[FakeServer]:
    with FakeServer() as server:
        yield server


@pytest.fixture
def fake(_server: FakeServer) -> FakeServer:
    _server.reset()
    return _server


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    client.register(app)
    return app


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECLIPS_API_KEY", raising=False)
    monkeypatch.delenv("ECLIPS_BASE_URL", raising=False)


def invoke(app: typer.Typer, fake: FakeServer, *args: str, key: str | None = KEY, **kw: Any):
    env = {"ECLIPS_BASE_URL": fake.base_url, "COLUMNS": "200"}
    if key:
        env["ECLIPS_API_KEY"] = key
    return CliRunner().invoke(app, list(args), env=env, **kw)


# -- row files ------------------------------------------------------------------------------


def test_jsonl_rows(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text(
        '{"task": "Process invoice INV-1001"}\n\n'
        '{"task": "Process invoice INV-1002", "data": {"amount": 12000}, "custom_id": 7}\n'
    )
    assert read_rows(str(path)) == [
        {"task": "Process invoice INV-1001"},
        {"task": "Process invoice INV-1002", "data": {"amount": 12000}, "custom_id": "7"},
    ]


def test_csv_rows_put_other_columns_in_data(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(
        "\ufefftask,custom_id,amount,vendor\n"
        "Process invoice INV-1001,inv-1,12000,Dell\n"
        '"Process invoice INV-1002, urgent",,,\n',
        encoding="utf-8",
    )
    assert read_rows(str(path)) == [
        {
            "task": "Process invoice INV-1001",
            "custom_id": "inv-1",
            "data": {"amount": "12000", "vendor": "Dell"},
        },
        {"task": "Process invoice INV-1002, urgent"},
    ]


def test_format_is_sniffed_and_stdin_works() -> None:
    assert read_rows("-", io.StringIO('{"task": "a"}\n')) == [{"task": "a"}]
    assert read_rows("-", io.StringIO("task\nb\n")) == [{"task": "b"}]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("rows.csv", "name\nx\n", "needs a 'task' column"),
        ("rows.csv", "task\n\n", "holds no rows"),
        ("rows.csv", "task,data\n,x\n", "line 2: every row needs a non-empty 'task'"),
        ("rows.jsonl", '{"task": "a"}\n{"task": \n', "line 2: not valid JSON"),
        ("rows.jsonl", '["a"]\n', "line 1: expected a JSON object"),
        ("rows.jsonl", '{"task": "a", "data": [1]}\n', "'data' must be a JSON object"),
        ("rows.txt", "", "holds no rows"),
    ],
)
def test_bad_row_files(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(RowFileError, match=message):
        read_rows(str(path))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RowFileError, match="Cannot read"):
        read_rows(str(tmp_path / "nope.csv"))


def test_split_rows_keeps_each_batch_within_the_limit() -> None:
    rows = [{"task": str(i)} for i in range(1200)]
    chunks = split_rows(rows)
    assert [len(c) for c in chunks] == [500, 500, 200]
    assert [r for c in chunks for r in c] == rows
    assert split_rows(rows[:500]) == [rows[:500]]


# -- batch ----------------------------------------------------------------------------------


def created_job(request: Recorded) -> Reply:
    body = request.json
    job_id = f"job-{len(body['rows'])}-{body['name'][-4:-1]}"
    return Reply(
        201,
        {
            "job": {
                "id": job_id,
                "name": body["name"],
                "agent_type": body["agent_type"],
                "status": "pending",
                "total_rows": len(body["rows"]),
                "completed_rows": 0,
                "failed_rows": 0,
            }
        },
    )


def test_batch_create_splits_1200_rows_into_three_jobs(
    app: typer.Typer, fake: FakeServer, tmp_path: Path
) -> None:
    path = tmp_path / "invoices.csv"
    path.write_text("task,amount\n" + "".join(f"Invoice {i},{i}\n" for i in range(1200)))
    fake.on("POST", "/v1/batches", created_job)
    result = invoke(app, fake, "batch", "create", str(path), "--agent", "ap_specialist", "--json")
    assert result.exit_code == 0, result.output
    jobs = json.loads(result.stdout)["jobs"]
    assert [j["total_rows"] for j in jobs] == [500, 500, 200]
    posts = [r.json for r in fake.calls("POST", "/v1/batches")]
    assert [p["name"] for p in posts] == [
        "invoices.csv (1/3)",
        "invoices.csv (2/3)",
        "invoices.csv (3/3)",
    ]
    assert all(p["agent_type"] == "ap_specialist" for p in posts)
    assert posts[1]["rows"][0] == {"task": "Invoice 500", "data": {"amount": "500"}}
    assert posts[2]["rows"][-1]["task"] == "Invoice 1199"


def test_batch_create_reports_partial_creation(
    app: typer.Typer, fake: FakeServer, tmp_path: Path
) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps({"task": f"t{i}"}) + "\n" for i in range(600)))
    fake.on(
        "POST",
        "/v1/batches",
        created_job,
        Reply(402, {"error": "Insufficient credits"}),
    )
    result = invoke(app, fake, "batch", "create", str(path), "--name", "June")
    assert result.exit_code == 1
    assert "Insufficient credits (HTTP 402)" in result.stderr
    assert "Created 1 of 2 jobs before the error: job-500-1/2" in result.stderr
    assert result.stdout == ""


def job_state(job_id: str, status: str, done: int, failed: int = 0, total: int = 2) -> Reply:
    job = {
        "id": job_id,
        "name": "June",
        "status": status,
        "total_rows": total,
        "completed_rows": done,
        "failed_rows": failed,
        "triage_rows": 0,
    }
    return Reply(200, {"job": job, "rows": []})


@pytest.mark.parametrize(
    ("final", "failed", "code"),
    [("completed", 0, 0), ("completed", 1, 3), ("cancelled", 0, 3)],
)
def test_batch_create_wait_shows_a_summary(
    app: typer.Typer, fake: FakeServer, tmp_path: Path, final: str, failed: int, code: int
) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"task": "a"}\n{"task": "b"}\n')
    fake.on("POST", "/v1/batches", Reply(201, {"job": {"id": "j1", "status": "pending"}}))
    fake.on(
        "GET",
        "/v1/batches/j1",
        job_state("j1", "pending", 0),
        job_state("j1", "running", 1),
        job_state("j1", final, 2 - failed, failed),
    )
    result = invoke(app, fake, "batch", "create", str(path), "--wait", "--interval", "0.1")
    assert result.exit_code == code, result.output
    assert "Batch jobs" in result.stdout
    assert final in result.stdout
    assert len(fake.calls("GET", "/v1/batches/j1")) == 3
    if failed:
        assert "eclips batch retry j1" in result.stderr


def test_batch_wait_json(app: typer.Typer, fake: FakeServer) -> None:
    fake.on("GET", "/v1/batches/j1", job_state("j1", "completed", 2))
    fake.on("GET", "/v1/batches/j2", job_state("j2", "running", 0), job_state("j2", "completed", 2))
    result = invoke(app, fake, "batch", "wait", "j1", "j2", "--interval", "0.1", "--json")
    assert result.exit_code == 0, result.output
    assert [j["id"] for j in json.loads(result.stdout)["jobs"]] == ["j1", "j2"]
    assert len(fake.calls("GET", "/v1/batches/j1")) == 1


def test_batch_get_list_cancel_retry(app: typer.Typer, fake: FakeServer) -> None:
    fake.on("GET", f"/v1/batches/{m.BATCH_ID}", Reply(200, m.BATCH_DETAIL))
    fake.on("GET", "/v1/batches", Reply(200, m.BATCH_LIST))
    fake.on("POST", f"/v1/batches/{m.BATCH_ID}/cancel", Reply(200, {"cancelled": True}))
    fake.on("POST", f"/v1/batches/{m.BATCH_ID}/retry", Reply(200, m.JOB_CREATED))
    got = invoke(app, fake, "batch", "get", m.BATCH_ID, "--json")
    assert json.loads(got.stdout) == m.BATCH_DETAIL
    human = invoke(app, fake, "batch", "get", m.BATCH_ID)
    assert "Process invoice INV-1001" in human.stdout
    listed = invoke(app, fake, "batch", "list", "--status", "running", "--json")
    assert json.loads(listed.stdout) == m.BATCH_LIST
    assert fake.calls("GET", "/v1/batches")[0].param("status") == "running"
    assert "June invoices" in invoke(app, fake, "batch", "list").stdout
    cancelled = invoke(app, fake, "batch", "cancel", m.BATCH_ID, "--json")
    assert json.loads(cancelled.stdout) == {"cancelled": True}
    retried = invoke(app, fake, "batch", "retry", m.BATCH_ID, "--json")
    assert json.loads(retried.stdout) == m.JOB_CREATED["job"]


def test_batch_results_jsonl_csv_and_file(
    app: typer.Typer, fake: FakeServer, tmp_path: Path
) -> None:
    rows = [{**r, "custom_id": f"c{r['row_index']}"} for r in m.BATCH_DETAIL["rows"]]
    body = "".join(json.dumps(r) + "\n" for r in rows).encode()
    fake.on("GET", "/v1/batches/b/results", Reply(200, chunks=[body]))
    jsonl = invoke(app, fake, "batch", "results", "b")
    assert [json.loads(line) for line in jsonl.stdout.splitlines()] == rows
    assert invoke(app, fake, "batch", "results", "b", "--json").stdout == jsonl.stdout
    as_csv = invoke(app, fake, "batch", "results", "b", "--format", "csv")
    assert as_csv.stdout.splitlines() == [
        "row_index,custom_id,task,status,result,error_message,id",
        "Process invoice INV-1001".join(["0,c0,", ',completed,"{""approved"": true}",,r0']),
        "1,c1,Process invoice INV-1002,running,,,r1",
    ]
    target = tmp_path / "out.csv"
    written = invoke(app, fake, "batch", "results", "b", "-f", "csv", "-o", str(target))
    assert written.exit_code == 0
    assert written.stdout == ""
    assert target.read_text().splitlines() == as_csv.stdout.splitlines()
    assert "Wrote 2 rows" in written.stderr


# -- run ------------------------------------------------------------------------------------


def sse(*events: dict[str, Any]) -> list[bytes]:
    return [b": ping\r\n\r\n"] + [f"data: {json.dumps(e)}\r\n\r\n".encode() for e in events]


def test_run_prints_the_accepted_run(app: typer.Typer, fake: FakeServer) -> None:
    fake.on("POST", "/v1/run", Reply(202, m.RUN_ACCEPTED))
    result = invoke(
        app,
        fake,
        "run",
        "Get 3 vendor quotes for 500 laptops",
        "--agent",
        "procurement_specialist",
        "--data",
        '{"category": "hardware"}',
        "--priority",
        "high",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == m.RUN_ACCEPTED
    assert fake.requests[0].json == {
        "task": "Get 3 vendor quotes for 500 laptops",
        "agent_type": "procurement_specialist",
        "priority": "high",
        "data": {"category": "hardware"},
    }
    human = invoke(app, fake, "run", "x")
    assert f"Queued run {m.RUN_ID}" in human.stdout


def test_run_rejects_bad_data(app: typer.Typer, fake: FakeServer) -> None:
    result = invoke(app, fake, "run", "x", "--data", "{nope")
    assert result.exit_code == 2
    assert "--data" in result.stderr
    assert fake.requests == []


@pytest.mark.parametrize(("final", "code"), [("completed", 0), ("failed", 3)])
def test_run_wait_follows_the_stream(
    app: typer.Typer, fake: FakeServer, final: str, code: int
) -> None:
    fake.on("POST", "/v1/run", Reply(202, m.RUN_ACCEPTED))
    running = {"status": "running", "confidence": None, "result": None, "error": None}
    done = {"status": final, "confidence": 0.9, "result": {"ok": 1}, "error": None}
    fake.on(
        "GET",
        f"/v1/runs/{m.RUN_ID}/stream",
        Reply(200, chunks=sse(running)),  # the server closed the stream early
        Reply(200, chunks=sse(running, done)),
    )
    final_run = {**m.RUN_WITH_TRIAGE["run"], "status": final}
    fake.on("GET", f"/v1/runs/{m.RUN_ID}", Reply(200, {"run": final_run, "triage_item": None}))
    result = invoke(app, fake, "run", "x", "--wait", "--json")
    assert result.exit_code == code, result.output
    assert json.loads(result.stdout) == {"run": final_run, "triage_item": None}
    assert len(fake.calls("GET", f"/v1/runs/{m.RUN_ID}/stream")) == 2
    human = invoke(app, fake, "run", "x", "--wait")
    assert final in human.stdout
    assert "Dell" in human.stdout


# -- errors ---------------------------------------------------------------------------------


def test_missing_key_is_reported_before_any_request(app: typer.Typer, fake: FakeServer) -> None:
    result = invoke(app, fake, "runs", "list", key=None)
    assert result.exit_code == 1
    assert "No API key: pass --api-key or set ECLIPS_API_KEY." in result.stderr
    assert fake.requests == []


def test_health_needs_no_key(app: typer.Typer, fake: FakeServer) -> None:
    fake.on("GET", "/v1/health", Reply(200, m.HEALTH))
    result = invoke(app, fake, "health", "--json", key=None)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == m.HEALTH
    assert "ok" in invoke(app, fake, "health", key=None).stdout


def test_api_errors_print_the_server_message(app: typer.Typer, fake: FakeServer) -> None:
    fake.on("GET", "/v1/runs/nope", Reply(404, {"error": "Run not found"}))
    result = invoke(app, fake, "runs", "get", "nope", "--json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.strip() == "Run not found (HTTP 404)"


def test_options_override_the_environment(app: typer.Typer, fake: FakeServer) -> None:
    fake.on("GET", "/v1/usage", Reply(200, m.USAGE))
    result = CliRunner().invoke(
        app,
        ["usage", "--api-key", "eck_opt", "--base-url", fake.base_url, "--json"],
        env={"ECLIPS_API_KEY": "eck_env", "ECLIPS_BASE_URL": "http://127.0.0.1:9"},
    )
    assert result.exit_code == 0, result.output
    assert fake.requests[0].headers["authorization"] == "Bearer eck_opt"


def test_unreachable_server(app: typer.Typer) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = CliRunner().invoke(
        app, ["runs", "list", "--base-url", f"http://127.0.0.1:{port}", "--api-key", "k"]
    )
    assert result.exit_code == 1
    assert f"Could not connect to the EClips server at http://127.0.0.1:{port}" in result.stderr


# -- runs, triage, webhooks, usage, agents --------------------------------------------------


def test_runs_commands(app: typer.Typer, fake: FakeServer) -> None:
    fake.on("GET", "/v1/runs", Reply(200, m.RUN_LIST))
    fake.on("GET", f"/v1/runs/{m.RUN_ID}", Reply(200, m.RUN_WITH_TRIAGE))
    fake.on("POST", f"/v1/runs/{m.RUN_ID}/cancel", Reply(200, {"cancelled": True}))
    listed = invoke(app, fake, "runs", "list", "--status", "completed", "--json")
    assert json.loads(listed.stdout) == m.RUN_LIST
    assert "procurement_specialist" in invoke(app, fake, "runs", "list").stdout
    everything = invoke(app, fake, "runs", "list", "--all", "--json")
    assert json.loads(everything.stdout)["data"] == m.RUN_LIST["data"]
    assert json.loads(invoke(app, fake, "runs", "get", m.RUN_ID, "--json").stdout) == (
        m.RUN_WITH_TRIAGE
    )
    assert "Lenovo" in invoke(app, fake, "runs", "get", m.RUN_ID).stdout
    cancelled = invoke(app, fake, "runs", "cancel", m.RUN_ID, "--json")
    assert json.loads(cancelled.stdout) == {"cancelled": True}


def test_triage_commands(app: typer.Typer, fake: FakeServer) -> None:
    fake.on("GET", "/v1/triage", Reply(200, m.TRIAGE_LIST))
    fake.on("POST", f"/v1/triage/{m.TRIAGE_ID}/approve", Reply(200, m.RESOLUTION))
    rejected = {"data": {**m.RESOLUTION["data"], "status": "rejected"}}
    fake.on("POST", f"/v1/triage/{m.TRIAGE_ID}/reject", Reply(200, rejected))
    assert json.loads(invoke(app, fake, "triage", "list", "--json").stdout) == m.TRIAGE_LIST
    assert "Amount above auto-approval" in invoke(app, fake, "triage", "list").stdout
    approved = invoke(app, fake, "triage", "approve", m.TRIAGE_ID, "--note", "OK", "--json")
    assert json.loads(approved.stdout) == m.RESOLUTION["data"]
    assert fake.calls("POST", f"/v1/triage/{m.TRIAGE_ID}/approve")[0].json == {
        "resolution_note": "OK"
    }
    out = invoke(app, fake, "triage", "reject", m.TRIAGE_ID, "--reason", "Too much")
    assert "rejected" in out.stdout
    assert fake.calls("POST", f"/v1/triage/{m.TRIAGE_ID}/reject")[0].json == {"reason": "Too much"}


def test_webhooks_commands(app: typer.Typer, fake: FakeServer) -> None:
    listed = {"data": [{k: v for k, v in m.WEBHOOK_CREATED["data"].items() if k != "secret"}]}
    fake.on("POST", "/v1/webhooks", Reply(201, m.WEBHOOK_CREATED))
    fake.on("GET", "/v1/webhooks", Reply(200, listed))
    fake.on("DELETE", f"/v1/webhooks/{m.WEBHOOK_ID}", Reply(200, {"success": True}))
    deliveries = {"data": [], "total": 0, "limit": 20, "offset": 0}
    fake.on("GET", f"/v1/webhooks/{m.WEBHOOK_ID}/deliveries", Reply(200, deliveries))
    created = invoke(
        app,
        fake,
        "webhooks",
        "create",
        "--url",
        "https://your-app.com/webhooks/eclips",
        "-e",
        "run.completed",
        "-e",
        "run.failed",
    )
    assert created.exit_code == 0, created.output
    assert "whsec_2f4a" in created.stdout
    assert "not shown again" in created.stderr
    assert fake.requests[0].json == {
        "url": "https://your-app.com/webhooks/eclips",
        "events": ["run.completed", "run.failed"],
    }
    assert json.loads(invoke(app, fake, "webhooks", "list", "--json").stdout) == listed
    deleted = invoke(app, fake, "webhooks", "delete", m.WEBHOOK_ID, "--json")
    assert json.loads(deleted.stdout) == {"success": True}
    shown = invoke(app, fake, "webhooks", "deliveries", m.WEBHOOK_ID, "--json")
    assert json.loads(shown.stdout) == deliveries


def test_usage_command(app: typer.Typer, fake: FakeServer) -> None:
    history = {"data": [{"id": "l1", "kind": "run", "credits": -1, "description": "Run"}]}
    members = {"period": "2026-06", "data": [{"email": "a@b.c", "runs": 2, "credits_used": 2}]}
    fake.on("GET", "/v1/usage", Reply(200, m.USAGE))
    fake.on("GET", "/v1/usage/history", Reply(200, history))
    fake.on("GET", "/v1/usage/members", Reply(200, members))
    # Exactly the server's JSON: an integer stays an integer.
    assert invoke(app, fake, "usage", "--json").stdout == json.dumps(m.USAGE) + "\n"
    both = json.loads(invoke(app, fake, "usage", "--history", "--members", "--json").stdout)
    assert both == {"usage": m.USAGE, "history": history, "members": members}
    human = invoke(app, fake, "usage", "--history", "--members").stdout
    assert "37520" in human
    assert "a@b.c" in human
    assert "Ledger" in human


def test_agents_settings_merges_changes(app: typer.Typer, fake: FakeServer) -> None:
    current = {"agent_type": "ap", "settings": {"confidence_threshold": 0.6, "timeout_seconds": 9}}
    fake.on("GET", "/v1/agents/ap/settings", Reply(200, current))
    fake.on("PUT", "/v1/agents/ap/settings", lambda r: Reply(200, {**current, "settings": r.json}))
    result = invoke(app, fake, "agents", "settings", "ap", "--set", "confidence_threshold=0.8")
    assert result.exit_code == 0, result.output
    assert fake.calls("PUT", "/v1/agents/ap/settings")[0].json == {
        "confidence_threshold": 0.8,
        "timeout_seconds": 9,
    }
    assert "confidence_threshold  0.8" in result.stdout
    bad = invoke(app, fake, "agents", "settings", "ap", "--set", "novalue")
    assert bad.exit_code == 2
