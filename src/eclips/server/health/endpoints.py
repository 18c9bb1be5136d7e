from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from eclips.server.db.types import iso, utcnow
from eclips.server.version import VERSION

router = APIRouter(prefix="/v1", tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    timestamp: str


@router.get("/health")
async def health() -> Health:
    """Public uptime check; needs no key."""
    return Health(status="ok", version=VERSION, timestamp=iso(utcnow()) or "")
