"""The vendor catalogue that ships with EClips; an org replaces it in its agent settings."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class CatalogueItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item: str = Field(description="Item name in the singular, e.g. 'laptop'")
    unit_price: float = Field(gt=0)


class Vendor(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    categories: list[str] = Field(default_factory=list)
    items: list[CatalogueItem]
    lead_time_days: int = Field(ge=0)
    rating: float = Field(ge=0, le=5)


def _v(name: str, categories: list[str], days: int, rating: float, **prices: float) -> Vendor:
    items = [CatalogueItem(item=item.replace("_", " "), unit_price=p) for item, p in prices.items()]
    return Vendor(name=name, categories=categories, items=items, lead_time_days=days, rating=rating)


DEFAULT_CATALOGUE: list[Vendor] = [
    _v("Dell", ["hardware"], 10, 4.5, laptop=899.0, monitor=219.0, desktop=749.0, server=4200.0),
    _v("HP", ["hardware"], 14, 4.3, laptop=929.0, monitor=199.0, desktop=729.0, printer=310.0),
    _v("Lenovo", ["hardware"], 12, 4.4, laptop=869.0, monitor=229.0, desktop=699.0),
    _v("Apple", ["hardware"], 7, 4.7, laptop=1299.0, monitor=1599.0, desktop=1199.0),
    _v("Staples", ["office"], 3, 4.0, chair=189.0, desk=329.0, paper=6.5, printer=289.0),
    _v("Office Depot", ["office"], 5, 3.9, chair=175.0, desk=349.0, paper=5.9),
    _v("Herman Miller", ["office"], 21, 4.8, chair=1095.0, desk=1495.0),
    _v("Microsoft", ["software"], 1, 4.4, license=12.5, seat=22.0),
    _v("Atlassian", ["software"], 1, 4.5, license=8.15, seat=8.15),
    _v("Google", ["software"], 1, 4.5, license=14.0, seat=14.0),
]

# Words in a request that name a category when the request does not say.
CATEGORY_WORDS = {
    "hardware": {"laptop", "monitor", "desktop", "server", "computer", "printer"},
    "office": {"chair", "desk", "paper", "furniture"},
    "software": {"license", "licence", "seat", "subscription"},
}
