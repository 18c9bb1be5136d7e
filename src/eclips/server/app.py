"""The ASGI application: routers, error handlers, and what a process holds while it runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from eclips.server.agent_types.endpoints import router as agents_router
from eclips.server.agents.llm import model_from_settings
from eclips.server.agents.registry import AgentRegistry
from eclips.server.api.errors import install_error_handlers
from eclips.server.api.limits import BodySizeLimit
from eclips.server.api.openapi import install_openapi
from eclips.server.batches.endpoints import router as batches_router
from eclips.server.db.session import create_engine, create_sessionmaker
from eclips.server.health.endpoints import router as health_router
from eclips.server.queue.signals import RunSignals
from eclips.server.ratelimit.service import RateLimiter
from eclips.server.runs.endpoints import router as runs_router
from eclips.server.settings import Settings, get_settings
from eclips.server.state import ServerState
from eclips.server.streaming.hub import RunHub
from eclips.server.triage.endpoints import router as triage_router
from eclips.server.usage.endpoints import router as usage_router
from eclips.server.version import VERSION
from eclips.server.webhooks.delivery import WebhookDispatcher
from eclips.server.webhooks.endpoints import router as webhooks_router
from eclips.server.worker.worker import Worker

log = logging.getLogger(__name__)


def build_state(settings: Settings) -> ServerState:
    # Concurrent runs take connections at their start and finish, so the pool grows with
    # the worker's concurrency, up to 60 a process to stay inside PostgreSQL's default
    # max_connections with a few processes. Runs that still wait too long are not failed:
    # a pool timeout counts as a transient database error.
    engine = create_engine(
        settings.database_url,
        pool_size=10,
        max_overflow=min(settings.worker_concurrency, 50),
    )
    sessions = create_sessionmaker(engine)
    signals = RunSignals()
    return ServerState(
        settings=settings,
        engine=engine,
        sessions=sessions,
        registry=AgentRegistry.discover(extra=settings.agent_classes),
        signals=signals,
        hub=RunHub(sessions, signals, poll_seconds=settings.hub_poll_seconds),
        limiter=RateLimiter.for_database(
            settings.rate_limit, sessions, is_sqlite=settings.is_sqlite
        )
        if settings.rate_limit
        else None,
    )


def build_worker(state: ServerState) -> Worker:
    """A worker, with the webhook dispatcher running beside it."""
    dispatcher = WebhookDispatcher(state.sessions, state.settings)
    return Worker(
        sessions=state.sessions,
        registry=state.registry,
        signals=state.signals,
        settings=state.settings,
        llm=model_from_settings(state.settings),
        background=[dispatcher.run],
        after_finish=dispatcher.wake,
    )


def create_app(settings: Settings | None = None, *, embed_worker: bool = False) -> FastAPI:
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = build_state(settings)
        app.state.eclips = state
        stop = asyncio.Event()
        await state.signals.listen(settings.database_url)
        tasks = [asyncio.create_task(state.hub.run(stop), name="eclips-hub")]
        if embed_worker:
            tasks.append(asyncio.create_task(build_worker(state).run(stop), name="eclips-worker"))
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            await state.signals.close()
            await state.engine.dispose()

    app = FastAPI(
        title="EClips API",
        version=VERSION,
        description="Run AI agents for back-office work: runs, triage, batches, webhooks, usage.",
        lifespan=lifespan,
        # operationIds are the endpoint functions' names (`create_run`, `get_run`, ...).
        generate_unique_id_function=lambda route: route.name,
    )
    install_openapi(app, settings)
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    for router in (
        health_router,
        runs_router,
        triage_router,
        usage_router,
        agents_router,
        batches_router,
        webhooks_router,
    ):
        app.include_router(router)
    return app
