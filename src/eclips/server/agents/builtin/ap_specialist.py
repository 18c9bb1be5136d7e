"""Accounts payable: check an invoice against the org's AP policy and approve or escalate.

The invoice's fields come from the run's ``data`` first; what ``data`` leaves out is read
from the task's text, by the language model where one is configured, and by patterns for
whatever is still missing. The policy checks themselves are plain code: the model never decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from eclips.server.agents.base import Agent, AgentContext, AgentSettings, Outcome
from eclips.server.agents.builtin import text

AMOUNT_REASON = "Amount above auto-approval threshold"
MISSING_AMOUNT_REASON = "Missing invoice amount"

Source = Literal["data", "task", "model"]
_FIELDS = ("invoice_number", "amount", "vendor", "currency")
_CONFIDENCE: dict[Source, float] = {"data": 0.97, "task": 0.9, "model": 0.85}


class APSettings(AgentSettings):
    auto_approval_threshold: float = Field(
        default=10_000, ge=0, description="Invoices above this amount need a human."
    )
    approved_vendors: list[str] = Field(
        default_factory=list,
        description="Vendors paid without review; empty means any vendor is accepted.",
    )
    currency: str = Field(
        default="USD",
        pattern=r"^[A-Za-z]{3}$",
        description="The ISO currency invoices must use (an invoice that names none is "
        "taken to be in it).",
    )


class InvoiceFields(BaseModel):
    """What the agent reads from an invoice (also the schema a language model fills)."""

    invoice_number: str | None = Field(default=None, description="e.g. INV-1001")
    amount: float | None = Field(default=None, description="The total to pay, a number")
    vendor: str | None = Field(default=None, description="Who sent the invoice")
    currency: str | None = Field(default=None, description="ISO 4217 code, e.g. USD")

    @field_validator("invoice_number", "vendor", "currency", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        # Models (and JSON callers) write invoice 77 as a number.
        return (
            str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
        )

    @field_validator("amount", mode="before")
    @classmethod
    def _as_number(cls, value: Any) -> Any:
        return text.number(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str
    triage_reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "check": self.name,
            "outcome": "pass" if self.passed else "fail",
            "detail": self.detail,
        }


@dataclass
class Reading:
    """The invoice as read, where each field came from, and fields that were unusable."""

    fields: InvoiceFields
    sources: dict[str, Source]
    malformed: list[Check]


class APSpecialist(Agent):
    agent_type = "ap_specialist"
    description = (
        "Checks invoices against the accounts-payable policy: amount threshold, approved "
        "vendors, currency and duplicate invoice numbers; approves or sends to triage."
    )
    credits_per_run = 2
    settings_model = APSettings

    async def run(self, ctx: AgentContext) -> Outcome:
        settings = ctx.settings_as(APSettings)
        reading = await self._read(ctx)
        fields = reading.fields
        await ctx.report("extracted", **fields.model_dump(), sources=reading.sources)
        checks = [
            *reading.malformed,
            *self._field_checks(reading, ctx.task),
            *self._policy_checks(fields, settings),
            await self._duplicate_check(ctx, fields),
        ]
        failed = [c for c in checks if not c.passed]
        reasons = [c.triage_reason for c in failed if c.triage_reason]
        approved = not failed
        confidence = min((_CONFIDENCE[s] for s in reading.sources.values()), default=0.97)
        if failed:
            confidence = min(confidence, 0.75)
        output: dict[str, Any] = {
            **fields.model_dump(),
            "currency": fields.currency or settings.currency.upper(),
            "approved": approved,
            "decision": "approved" if approved else "needs_review",
            "checks": [c.as_json() for c in checks],
            "sources": reading.sources,
        }
        return Outcome(
            output=output,
            confidence=confidence,
            triage_reason="; ".join(reasons) if reasons else None,
            reference=fields.invoice_number,
        )

    async def _read(self, ctx: AgentContext) -> Reading:
        """``data`` wins; the model, if any, reads the task for the rest; patterns fill gaps."""
        values: dict[str, Any] = {}
        sources: dict[str, Source] = {}
        malformed: list[Check] = []
        number = ctx.data.get("invoice_number")
        raw = {**ctx.data, "invoice_number": ctx.data.get("invoice") if number is None else number}
        for name in _FIELDS:
            value = raw.get(name)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            sources[name] = "data"
            usable = _usable(name, value)
            if usable is None:
                malformed.append(_malformed(name, value))
            else:
                values[name] = usable
        missing = [name for name in _FIELDS if name not in sources]
        if missing and ctx.llm is not None:
            await ctx.report("reading_with_model", fields=missing)
            guessed = await ctx.llm.extract(
                instructions=(
                    "Read the invoice described in the text: its invoice number, the total "
                    "amount to pay, the vendor who sent it and the ISO 4217 currency."
                ),
                text=ctx.task,
                schema=InvoiceFields,
            )
            _fill(values, sources, malformed, missing, guessed, "model")
        missing = [name for name in _FIELDS if name not in sources]
        if missing:
            amount, currency = text.money_and_currency(ctx.task)
            found = InvoiceFields(
                invoice_number=text.invoice_number(ctx.task),
                amount=amount,
                vendor=text.vendor(ctx.task),
                currency=currency,
            )
            _fill(values, sources, malformed, missing, found, "task")
        return Reading(InvoiceFields(**values), sources, malformed)

    @staticmethod
    def _field_checks(reading: Reading, task: str) -> list[Check]:
        fields, failed = reading.fields, {c.name for c in reading.malformed}
        checks: list[Check] = []
        if fields.invoice_number:
            checks.append(Check("invoice_number_present", True, f"Invoice {fields.invoice_number}"))
            if reading.sources.get("invoice_number") == "model":
                checks.append(_in_task_check(fields.invoice_number, task))
        elif "invoice_number_valid" not in failed:
            checks.append(
                Check(
                    "invoice_number_present",
                    False,
                    "No invoice number found",
                    "Missing invoice number",
                )
            )
        if fields.amount is None:
            if "amount_valid" not in failed:
                checks.append(
                    Check("amount_present", False, "No amount found", MISSING_AMOUNT_REASON)
                )
        elif fields.amount <= 0:
            checks.append(
                Check(
                    "amount_valid",
                    False,
                    f"Amount {fields.amount} is not positive",
                    "Invalid invoice amount",
                )
            )
        else:
            checks.append(Check("amount_present", True, f"Amount {fields.amount:.2f}"))
        return checks

    @staticmethod
    def _policy_checks(fields: InvoiceFields, settings: APSettings) -> list[Check]:
        checks: list[Check] = []
        if fields.amount is not None and fields.amount > 0:
            limit = settings.auto_approval_threshold
            checks.append(
                Check("amount_threshold", True, f"{fields.amount:.2f} <= {limit:.2f}")
                if fields.amount <= limit
                else Check(
                    "amount_threshold", False, f"{fields.amount:.2f} > {limit:.2f}", AMOUNT_REASON
                )
            )
        if settings.approved_vendors:
            approved = {v.strip().casefold() for v in settings.approved_vendors}
            if fields.vendor and fields.vendor.strip().casefold() in approved:
                checks.append(Check("approved_vendor", True, f"{fields.vendor} is approved"))
            else:
                who = fields.vendor or "unknown vendor"
                checks.append(
                    Check(
                        "approved_vendor",
                        False,
                        f"{who} is not on the approved list",
                        f"Vendor not approved: {who}",
                    )
                )
        expected = settings.currency.upper()
        if fields.currency and fields.currency != expected:
            checks.append(
                Check(
                    "currency",
                    False,
                    f"{fields.currency} is not {expected}",
                    f"Currency {fields.currency} differs from {expected}",
                )
            )
        else:
            checks.append(Check("currency", True, expected))
        return checks

    @staticmethod
    async def _duplicate_check(ctx: AgentContext, fields: InvoiceFields) -> Check:
        if not fields.invoice_number:
            return Check("duplicate_invoice", True, "No invoice number to compare")
        earlier = await ctx.history.runs_with_reference(fields.invoice_number)
        if not earlier:
            return Check("duplicate_invoice", True, "First time this invoice is seen")
        return Check(
            "duplicate_invoice",
            False,
            f"Already processed in run {earlier[0]}",
            f"Duplicate invoice {fields.invoice_number} (already processed in run {earlier[0]})",
        )


def _usable(name: str, value: Any) -> Any:
    """``value`` normalised for field ``name``, or None when it cannot be one."""
    if name == "amount":
        return text.number(value)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    value = str(value).strip()
    if name == "currency":
        return text.currency_code(value)
    if name == "invoice_number":
        return (
            value.upper() if re.fullmatch(r"[A-Za-z0-9#][A-Za-z0-9#/_. -]{0,63}", value) else None
        )
    return value


def _malformed(name: str, value: Any) -> Check:
    label = {"invoice_number": "invoice number", "amount": "invoice amount"}.get(name, name)
    return Check(
        f"{name}_valid",
        False,
        f"{label.capitalize()} {_short(value)} is not usable",
        f"Malformed {label}: {_short(value)}",
    )


def _fill(
    values: dict[str, Any],
    sources: dict[str, Source],
    malformed: list[Check],
    missing: list[str],
    found: InvoiceFields,
    source: Source,
) -> None:
    for name in missing:
        value = getattr(found, name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        sources[name] = source
        usable = _usable(name, value)
        if usable is None:
            malformed.append(_malformed(name, value))
        else:
            values[name] = usable


def _in_task_check(invoice_number: str, task: str) -> Check:
    """A model must not invent an invoice number: it has to be in the text it read."""

    def squash(value: str) -> str:
        return re.sub(r"[^0-9a-z]", "", value.casefold())

    if squash(invoice_number) in squash(task):
        return Check("invoice_number_in_task", True, f"{invoice_number} appears in the task")
    return Check(
        "invoice_number_in_task",
        False,
        f"{invoice_number} does not appear in the task",
        f"Invoice number {invoice_number} not found in the task text",
    )


def _short(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:39] + "…"
