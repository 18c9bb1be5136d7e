"""Credits: one ledger charge per run, the manual's usage shape, 402 when exhausted."""

from __future__ import annotations

import asyncio
import datetime as dt

from eclips.server import bootstrap
from tests.server.test_runs import finished
from tests.support.server import LiveServer


def test_usage_shape_and_charges(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    usage = client.get("/v1/usage").json()
    assert usage == {
        "plan": "team",
        "scope": "organization",
        "period": dt.datetime.now(dt.UTC).strftime("%Y-%m"),
        "included_credits": 50000,
        "topup_credits": 0,
        "credits_used": 0,
        "credits_remaining": 50000,
        "unlimited": False,
        "topup_price_per_1000_usd": 5,
    }
    run_id = client.post(
        "/v1/run", json={"agent_type": "procurement_specialist", "task": "Buy 2 chairs"}
    ).json()["run_id"]
    finished(client, run_id)
    usage = client.get("/v1/usage").json()
    assert usage["credits_used"] == 3 and usage["credits_remaining"] == 49997
    history = client.get("/v1/usage/history").json()["data"]
    assert [(e["kind"], e["credits"], e["run_id"]) for e in history] == [("charge", 3, run_id)]
    members = client.get("/v1/usage/members").json()
    assert members["data"][0]["credits_used"] == 3 and members["data"][0]["runs"] == 1


def test_unlimited_plan_shape(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key(plan="unlimited"))
    usage = client.get("/v1/usage").json()
    assert usage["included_credits"] == -1
    assert usage["unlimited"] is True
    assert usage["credits_remaining"] is None


def test_exhausted_org_gets_402_until_topped_up(live_server: LiveServer) -> None:
    org = live_server.new_org()
    client = live_server.client(live_server.new_key(org=org))
    # 50,000 credits are too many to spend run by run; record them as earlier usage.
    asyncio.run(_spend(live_server.database_url, org, 50_000))
    response = client.post("/v1/run", json={"agent_type": "test_noop", "task": "x"})
    assert response.status_code == 402
    assert "Insufficient credits" in response.json()["error"]
    asyncio.run(bootstrap.topup(org=org, credits=10, database_url=live_server.database_url))
    response = client.post("/v1/run", json={"agent_type": "test_noop", "task": "x"})
    assert response.status_code == 202
    finished(client, response.json()["run_id"])
    assert client.get("/v1/usage").json()["credits_remaining"] == 9


async def _spend(database_url: str, org_name: str, credits: int) -> None:
    """Record usage the way the worker does, without running 50,000 agents."""
    from eclips.server.accounts.repository import org_by_name
    from eclips.server.db.models import LedgerEntry
    from eclips.server.db.session import create_engine, create_sessionmaker
    from eclips.server.usage.service import current_period

    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine).begin() as session:
            org = await org_by_name(session, org_name)
            assert org is not None
            session.add(
                LedgerEntry(
                    org_id=org.id,
                    kind="charge",
                    credits=credits,
                    period=current_period(),
                    description="earlier usage",
                )
            )
    finally:
        await engine.dispose()
