"""Webhook delivery benchmark, ready for ``bench/`` to call (not collected by pytest).

    PYTHONPATH=. .venv/bin/python -m tests.server.webhooks.bench_delivery [sqlite-or-pg-url]

Measures, against a local receiver: deliveries per second for a backlog of events, and
event-to-first-attempt latency (event committed -> request at the receiver) p50/p99 for a
steady trickle of events with the dispatcher woken after each commit, as the worker does.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select

from eclips.server.accounts.service import create_org
from eclips.server.db.migrate import upgrade
from eclips.server.db.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from eclips.server.db.session import create_engine, create_sessionmaker
from eclips.server.settings import Settings
from eclips.server.webhooks import signing
from eclips.server.webhooks.delivery import WebhookDispatcher
from eclips.server.webhooks.outbox import record_event
from tests.server.webhooks.receiver import Receiver


async def measure(database_url: str, *, backlog: int = 500, trickle: int = 200) -> dict[str, Any]:
    await upgrade(database_url)
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    settings = Settings(
        database_url=database_url, webhooks_allow_private=True, webhook_poll_seconds=0.05
    )
    try:
        with Receiver() as receiver:
            async with sessions.begin() as session:
                for model in (WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookEndpoint):
                    await session.execute(delete(model))
                org = await create_org(session, name=f"bench-{uuid.uuid4().hex[:8]}")
                session.add(
                    WebhookEndpoint(
                        org_id=org.id,
                        url=receiver.url,
                        events=["run.completed"],
                        secret=signing.new_secret(),
                        is_active=True,
                    )
                )

            # Throughput: a backlog recorded first, then drained.
            async with sessions.begin() as session:
                for i in range(backlog):
                    await record_event(
                        session, org_id=org.id, event_type="run.completed", data={"i": i}
                    )
            dispatcher = WebhookDispatcher(sessions, settings)
            stop = asyncio.Event()
            task = asyncio.create_task(dispatcher.run(stop))
            started = time.perf_counter()
            while await _delivered(sessions) < backlog:
                await asyncio.sleep(0.01)
            elapsed = time.perf_counter() - started

            # Latency: one event at a time, the dispatcher woken after each commit.
            latencies: list[float] = []
            for i in range(trickle):
                async with sessions.begin() as session:
                    event_id = await record_event(
                        session, org_id=org.id, event_type="run.completed", data={"i": i}
                    )
                committed = time.perf_counter()
                dispatcher.wake()
                arrival = None
                while arrival is None:
                    await asyncio.sleep(0.001)
                    arrival = next(
                        (
                            r.at
                            for r in receiver.received
                            if r.headers["webhook-id"] == str(event_id)
                        ),
                        None,
                    )
                latencies.append((arrival - committed) * 1000)
                await asyncio.sleep(0.01)
            stop.set()
            await task
    finally:
        await engine.dispose()
    ordered = sorted(latencies)
    return {
        "deliveries_per_second": round(backlog / elapsed, 1),
        "first_attempt_ms_p50": round(statistics.median(ordered), 2),
        "first_attempt_ms_p99": round(ordered[int(len(ordered) * 0.99) - 1], 2),
    }


async def _delivered(sessions: Any) -> int:
    async with sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(WebhookDelivery)
            .where(WebhookDelivery.status == "delivered")
        )
        return int(count or 0)


def main() -> None:
    if len(sys.argv) > 1:
        url = sys.argv[1]
    else:
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    print(asyncio.run(measure(url)))  # noqa: T201


if __name__ == "__main__":
    main()
