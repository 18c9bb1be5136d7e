"""Procurement: quote a purchase from the vendor catalogue, rank the quotes, recommend one."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from eclips.server.agents.base import (
    Agent,
    AgentContext,
    AgentError,
    AgentSettings,
    LanguageModel,
    Outcome,
)
from eclips.server.agents.builtin import text
from eclips.server.agents.builtin.catalogue import CATEGORY_WORDS, DEFAULT_CATALOGUE, Vendor

BUDGET_REASON = "Total above budget limit"
_QUANTITY_ITEM = re.compile(r"\b(\d[\d,]*)\s+(?:x\s+)?([a-zA-Z][a-zA-Z-]+)")
_QUOTES = re.compile(r"\b(\d+)\s+(?:vendor\s+)?quotes?\b", re.IGNORECASE)


class RankingWeights(BaseModel):
    """How much each axis counts when quotes are ranked; only the proportions matter."""

    model_config = ConfigDict(extra="forbid")

    price: float = Field(default=0.6, ge=0)
    lead_time: float = Field(default=0.2, ge=0)
    rating: float = Field(default=0.2, ge=0)

    @model_validator(mode="after")
    def _some_weight(self) -> RankingWeights:
        if self.price + self.lead_time + self.rating <= 0:
            raise ValueError("at least one weight must be above zero")
        return self


class ProcurementSettings(AgentSettings):
    catalogue: list[Vendor] = Field(
        default_factory=lambda: list(DEFAULT_CATALOGUE),
        description="Vendors with categories, unit prices, lead times and ratings.",
    )
    budget_limit: float = Field(
        default=500_000, ge=0, description="Purchases whose total is above this need a human."
    )
    weights: RankingWeights = Field(default_factory=RankingWeights)
    default_quotes: int = Field(
        default=3, ge=1, le=20, description="How many quotes to return when the task says not."
    )


class PurchaseRequest(BaseModel):
    item: str | None = None
    quantity: int | None = None
    category: str | None = None
    quotes: int | None = None


class PurchaseText(BaseModel):
    """What a language model reads from a purchase request's free text."""

    item: str | None = Field(default=None, description="What to buy, one singular noun")
    quantity: int | None = Field(default=None, description="How many units, a number")
    quotes: int | None = Field(default=None, description="How many vendor quotes are asked for")


def singular(word: str) -> str:
    word = word.lower()
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def parse_request(task: str, data: dict[str, Any]) -> PurchaseRequest:
    quotes_match = _QUOTES.search(task)
    rest = _QUOTES.sub(" ", task)
    quantity: int | None = None
    item: str | None = None
    for match in _QUANTITY_ITEM.finditer(rest):
        quantity, item = int(match.group(1).replace(",", "")), singular(match.group(2))
        break
    data_quantity = text.number(data.get("quantity"))
    if data_quantity is not None and data_quantity == int(data_quantity):
        quantity = int(data_quantity)
    if isinstance(data.get("item"), str) and data["item"].strip():
        item = singular(data["item"].strip())
    return PurchaseRequest(
        item=item,
        quantity=quantity,
        category=data.get("category") if isinstance(data.get("category"), str) else None,
        quotes=int(quotes_match.group(1)) if quotes_match else None,
    )


