"""Wealth business on the bank's books: products on sale, risk assessments, purchases and
holdings (interface and value objects; the SQL implementation is `sql_wealth.SqlWealth`).

Product facts (names, risk levels, yields, minimums) live in the knowledge graph, not here:
the tools know only what the sales system keeps (term in days, step, net value, status).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class WealthOffer:
    """What the sales system keeps about a product (`code` = the graph's node id)."""

    code: str
    term_days: int  # 0: no fixed term
    step_amount: Decimal
    nav: Decimal | None
    status: str  # on_sale | paused | closed


@dataclass(frozen=True)
class AssessmentInfo:
    id: int
    level: str  # C1..C5
    score: int
    answers: dict
    assessed_at: datetime
    expires_on: date

    def valid_on(self, day: date) -> bool:
        return day <= self.expires_on


@dataclass(frozen=True)
class WealthReceipt:
    reference: str  # WM20261124-000002
    product_code: str
    amount: Decimal
    units: Decimal
    from_tail: str
    balance_after: Decimal
    maturity_date: date | None
    at: datetime
    replayed: bool  # the idempotency key had been used: nothing moved this time


@dataclass(frozen=True)
class HoldingInfo:
    reference: str
    product_code: str
    principal: Decimal  # cost
    units: Decimal
    value: Decimal
    valued_on: date
    maturity_date: date | None
    status: str  # holding | matured | redeemed
    bought_at: datetime

    @property
    def gain(self) -> Decimal:
        return self.value - self.principal

    @property
    def gain_rate(self) -> Decimal:
        """The return as a percentage of the cost, two places."""
        if self.principal == 0:
            return Decimal("0.00")
        return (self.gain / self.principal * 100).quantize(Decimal("0.01"))


class Wealth(Protocol):
    def wealth_offers(self) -> list[WealthOffer]: ...

    def risk_assessment(self, customer_id: int) -> AssessmentInfo | None:
        """The customer's newest assessment (the one in force, unless expired), or None."""
        ...

    def record_assessment(self, customer_id: int, answers: dict, score: int, level: str,
                          now: datetime) -> AssessmentInfo: ...

    def check_wealth_purchase(self, customer_id: int, code: str, amount: Decimal, now: datetime) -> str:
        """Raise BankingRefusal (product_paused, card_frozen, insufficient_funds, no_savings,
        invalid_amount) when the purchase cannot go through; else the paying card's tail."""
        ...

    def buy_wealth(self, customer_id: int, code: str, amount: Decimal, description: str,
                   idempotency_key: str, now: datetime, from_tail: str | None = None) -> WealthReceipt: ...

    def wealth_holdings(self, customer_id: int) -> list[HoldingInfo]: ...
