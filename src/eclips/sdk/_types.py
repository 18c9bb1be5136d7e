"""Shapes of what callers send."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NotRequired, TypedDict

from pydantic import BaseModel

__all__ = ["BatchRowParam", "Priority", "RowLike"]

Priority = Literal["low", "normal", "high", "urgent"]


class BatchRowParam(TypedDict):
    """One row of a batch: the task, optional data, and your own id for matching results."""

    task: str
    data: NotRequired[dict[str, Any]]
    custom_id: NotRequired[str]


RowLike = BatchRowParam | Mapping[str, Any] | BaseModel


def row_payload(row: RowLike) -> dict[str, Any]:
    """A row as the JSON object the API takes; a model's unset optional fields are left out."""
    if isinstance(row, BaseModel):
        return row.model_dump(mode="json", exclude_none=True)
    return dict(row)
