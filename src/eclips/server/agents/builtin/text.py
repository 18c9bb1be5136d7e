"""Reading numbers and identifiers out of a task's free text, without a language model."""

from __future__ import annotations

import re
from typing import Any

_INVOICE = re.compile(r"\b(INV[-_ ]?\d+[A-Z0-9-]*)\b", re.IGNORECASE)
# "invoice 77", "invoice #A-1029", "invoice no. 2024-03": a number right after the word.
_INVOICE_AFTER_WORD = re.compile(
    r"\binvoice\s*(?:no\.?|number|num\.?)?\s*[#:]?\s*([A-Z]{0,4}-?\d[A-Z0-9-]*)\b",
    re.IGNORECASE,
)


def _amount(n: int) -> str:
    return rf"(?P<whole{n}>\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.(?P<cents{n}>\d{{1,2}}))?"


_CURRENCY_BEFORE = r"[$€£]|USD|EUR|GBP"
_CURRENCY_AFTER = r"USD|EUR|GBP|dollars?|euros?|pounds?"
_MONEY = re.compile(
    rf"(?P<before>{_CURRENCY_BEFORE})\s?{_amount(1)}"
    rf"|{_amount(2)}\s?(?P<after>{_CURRENCY_AFTER})\b"
    rf"|\b(?:amount|total)\s*(?:of|is|:)?\s*{_amount(3)}\b",
    re.IGNORECASE,
)
_CURRENCIES = {
    "$": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "€": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "£": "GBP",
    "pound": "GBP",
    "pounds": "GBP",
}
_NAME = r"[A-Z][\w&.'-]*(?:\s+(?!(?:USD|EUR|GBP)\b)[A-Z][\w&.'-]*)*"
_VENDOR = [
    re.compile(rf"\b(?:from|vendor:?|supplier:?)\s+({_NAME})"),
    re.compile(rf"\b(?:[Pp]ay|to)\s+({_NAME})"),
]
# Capitalised words that start a sentence or name the document, not the vendor.
_NOT_VENDORS = {"invoice", "invoices", "inv", "bill", "bills", "vendor", "usd", "eur", "gbp"}


def invoice_number(text: str) -> str | None:
    match = _INVOICE.search(text)
    if match:
        return match.group(1).upper().replace("_", "-").replace(" ", "-")
    match = _INVOICE_AFTER_WORD.search(text)
    return match.group(1).upper() if match else None


def money(text: str) -> float | None:
    return money_and_currency(text)[0]


def money_and_currency(text: str) -> tuple[float | None, str | None]:
    """The first amount of money in ``text`` and its ISO currency, when the text says it."""
    match = _MONEY.search(text)
    if not match:
        return None, None
    n = next(n for n in (1, 2, 3) if match.group(f"whole{n}") is not None)
    whole, cents = match.group(f"whole{n}"), match.group(f"cents{n}")
    amount = float(whole.replace(",", "")) + float(f"0.{cents or '0'}")
    word = (match.group("before") or match.group("after") or "").lower()
    currency = _CURRENCIES.get(word, word.upper() or None)
    return amount, currency


def currency_code(value: str) -> str | None:
    """An ISO 4217-looking code for ``value`` ("eur", "€", "euros"), or None if it is not one."""
    value = value.strip()
    known = _CURRENCIES.get(value.lower())
    if known:
        return known
    return value.upper() if len(value) == 3 and value.isascii() and value.isalpha() else None


def vendor(text: str) -> str | None:
    for pattern in _VENDOR:
        for match in pattern.finditer(text):
            name = match.group(1).strip().rstrip(".,")
            if name.split()[0].casefold() not in _NOT_VENDORS:
                return name
    return None


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
