"""What the OpenAPI schema says about failures: every error is ``{"error": "..."}``.

Each route lists the statuses it can answer besides success with ``responses=errors(...)``;
the contract tests (``tests/server/test_contract_fuzz.py``) fail on any status a route
answers that it does not list here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """The one error shape of the API."""

    error: str = Field(description="What went wrong, naming the offending field if any")


_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying",
        "schema": {"type": "integer", "minimum": 0},
    }
}

_DESCRIPTIONS: dict[int, str] = {
    400: "Invalid request: a missing or malformed field or parameter, or an action the "
    "object's state does not allow",
    401: "Missing, malformed, unknown or revoked API key",
    402: "Not enough credits left this period",
    403: "The key lacks the scope this endpoint needs (`Insufficient scope`)",
    404: "No such object in your organisation",
    409: "Conflicts with the object's state or with a request still in progress",
    413: "Request body too large",
    422: "Idempotency-Key already used with a different request",
    429: "Too many requests for this key",
    503: "Database unavailable; retry shortly",
}

# Every route behind a key can answer these.
AUTHENTICATED = (401, 403, 429, 503)


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entry of a route for these error statuses (plus ``AUTHENTICATED``)."""
    responses: dict[int | str, dict[str, Any]] = {}
    for code in sorted({*codes, *AUTHENTICATED}):
        entry: dict[str, Any] = {"model": ErrorBody, "description": _DESCRIPTIONS[code]}
        if code in (429, 503):
            entry["headers"] = _RETRY_AFTER
        responses[code] = entry
    return responses


def links(*operation_ids: str, parameter: str, source: str) -> dict[str, Any]:
    """OpenAPI links from a creating response to the operations on what it created.

    ``source`` is a JSON pointer into the response body (``/run_id``, ``/job/id``); clients
    and the stateful contract tests follow these links.
    """
    return {
        "links": {
            operation_id: {
                "operationId": operation_id,
                "parameters": {parameter: f"$response.body#{source}"},
            }
            for operation_id in operation_ids
        }
    }
