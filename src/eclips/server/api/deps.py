"""Request dependencies: the database session, the caller, scopes and pagination."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request, Response, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from eclips.server.accounts.service import Principal, authenticate
from eclips.server.errors import InsufficientScope
from eclips.server.state import ServerState


def get_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.eclips
    return state


State = Annotated[ServerState, Depends(get_state)]


async def get_session(state: State) -> AsyncIterator[AsyncSession]:
    """A session per request; endpoints commit what they change, the rest rolls back."""
    async with state.sessions() as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session)]


# Declares the bearer scheme in the OpenAPI schema; `authenticate` reads the raw header
# itself, so a missing or malformed key gets our own 401 message.
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="An API key: `Authorization: Bearer eck_live_...`",
)


async def get_principal(
    state: State,
    response: Response,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    async with state.sessions() as session:
        principal = await authenticate(session, authorization)
        await session.commit()
    if state.limiter is not None:
        # Counted per key after authentication, so unknown keys cannot spend a key's quota.
        quota = await state.limiter.hit(str(principal.key_id))
        response.headers.update(quota.headers())
    return principal


def require(scope: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    async def _check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if scope not in principal.scopes:
            raise InsufficientScope()
        return principal

    return _check


AgentsRun = Annotated[Principal, Depends(require("agents:run"))]
AgentsRead = Annotated[Principal, Depends(require("agents:read"))]
BatchRun = Annotated[Principal, Depends(require("batch:run"))]
BatchRead = Annotated[Principal, Depends(require("batch:read"))]
TriageRead = Annotated[Principal, Depends(require("triage:read"))]
TriageWrite = Annotated[Principal, Depends(require("triage:write"))]
WebhooksRead = Annotated[Principal, Depends(require("webhooks:read"))]
WebhooksWrite = Annotated[Principal, Depends(require("webhooks:write"))]


# Databases bind at most a 64-bit integer; larger offsets are a 400, not a driver error.
MAX_OFFSET = 2**31 - 1


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


def get_page(
    limit: Annotated[int, Query(ge=1, le=100, description="Page size, 1..100")] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip")] = 0,
) -> Page:
    return Page(limit=limit, offset=offset)


Pagination = Annotated[Page, Depends(get_page)]


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Send the same key to retry safely: the first response is replayed.",
    ),
]
