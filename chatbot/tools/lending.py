"""The applications and loans part of the core-banking interface (card and loan applications
with stages, loans with schedules) and its value objects. SQL implementation:
chatbot/tools/sql_lending.py.

Products are described to the bank by the caller (`CardTerms`, `LoanTerms`, built from the
knowledge graph by chatbot/dialogue/flows/lending_products.py): the books never hold a copy of
the product catalogue. What an application was decided on (the card limit proposed at
pre-review, the loan's annual rate) is kept in the application's `details`, so a later stage
move uses the figures the customer was shown.

Stages (DESIGN.md, "Wave 2 contract"):
  card: submitted -> reviewing -> approved | rejected; approved -> producing -> mailed -> activated
  loan: submitted -> reviewing -> approved | rejected; approved -> disbursed
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from chatbot.errors import Conflict

KINDS = ("card", "loan")
CARD_STAGES = ("submitted", "reviewing", "approved", "rejected", "producing", "mailed", "activated")
LOAN_STAGES = ("submitted", "reviewing", "approved", "rejected", "disbursed")
STAGES = {"card": CARD_STAGES, "loan": LOAN_STAGES}
# Where each stage may go next; a stage missing here is final.
TRANSITIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "card": {"submitted": ("reviewing",), "reviewing": ("approved", "rejected"), "approved": ("producing",),
             "producing": ("mailed",), "mailed": ("activated",)},
    "loan": {"submitted": ("reviewing",), "reviewing": ("approved", "rejected"), "approved": ("disbursed",)},
}
STAGE_NAMES = {"submitted": "已提交", "reviewing": "审核中", "approved": "审核通过", "rejected": "未通过",
               "producing": "制卡中", "mailed": "已寄出", "activated": "已激活", "disbursed": "已放款"}
OPEN_STAGES = {"card": ("submitted", "reviewing", "approved", "producing", "mailed"),
               "loan": ("submitted", "reviewing", "approved")}
METHODS = ("equal_installment", "equal_principal")
METHOD_NAMES = {"equal_installment": "等额本息", "equal_principal": "等额本金"}


def allowed_moves(kind: str, stage: str) -> tuple[str, ...]:
    return TRANSITIONS.get(kind, {}).get(stage, ())


class StageConflict(Conflict):
    """An application cannot move to that stage from where it is; `allowed` says where it can."""

    default_code = "illegal_stage"

    def __init__(self, message: str, allowed: tuple[str, ...]) -> None:
        super().__init__(message)
        self.allowed = allowed


@dataclass(frozen=True)
class LendingRules:
    """The explicit pre-review rules (demo values; a real bank's credit policy goes here).

    Age comes from the ID number. The debt-to-income ratio counts the new loan's monthly
    payment, the next payment of every loan in repayment and `card_debt_share` of what is
    owed on credit cards (about the minimum payment). A card's limit is the monthly income
    times `limit_income_multiple`, in steps of `limit_step`, within the product's range.
    `min_loan_amount` / `min_loan_months` apply where the product names no minimum.
    """

    min_age: int = 18
    max_age: int = 65
    min_monthly_income: Decimal = Decimal("3000.00")
    max_debt_ratio: Decimal = Decimal("0.50")
    card_debt_share: Decimal = Decimal("0.10")
    limit_income_multiple: Decimal = Decimal("3")
    limit_step: Decimal = Decimal("1000")
    min_loan_amount: Decimal = Decimal("1000.00")
    min_loan_months: int = 3
    method: str = "equal_installment"  # how a loan applied for in chat is repaid


DEMO_RULES = LendingRules()


@dataclass(frozen=True)
class CardTerms:
    """A credit-card product as the bank decides on it (from the knowledge graph)."""

    code: str
    name: str
    limit_min: Decimal
    limit_max: Decimal
    review_time: str | None = None


@dataclass(frozen=True)
class LoanTerms:
    """A loan product as the bank decides on it (from the knowledge graph)."""

    code: str
    name: str
    annual_rate: Decimal  # a fraction: 0.032 is 3.2 %
    min_amount: Decimal
    max_amount: Decimal
    min_months: int
    max_months: int
    review_time: str | None = None


class Products(Protocol):
    """Product look-up for stage moves (a card's limit at approval, a loan's rate at disbursement)."""

    def card(self, code: str) -> CardTerms | None: ...

    def loan(self, code: str) -> LoanTerms | None: ...


@dataclass(frozen=True)
class CardDecision:
    """A passed pre-review of a card application: the limit the bank would grant."""

    credit_limit: Decimal
    debt_ratio: Decimal


@dataclass(frozen=True)
class LoanDecision:
    """A passed pre-review of a loan application: what it would cost each month."""

    monthly_payment: Decimal  # the first payment at the product's rate
    existing_payments: Decimal  # other loans' next payments and the card share, per month
    debt_ratio: Decimal
    annual_rate: Decimal


@dataclass(frozen=True)
class StageEvent:
    stage: str
    at: datetime
    actor: str

    @property
    def name(self) -> str:
        return STAGE_NAMES.get(self.stage, self.stage)


@dataclass(frozen=True)
class ApplicationInfo:
    id: int
    reference: str
    kind: str  # card | loan
    customer_id: int
    customer_name: str
    product_code: str
    product_name: str
    stage: str
    amount: Decimal | None
    term_months: int | None
    details: dict
    decision_reason: str | None
    submitted_at: datetime
    updated_at: datetime
    events: tuple[StageEvent, ...] = ()
    card_tail: str | None = None  # the card made for it (from 已寄出 on)
    credit_limit: Decimal | None = None  # decided at 审核通过
    loan_reference: str | None = None  # the loan made by 已放款
    replayed: bool = False  # an application already made with this idempotency key

    @property
    def stage_name(self) -> str:
        return STAGE_NAMES.get(self.stage, self.stage)

    @property
    def allowed(self) -> tuple[str, ...]:
        return allowed_moves(self.kind, self.stage)

    def reached(self, stage: str) -> datetime | None:
        """When the application (last) reached `stage`, or None."""
        times = [e.at for e in self.events if e.stage == stage]
        return times[-1] if times else None


@dataclass(frozen=True)
class LoanPeriodInfo:
    number: int
    due_date: date
    payment: Decimal
    principal: Decimal
    interest: Decimal
    remaining: Decimal
    status: str  # due | paid


@dataclass(frozen=True)
class LoanInfo:
    id: int
    reference: str
    product_code: str
    product_name: str
    principal: Decimal
    annual_rate: Decimal
    months: int
    method: str
    disbursed_at: datetime
    status: str  # repaying | closed
    repay_tail: str | None  # the savings card repayments are taken from
    outstanding: Decimal  # principal still owed (from the loan account)
    periods: tuple[LoanPeriodInfo, ...] = field(default=())
    application_reference: str | None = None

    @property
    def paid_count(self) -> int:
        return sum(1 for p in self.periods if p.status == "paid")

    @property
    def next_payment(self) -> LoanPeriodInfo | None:
        return next((p for p in self.periods if p.status != "paid"), None)

    @property
    def method_name(self) -> str:
        return METHOD_NAMES.get(self.method, self.method)


class Lending(Protocol):
    """Applications and loans of one customer; stage moves for the back office."""

    def check_card_application(self, customer_id: int, product: CardTerms, monthly_income: Decimal,
                               now: datetime) -> CardDecision:
        """Pre-review (BankingRefusal with the reason: ineligible / application_open)."""
        ...

    def apply_card(self, customer_id: int, product: CardTerms, details: dict, idempotency_key: str,
                   now: datetime) -> ApplicationInfo:
        """Pre-review, then record the application at 已提交 (once per idempotency key)."""
        ...

    def check_loan_application(self, customer_id: int, product: LoanTerms, amount: Decimal, months: int,
                               monthly_income: Decimal, now: datetime) -> LoanDecision: ...

    def apply_loan(self, customer_id: int, product: LoanTerms, amount: Decimal, months: int, details: dict,
                   idempotency_key: str, now: datetime) -> ApplicationInfo: ...

    def applications(self, customer_id: int, kind: str | None = None) -> list[ApplicationInfo]:
        """The customer's applications, newest first."""
        ...

    def list_applications(self, kind: str | None = None, stage: str | None = None,
                          limit: int = 200) -> list[ApplicationInfo]:
        """Every customer's applications (the back office), most recently moved first."""
        ...

    def move_application(self, application_id: int, stage: str, actor: str, now: datetime,
                         products: Products | None = None, note: str | None = None) -> ApplicationInfo:
        """Move to the next stage (StageConflict naming the allowed ones otherwise)."""
        ...

    def activatable_cards(self, customer_id: int) -> list[ApplicationInfo]:
        """Card applications at 已寄出 whose card waits to be activated."""
        ...

    def activate_card(self, customer_id: int, card_tail: str, now: datetime) -> ApplicationInfo: ...

    def loans(self, customer_id: int) -> list[LoanInfo]:
        """The customer's loans with their schedules, newest first."""
        ...

