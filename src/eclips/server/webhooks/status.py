"""The life of one delivery: pending until delivered, failed (attempts spent, or 410 on a
per-run URL) or cancelled (its endpoint was deleted)."""

from __future__ import annotations

from enum import StrEnum


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"
