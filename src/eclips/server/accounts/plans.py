"""Plans and their included monthly credits."""

from __future__ import annotations

UNLIMITED = -1
PLANS: dict[str, int] = {"team": 50_000, "unlimited": UNLIMITED}
TOPUP_PRICE_PER_1000_USD = 5
