"""Field types shared by the domains' schemas, so the OpenAPI schema says what each one is."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

# `iso()` renders these: ISO-8601 UTC with milliseconds and Z.
Timestamp = Annotated[
    str,
    Field(
        json_schema_extra={"format": "date-time"},
        examples=["2026-06-06T09:00:00.000Z"],
    ),
]

Count = Annotated[int, Field(ge=0)]
Credits = Annotated[int, Field(ge=0)]
Confidence = Annotated[float, Field(ge=0, le=1)]

# Text a person must fill in: at least one character that is not whitespace.
NOT_BLANK = r"\S"

# Webhook receivers: https:// only (`api/openapi.py` adds http:// where the operator allows
# private delivery), a host name or address, then no ASCII control character.
WEBHOOK_URL_PATTERN = (
    r"^https://[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{0,4})?([/?#][^\x00-\x1F\x7F]*)?$"
)
# A run's or batch's own receiver; an empty string means none.
OPTIONAL_WEBHOOK_URL_PATTERN = f"^$|{WEBHOOK_URL_PATTERN}"

# The OpenAPI customisation (`api/openapi.py`) replaces this marker with an `enum` of the
# agent types registered in this server, so the schema lists exactly the accepted ones.
AGENT_TYPE_ENUM_MARK = "x-eclips-agent-types"
AgentTypeName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        description="A registered agent type (`GET /v1/agents`)",
        json_schema_extra={AGENT_TYPE_ENUM_MARK: True},
    ),
]
