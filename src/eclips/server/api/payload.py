"""Bounds on the free-form JSON users send as a run's or row's ``data``.

Deeply nested or huge values cost memory and CPU in every agent and every response that
echoes them; bounding them turns an abusive body into a clear 400.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field

MAX_DEPTH = 32
MAX_STRING = 100_000
MAX_KEYS = 10_000


def _check(value: Any, depth: int, budget: list[int]) -> None:
    if depth > MAX_DEPTH:
        raise ValueError(f"data is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, str):
        if len(value) > MAX_STRING:
            raise ValueError(f"data holds a string longer than {MAX_STRING} characters")
    elif isinstance(value, dict | list):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            budget[0] -= 1
            if budget[0] < 0:
                raise ValueError(f"data holds more than {MAX_KEYS} values")
            if isinstance(key, str) and len(key) > MAX_STRING:
                raise ValueError(f"data holds a key longer than {MAX_STRING} characters")
            _check(item, depth + 1, budget)


def _bounded(value: dict[str, Any]) -> dict[str, Any]:
    _check(value, 1, [MAX_KEYS])
    return value


RunData = Annotated[
    dict[str, Any],
    AfterValidator(_bounded),
    Field(description=f"Free-form input for the agent (nesting <= {MAX_DEPTH} levels)"),
]
