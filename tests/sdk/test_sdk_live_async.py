"""The async SDK against a real server: every method, and each error class."""

from __future__ import annotations

import asyncio
import uuid

import pytest

import eclips
from eclips import AsyncEClipsClient
from eclips.webhooks import verify
from tests.server.webhooks.receiver import Receiver
from tests.support.server import LiveServer

pytestmark = pytest.mark.anyio


async def connect(live_server: LiveServer, key: str | None = None) -> AsyncEClipsClient:
    # The fixture's helpers run their own event loop: keep them off this one.
    key = key or await asyncio.to_thread(live_server.new_key)
    return AsyncEClipsClient(api_key=key, base_url=live_server.base_url)


async def test_runs_triage_and_usage(live_server: LiveServer) -> None:
    async with await connect(live_server) as client:
        assert (await client.health()).status == "ok"
        accepted = await client.run("nap", agent_type="test_sleep", data={"seconds": 0.5})
        stream = await client.stream_run(accepted.run_id)
        statuses = [event.status async for event in stream]
        assert statuses[-1] == "completed"
        run = await client.wait_for_run(accepted.run_id, poll_interval=0.2, timeout=30)
        assert run.output == {"slept": True, "task": "nap"}
        assert (await client.get_run(run.id)).run.status == "completed"

        for i in range(3):
            await client.run(f"t{i}", agent_type="test_noop")
        page = await client.list_runs(limit=2)
        assert page.total == 4
        assert len([r async for r in page]) == 4

        sleeper = (await client.run("z", agent_type="test_sleep", data={"seconds": 30})).run_id
        assert (await client.cancel_run(sleeper)).cancelled is True

        asked = {"seconds": 0, "triage": True}
        first = (await client.run("a", agent_type="test_sleep", data=asked)).run_id
        second = (await client.run("b", agent_type="test_sleep", data=asked)).run_id
        for run_id in (first, second):
            waited = await client.wait_for_run(run_id, poll_interval=0.2, timeout=30)
            assert waited.status == "awaiting_triage"
        items = {i.run_id: i for i in (await client.list_triage()).data}
        approved = await client.approve_triage(items[first].id, resolution_note="ok")
        assert approved.status == "approved"
        rejected = await client.reject_triage(items[second].id, reason="no")
        assert rejected.status == "rejected"
        with pytest.raises(eclips.ConflictError):
            await client.reject_triage(items[second].id)

        usage = await client.get_usage()
        assert usage.credits_used >= 5
        history = await client.get_usage_history()
        assert {e.kind for e in history.data} == {"charge"}
        members = await client.get_usage_members()
        assert members.period == usage.period


async def test_webhooks(live_server: LiveServer) -> None:
    async with await connect(live_server) as client:
        with Receiver() as receiver:
            created = await client.create_webhook(url=receiver.url, events=["run.completed"])
            run_id = (await client.run("x", agent_type="test_noop")).run_id
            (request,) = await asyncio.to_thread(receiver.wait, 1, timeout=30)
        assert created.secret is not None
        assert verify(created.secret, request.headers, request.body)["data"]["id"] == run_id
        assert [w.id for w in (await client.list_webhooks()).data] == [created.id]
        deliveries = await client.list_webhook_deliveries(created.id)
        assert deliveries.data[0].status_code == 200
        assert (await client.rotate_webhook_secret(created.id)).secret != created.secret
        assert (await client.enable_webhook(created.id)).is_active is True
        signing = await client.get_signing_secret()
        assert (await client.rotate_signing_secret()).secret != signing.secret
        assert (await client.delete_webhook(created.id)).success is True


async def test_batches_and_agents(live_server: LiveServer) -> None:
    async with await connect(live_server) as client:
        rows = [{"task": "ok", "data": {"seconds": 0}}, {"task": "bad", "data": {"fail": "x"}}]
        job = await client.create_batch("test_sleep", rows, name="async")
        progress: list[str] = []

        async def on_progress(detail: eclips.BatchDetail) -> None:
            progress.append(detail.status)

        done = await client.wait_for_batch(
            job.id, poll_interval=0.2, timeout=60, on_progress=on_progress
        )
        assert (done.completed_rows, done.failed_rows, done.status) == (1, 1, "completed")
        assert progress[-1] == "completed"
        assert (await client.get_batch(job.id)).total_rows == 2
        results = await client.get_batch_results(job.id)
        assert [r.status async for r in results] == ["completed", "failed"]
        assert [j.id async for j in await client.list_batches()] == [job.id]
        assert (await client.retry_batch(job.id)).id == job.id

        sleepy = await client.create_batch("test_sleep", [{"task": "z", "data": {"seconds": 30}}])
        assert (await client.cancel_batch(sleepy.id)).cancelled is True

        agents = await client.list_agents()
        assert "test_noop" in {a.agent_type for a in agents.data}
        settings = await client.get_agent_settings("test_noop")
        updated = await client.update_agent_settings(
            "test_noop", {**settings.settings, "timeout_seconds": 30.0}
        )
        assert updated.settings["timeout_seconds"] == 30.0


async def test_error_classes(live_server: LiveServer) -> None:
    async with await connect(live_server, "eck_live_wrong") as wrong:
        with pytest.raises(eclips.AuthenticationError):
            await wrong.list_runs()
    reader_key = await asyncio.to_thread(live_server.new_key, ["agents:read"])
    async with await connect(live_server, reader_key) as reader:
        with pytest.raises(eclips.PermissionDeniedError, match="Insufficient scope"):
            await reader.create_batch("test_noop", [{"task": "x"}])
    async with await connect(live_server) as client:
        with pytest.raises(eclips.NotFoundError):
            await client.get_batch(str(uuid.uuid4()))
        with pytest.raises(eclips.BadRequestError, match="Maximum 500 rows per batch"):
            await client.create_batch("test_noop", [{"task": "x"}] * 501)
    from tests.server.test_usage import _spend

    org = await asyncio.to_thread(live_server.new_org)
    await _spend(live_server.database_url, org, 50_000)
    broke_key = await asyncio.to_thread(live_server.new_key, org=org)
    async with await connect(live_server, broke_key) as broke:
        with pytest.raises(eclips.PaymentRequiredError):
            await broke.run("x", agent_type="test_noop")
