"""Accounts payable: check an invoice against the org's AP policy and approve or escalate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from eclips.server.agents.base import Agent, AgentContext, AgentSettings, Outcome
from eclips.server.agents.builtin import text

AMOUNT_REASON = "Amount above auto-approval threshold"


class APSettings(AgentSettings):
    auto_approval_threshold: float = Field(
        default=10_000, ge=0, description="Invoices above this amount need a human."
    )
    approved_vendors: list[str] = Field(
        default_factory=list,
        description="Vendors paid without review; empty means any vendor is accepted.",
    )
    currency: str = Field(
        default="USD", min_length=3, max_length=3, description="The currency invoices must use."
    )


class InvoiceFields(BaseModel):
    """What the agent reads from an invoice (also the schema a language model fills)."""

    invoice_number: str | None = None
    amount: float | None = None
    vendor: str | None = None
    currency: str | None = None


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
        fields, from_text = await self._read(ctx)
        await ctx.report("extracted", **fields.model_dump())
        checks = [
            *self._field_checks(fields),
            *self._policy_checks(fields, settings),
            await self._duplicate_check(ctx, fields),
        ]
        failed = [c for c in checks if not c.passed]
        reasons = [c.triage_reason for c in failed if c.triage_reason]
        approved = not failed
        confidence = 0.97 if not from_text else 0.88
        if failed:
            confidence = min(confidence, 0.75)
        output: dict[str, Any] = {
            **fields.model_dump(),
            "currency": fields.currency or settings.currency,
            "approved": approved,
            "decision": "approved" if approved else "needs_review",
            "checks": [c.as_json() for c in checks],
        }
        return Outcome(
            output=output,
            confidence=confidence,
            triage_reason="; ".join(reasons) if reasons else None,
            reference=fields.invoice_number,
        )

    async def _read(self, ctx: AgentContext) -> tuple[InvoiceFields, bool]:
        """Structured ``data`` wins; the task's text fills gaps (with the model, if any)."""
        data = ctx.data
        fields = InvoiceFields(
            invoice_number=_str(data.get("invoice_number") or data.get("invoice")),
            amount=text.number(data.get("amount")),
            vendor=_str(data.get("vendor")),
            currency=_str(data.get("currency")),
        )
        missing = [name for name, value in fields.model_dump().items() if value is None]
        if not missing:
            return fields, False
        if ctx.llm is not None:
            guessed = await ctx.llm.extract(
                instructions="Extract the invoice number, amount, vendor and ISO currency.",
                text=ctx.task,
                schema=InvoiceFields,
            )
        else:
            guessed = InvoiceFields(
                invoice_number=text.invoice_number(ctx.task),
                amount=text.money(ctx.task),
                vendor=text.vendor(ctx.task),
            )
        merged = fields.model_copy(
            update={name: getattr(guessed, name) for name in missing if getattr(guessed, name)}
        )
        return merged, any(getattr(guessed, name) is not None for name in missing)

    @staticmethod
    def _field_checks(fields: InvoiceFields) -> list[Check]:
        checks = [
            Check("invoice_number_present", True, f"Invoice {fields.invoice_number}")
            if fields.invoice_number
            else Check(
                "invoice_number_present", False, "No invoice number found", "Missing invoice number"
            )
        ]
        if fields.amount is None:
            checks.append(
                Check("amount_present", False, "No amount found", "Missing invoice amount")
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
            approved = {v.casefold() for v in settings.approved_vendors}
            if fields.vendor and fields.vendor.casefold() in approved:
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
        if fields.currency and fields.currency.upper() != settings.currency.upper():
            checks.append(
                Check(
                    "currency",
                    False,
                    f"{fields.currency} is not {settings.currency}",
                    f"Currency {fields.currency} differs from {settings.currency}",
                )
            )
        else:
            checks.append(Check("currency", True, settings.currency))
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


def _str(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None
