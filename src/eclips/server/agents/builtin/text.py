"""Reading numbers and identifiers out of a task's free text."""

from __future__ import annotations

import re
from typing import Any

_INVOICE = re.compile(r"\b(INV[-_ ]?\d+[A-Z0-9-]*)\b", re.IGNORECASE)
_MONEY = re.compile(
    r"(?:[$€£]\s?|(?:USD|EUR|GBP)\s?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?"
    r"|(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?\s?(?:USD|EUR|GBP|dollars)\b",
    re.IGNORECASE,
)
_VENDOR = re.compile(r"\bfrom\s+([A-Z][\w&.-]*(?:\s+[A-Z][\w&.-]*)*)")


def invoice_number(text: str) -> str | None:
    match = _INVOICE.search(text)
    return match.group(1).upper().replace("_", "-").replace(" ", "-") if match else None


def money(text: str) -> float | None:
    match = _MONEY.search(text)
    if not match:
        return None
    whole = match.group(1) or match.group(3)
    cents = match.group(2) or match.group(4) or "0"
    return float(whole.replace(",", "")) + float(f"0.{cents}")


def vendor(text: str) -> str | None:
    match = _VENDOR.search(text)
    return match.group(1).strip() if match else None


def number(value: Any) -> float | None:
    """A JSON value as a number, accepting numeric strings like ``"12,000.50"``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.replace(",", "").strip())
        except ValueError:
            return None
    return None
