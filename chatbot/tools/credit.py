"""The credit-card part of the core-banking interface (statements, repayment, installments,
limits) and the value objects it returns. SQL implementation: chatbot/tools/sql_credit.py;
the rules (cycles, minimum payment, fees, limits) are described in docs/credit_cards.md.

Every method takes `now`: statement cycles that have closed since the last look are closed
first, inside the caller's transaction (see `SqlCreditCards`), so what is read is current.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

# Installment terms offered and the fee per term (a fraction of the principal), as the FAQ
# (data/faq.yaml credit-023/024) tells customers; purchases from MIN_INSTALLMENT up.
INSTALLMENT_RATES: dict[int, Decimal] = {3: Decimal("0.0075"), 6: Decimal("0.0070"),
                                         12: Decimal("0.0066"), 24: Decimal("0.0065")}
MIN_INSTALLMENT = Decimal("500.00")


@dataclass(frozen=True)
class StatementInfo:
    id: int
    card_tail: str
    period_start: date
    statement_date: date
    due_date: date
    new_balance: Decimal  # owed on the statement date (installment principal not yet billed excluded)
    minimum_payment: Decimal  # as billed
    paid: Decimal  # repaid against it since
    installed: Decimal  # turned into an installment plan
    remaining: Decimal  # still due: new_balance - paid - installed, never below 0
    minimum_remaining: Decimal  # what is still needed to meet the minimum (0 once met)


@dataclass(frozen=True)
class PurchaseInfo:
    entry_id: int
    at: datetime
    merchant: str
    amount: Decimal  # positive: what was spent
    installed: bool  # already split into installments


@dataclass(frozen=True)
class InstallmentPlanInfo:
    id: int
    description: str
    principal: Decimal
    terms: int
    terms_billed: int
    fee_per_term: Decimal
    principal_per_term: Decimal
    status: str
    statement_id: int | None = None  # the statement it split (None: a purchase)


@dataclass(frozen=True)
class CreditCardInfo:
    """One credit card as of now."""

    card_tail: str
    account_id: int
    status: str  # active | frozen (the account) ...
    card_status: str  # ... and the card: active | lost | inactive
    credit_limit: Decimal  # the permanent limit
    temp_limit: Decimal | None  # a valid temporary limit (None when none or expired)
    temp_limit_until: date | None
    effective_limit: Decimal  # what spending is allowed up to now
    owed: Decimal  # everything owed (>= 0): statement + unbilled + installments not yet billed
    available: Decimal  # effective_limit - owed
    statement: StatementInfo | None  # the newest closed cycle
    unbilled: Decimal  # spent since the statement date and not split into installments
    installments_outstanding: Decimal  # installment principal still to be billed
    repayable: Decimal  # the most a repayment may be now (owed - installments_outstanding)
    next_statement_date: date
    recent: tuple[PurchaseInfo, ...]  # unbilled purchases, newest first
    plans: tuple[InstallmentPlanInfo, ...]  # active plans
    overpaid: Decimal = Decimal("0.00")  # 溢缴款: a positive card balance, spent before any credit

    @property
    def frozen(self) -> bool:
        return self.status != "active" or self.card_status != "active"


@dataclass(frozen=True)
class RepaymentReceipt:
    reference: str  # e.g. R20261124-000123
    amount: Decimal
    card_tail: str
    from_tail: str
    statement_remaining: Decimal  # still due on the current statement after this repayment
    minimum_remaining: Decimal
    owed: Decimal  # everything still owed on the card
    balance_after: Decimal  # of the savings card
    at: datetime
    replayed: bool


@dataclass(frozen=True)
class InstallmentQuote:
    target: str  # "statement" or "entry:<ledger entry id>"
    description: str  # 本期账单 / 京东商城消费
    principal: Decimal
    terms: int
    fee_rate: Decimal  # per term, of the principal
    fee_per_term: Decimal
    principal_per_term: Decimal
    last_principal: Decimal  # the last term takes the remainder
    total_fee: Decimal
    first_statement: date  # the statement that bills the first term

    @property
    def per_term(self) -> Decimal:
        return self.principal_per_term + self.fee_per_term

    @property
    def total(self) -> Decimal:
        return self.principal + self.total_fee


@dataclass(frozen=True)
class InstallmentReceipt:
    plan_id: int
    quote: InstallmentQuote
    statement_remaining: Decimal | None  # the current statement's remaining due afterwards
    replayed: bool


@dataclass(frozen=True)
class LimitOptions:
    """What a raise request may ask for now, and why not when it may not."""

    card_tail: str
    credit_limit: Decimal
    temp_limit: Decimal | None
    temp_limit_until: date | None
    max_permanent: Decimal  # the highest permanent limit grantable now
    max_temporary: Decimal  # the highest temporary limit grantable now
    permanent_refusal: str | None  # why no permanent raise now (None: allowed)
    temporary_refusal: str | None
    temp_days: int  # how long a temporary limit lasts


@dataclass(frozen=True)
class LimitDecision:
    kind: str  # permanent | temporary
    requested: Decimal  # the limit asked for
    approved: Decimal | None  # the new limit, or None when refused
    until: date | None  # temporary: last valid day
    reason: str | None  # why refused (None when approved)
    code: str | None


class CreditCards(Protocol):
    """Operations on one customer's credit cards."""

    def credit_cards(self, customer_id: int, now: datetime) -> list[CreditCardInfo]: ...

    def credit_card(self, customer_id: int, card_tail: str, now: datetime, recent: int = 5) -> CreditCardInfo: ...

    def card_statements(self, customer_id: int, card_tail: str, now: datetime) -> list[StatementInfo]:
        """Closed statements, newest first."""
        ...

    def check_repayment(self, customer_id: int, card_tail: str, from_tail: str, amount: Decimal,
                        now: datetime) -> None:
        """Raise BankingRefusal if this repayment cannot go through."""
        ...

    def repay_card(self, customer_id: int, card_tail: str, from_tail: str, amount: Decimal,
                   idempotency_key: str, now: datetime) -> RepaymentReceipt: ...

    def installment_targets(self, customer_id: int, card_tail: str, now: datetime) -> list[tuple[str, str, Decimal]]:
        """(target, description, principal) of what can be split now: the statement, purchases."""
        ...

    def quote_installment(self, customer_id: int, card_tail: str, target: str, terms: int,
                          now: datetime) -> InstallmentQuote: ...

    def close_ended_cycles(self, account_id: int, now: datetime) -> None:
        """Close the cycles of a credit account that ended before today (for the notification job)."""
        ...

    def create_installment(self, customer_id: int, card_tail: str, target: str, terms: int,
                           idempotency_key: str, now: datetime,
                           expected_principal: Decimal | None = None) -> InstallmentReceipt: ...

    def limit_options(self, customer_id: int, card_tail: str, now: datetime) -> LimitOptions: ...

    def raise_limit(self, customer_id: int, card_tail: str, kind: str, amount: Decimal,
                    now: datetime) -> LimitDecision: ...
