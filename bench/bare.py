"""The floor for ``POST /v1/run``: a bare ASGI app that does only the INSERT of an
equivalent run row, with the same engine settings, served by uvicorn the same way.

No authentication, no credit check, no validation beyond parsing JSON, no NOTIFY. Run as
``python -m bench.bare --port N`` with ``ECLIPS_DATABASE_URL`` and ``BENCH_ORG_ID`` set.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from sqlalchemy import Table, insert
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from eclips.server.db.models import Run
from eclips.server.db.session import create_engine
from eclips.server.db.types import utcnow


def build_app(database_url: str, org_id: uuid.UUID) -> Starlette:
    engine = create_engine(database_url)
    runs: Table = Run.__table__  # type: ignore[assignment]

    async def create_run(request: Request) -> JSONResponse:
        body: dict[str, Any] = json.loads(await request.body())
        now = utcnow()
        run_id = uuid.uuid4()
        agent_type = body.get("agent_type", "center")
        async with engine.begin() as conn:
            await conn.execute(
                insert(runs).values(
                    id=run_id,
                    org_id=org_id,
                    agent_type=agent_type,
                    task=body.get("task", ""),
                    data=body.get("data", {}),
                    priority="normal",
                    priority_rank=1,
                    queue_lane=0,
                    status="queued",
                    credits=1,
                    credits_charged=0,
                    progress=[],
                    requires_triage=False,
                    cancel_requested=False,
                    attempts=0,
                    version=1,
                    created_at=now,
                    updated_at=now,
                )
            )
        return JSONResponse(
            {
                "run_id": str(run_id),
                "status": "queued",
                "agent_type": agent_type,
                "estimated_completion": "async",
            },
            status_code=202,
        )

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    return Starlette(
        routes=[
            Route("/v1/run", create_run, methods=["POST"]),
            Route("/v1/health", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = build_app(os.environ["ECLIPS_DATABASE_URL"], uuid.UUID(os.environ["BENCH_ORG_ID"]))
    # As `eclips serve` runs uvicorn: same loop, same HTTP parser, same access log.
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="info")


if __name__ == "__main__":
    main()
