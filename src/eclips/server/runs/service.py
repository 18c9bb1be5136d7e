"""Runs as the API sees them: accept, list, read, cancel, retry."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from eclips.server.accounts.service import Principal
from eclips.server.agents.registry import AgentRegistry
from eclips.server.db.models import Run
from eclips.server.db.types import utcnow
from eclips.server.errors import BadRequest, NotFound
from eclips.server.queue.signals import QUEUED_CHANNEL, notify
from eclips.server.queue.status import PRIORITY_RANK, Priority, RunStatus
from eclips.server.runs import repository, transitions
from eclips.server.runs.schemas import (
    RunCreate,
    RunDetail,
    RunList,
    RunSummary,
    RunWithTriage,
    TriageItemBrief,
)
from eclips.server.triage import repository as triage_repository
from eclips.server.usage.service import ensure_affordable
from eclips.server.webhooks.ssrf import validate_url


def credits_for(registry: AgentRegistry, agent_type: str) -> int:
    agent = registry.get(agent_type)
    if agent is None:
        raise BadRequest(f"Unknown agent_type: {agent_type}")
    return agent.credits_per_run


async def create_run(
    session: AsyncSession,
    principal: Principal,
    *,
    body: RunCreate,
    registry: AgentRegistry,
    allow_private_webhooks: bool = False,
    retry_of: uuid.UUID | None = None,
) -> Run:
    if not body.task.strip():
        raise BadRequest("Invalid task: must not be empty")
    if body.webhook_url:
        await validate_url(
            body.webhook_url, allow_private=allow_private_webhooks, resolve_host=False
        )
    price = credits_for(registry, body.agent_type)
    await ensure_affordable(session, principal, credits=price)
    now = utcnow()
    run = Run(
        id=uuid.uuid4(),
        org_id=principal.org_id,
        member_id=principal.member_id,
        api_key_id=principal.key_id,
        agent_type=body.agent_type,
        task=body.task,
        data=body.data,
        priority=body.priority,
        priority_rank=PRIORITY_RANK[body.priority],
        status=RunStatus.QUEUED,
        webhook_url=body.webhook_url,
        credits=price,
        progress=[],
        retry_of=retry_of,
        created_at=now,
        updated_at=now,
    )
    session.add(run)
    await session.flush()
    await notify(session, QUEUED_CHANNEL)
    return run


async def get_run(
    session: AsyncSession, principal: Principal, run_id: uuid.UUID, *, lock: bool = False
) -> Run:
    run = await repository.get_for_org(session, principal.org_id, run_id, lock=lock)
    if run is None:
        raise NotFound("Run not found")
    return run


async def run_with_triage(
    session: AsyncSession, principal: Principal, run_id: uuid.UUID
) -> RunWithTriage:
    run = await get_run(session, principal, run_id)
    item = await repository.triage_item_for_run(session, run.id)
    return RunWithTriage(
        run=RunDetail.of(run), triage_item=TriageItemBrief.of(item) if item else None
    )


async def list_runs(
    session: AsyncSession,
    principal: Principal,
    *,
    status: RunStatus | None,
    limit: int,
    offset: int,
) -> RunList:
    runs, total = await repository.list_for_org(
        session, principal.org_id, status=status, limit=limit, offset=offset
    )
    return RunList(data=[RunSummary.of(r) for r in runs], total=total, limit=limit, offset=offset)


async def cancel_run(session: AsyncSession, principal: Principal, run_id: uuid.UUID) -> Run:
    run = await get_run(session, principal, run_id, lock=True)
    if run.status not in (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.AWAITING_TRIAGE):
        raise BadRequest(f"Run is {run.status} and cannot be cancelled")
    if run.status == RunStatus.AWAITING_TRIAGE:
        await triage_repository.close_for_run(session, run.id, status="cancelled")
    await transitions.move(session, run, RunStatus.CANCELLED, error="Cancelled by request")
    return run


async def retry_run(
    session: AsyncSession,
    principal: Principal,
    run_id: uuid.UUID,
    *,
    registry: AgentRegistry,
    allow_private_webhooks: bool = False,
) -> Run:
    original = await get_run(session, principal, run_id)
    if original.status != RunStatus.FAILED:
        raise BadRequest(f"Only failed runs can be retried; this run is {original.status}")
    body = RunCreate(
        task=original.task,
        agent_type=original.agent_type,
        data=original.data,
        priority=Priority(original.priority),
        webhook_url=original.webhook_url,
    )
    return await create_run(
        session,
        principal,
        body=body,
        registry=registry,
        allow_private_webhooks=allow_private_webhooks,
        retry_of=original.id,
    )
