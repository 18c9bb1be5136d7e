"""Field types shared by the domains' schemas, so the OpenAPI schema says what each one is."""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, Field, model_validator

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

# Text a person must fill in: at least one character that `str.strip()` keeps. Its
# whitespace is spelled out because `\s` means another set in JSON Schema (ECMA-262).
_WHITESPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK = rf"^[{_WHITESPACE}]*[^{_WHITESPACE}]"

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


def unstorable_text(value: Any, where: str = "") -> str | None:
    """Why ``value`` (JSON: objects, arrays, text) cannot be stored, naming where; or None.

    PostgreSQL refuses the NUL character in text and JSON, and no database stores a lone
    UTF-16 surrogate (JSON allows both as ``\\u`` escapes): refused up front, on either
    backend alike, so they are a 400 and never a database error.
    """
    if isinstance(value, str):
        reason = _text_problem(value)
        return f"Invalid {where or 'body'}: {reason}" if reason else None
    if isinstance(value, dict):
        for key, item in value.items():
            reason = _text_problem(str(key))
            if reason:
                return f"Invalid {where or 'body'}: a key {reason}"
            problem = unstorable_text(item, f"{where}.{key}" if where else str(key))
            if problem:
                return problem
    elif isinstance(value, list):
        for index, item in enumerate(value):
            problem = unstorable_text(item, f"{where}.{index}" if where else str(index))
            if problem:
                return problem
    return None


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "must not contain the NUL character (\\u0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "must not contain unpaired surrogates"
    return None


def _storable(value: Any) -> Any:
    problem = unstorable_text(value)
    if problem:
        raise ValueError(problem)
    return value


class RequestBody(BaseModel):
    """Base of the JSON bodies clients send: text a database cannot store is a 400.

    Only the fields the model keeps are checked; unknown fields are ignored, whatever they hold.
    """

    @model_validator(mode="after")
    def _storable_text(self) -> Self:
        _storable(self.model_dump())
        return self


# A free JSON object a client sends (agent settings), held to the same rule.
StorableObject = Annotated[dict[str, Any], BeforeValidator(_storable)]