class ProcurementSpecialist(Agent):
    agent_type = "procurement_specialist"
    description = (
        "Builds vendor quotes for a purchase from the org's catalogue, ranks them by price, "
        "lead time and rating, recommends one and escalates purchases above the budget."
    )
    credits_per_run = 3
    settings_model = ProcurementSettings

    async def run(self, ctx: AgentContext) -> Outcome:
        settings = ctx.settings_as(ProcurementSettings)
        request = parse_request(ctx.task, ctx.data)
        read_by = "task"
        if (request.item is None or request.quantity is None) and ctx.llm is not None:
            request = await self._read_with_model(ctx, ctx.llm, request, settings.catalogue)
            read_by = "model"
        if not request.item or not request.quantity or request.quantity <= 0:
            raise AgentError("Could not read a quantity and an item from the task")
        item = _catalogue_item(request.item, settings.catalogue)
        category = request.category or _category_of(item, settings.catalogue)
        await ctx.report("parsed", item=item, quantity=request.quantity, category=category)
        quotes = _quotes(settings.catalogue, item, request.quantity, request.category)
        if not quotes:
            raise AgentError(f"No vendor in the catalogue sells '{item}'")
        wanted = request.quotes or settings.default_quotes
        ranked = _rank(quotes, settings.weights)[:wanted]
        best = ranked[0]
        over_budget = best["total"] > settings.budget_limit
        output = {
            "item": item,
            "quantity": request.quantity,
            "category": category,
            "vendors": [q["vendor"] for q in ranked],
            "quotes": ranked,
            "recommended": best["vendor"],
            "recommended_total": best["total"],
            "budget_limit": settings.budget_limit,
            "within_budget": not over_budget,
            "weights": settings.weights.model_dump(),
            "read_by": read_by,
        }
        confidence = 0.93 if len(ranked) >= wanted else 0.7
        if read_by == "model":
            confidence = min(confidence, 0.85)
        return Outcome(
            output=output,
            confidence=confidence,
            triage_reason=BUDGET_REASON if over_budget else None,
        )

    @staticmethod
    async def _read_with_model(
        ctx: AgentContext, llm: LanguageModel, request: PurchaseRequest, catalogue: list[Vendor]
    ) -> PurchaseRequest:
        items = sorted({singular(entry.item) for vendor in catalogue for entry in vendor.items})
        await ctx.report("reading_with_model", fields=["item", "quantity"])
        guessed = await llm.extract(
            instructions=(
                "Read the purchase request in the text: the item to buy as one singular "
                "noun, how many units, and how many vendor quotes it asks for. Items the "
                f"catalogue knows: {', '.join(items)}."
            ),
            text=ctx.task,
            schema=PurchaseText,
        )
        # The structured data and what the task says plainly stay; the model fills gaps.
        return request.model_copy(
            update={
                "item": request.item or (singular(guessed.item) if guessed.item else None),
                "quantity": request.quantity or guessed.quantity,
                "quotes": request.quotes or guessed.quotes,
            }
        )


def _catalogue_item(item: str, catalogue: list[Vendor]) -> str:
    """``item`` as the catalogue names it: "ergonomic office chair" is a "chair"."""
    known = {singular(entry.item) for vendor in catalogue for entry in vendor.items}
    item = singular(item.strip())
    if item in known:
        return item
    words = item.split()
    return next((singular(w) for w in reversed(words) if singular(w) in known), item)


def _category_of(item: str, catalogue: list[Vendor]) -> str | None:
    for category, words in CATEGORY_WORDS.items():
        if item in words:
            return category
    for vendor in catalogue:
        if vendor.categories and any(singular(e.item) == item for e in vendor.items):
            return vendor.categories[0]
    return None


def _quotes(
    catalogue: list[Vendor], item: str, quantity: int, category: str | None
) -> list[dict[str, Any]]:
    quotes = []
    for vendor in catalogue:
        if category and category.casefold() not in {c.casefold() for c in vendor.categories}:
            continue
        for entry in vendor.items:
            if singular(entry.item) == item:
                quotes.append(
                    {
                        "vendor": vendor.name,
                        "unit_price": entry.unit_price,
                        "total": round(entry.unit_price * quantity, 2),
                        "lead_time_days": vendor.lead_time_days,
                        "rating": vendor.rating,
                    }
                )
    return quotes


def _rank(quotes: list[dict[str, Any]], weights: RankingWeights) -> list[dict[str, Any]]:
    """Score 0..1 on each axis relative to the best quote, weighted; best first."""
    cheapest = min(q["unit_price"] for q in quotes)
    fastest = min(q["lead_time_days"] for q in quotes)
    total_weight = (weights.price + weights.lead_time + weights.rating) or 1.0
    for quote in quotes:
        score = (
            weights.price * cheapest / quote["unit_price"]
            + weights.lead_time * (fastest + 1) / (quote["lead_time_days"] + 1)
            + weights.rating * quote["rating"] / 5
        ) / total_weight
        quote["score"] = round(score, 4)
    return sorted(quotes, key=lambda q: (-q["score"], q["total"], q["vendor"]))
