"""The core-banking service interface and the value objects it returns.

Implementations take the turn's database session, so whatever a tool changes commits or
rolls back together with the conversation turn that asked for it (a transfer and the
turn-log row that answers its message are one transaction).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from chatbot.errors import ChatbotError
from chatbot.tools.credit import CreditCards
from chatbot.tools.lending import Lending
from chatbot.tools.wealth import Wealth


class BankingRefusal(ChatbotError):
    """A business rule said no; `code` names which one, `message` is for the customer.

    Codes: card_frozen, card_not_found, insufficient_funds, over_single_limit,
    over_daily_limit, unknown_payee, same_account, invalid_amount, already_lost,
    not_lost, identity_mismatch, already_bound.
    """

    default_code = "refused"


@dataclass(frozen=True)
class CustomerInfo:
    id: int
    name: str
    phone: str = field(repr=False)  # in the clear: mask before showing (never in a log line)
    id_number: str = field(repr=False)


@dataclass(frozen=True)
class AccountInfo:
    id: int
    kind: str  # savings | credit | loan
    name: str  # 储蓄卡 / 信用卡 / ...
    card_tail: str | None
    balance: Decimal  # signed; a credit card owing money is negative
    available: Decimal  # what can be spent now (credit: limit + balance)
    credit_limit: Decimal | None
    status: str  # active | frozen
    card_status: str | None  # active | lost | inactive


@dataclass(frozen=True)
class TransactionInfo:
    id: int
    at: datetime
    account_tail: str | None
    kind: str  # salary | consumption | transfer | cash | fee | interest | repayment | opening
    description: str
    counterparty: str | None
    amount: Decimal  # + in, - out
    balance_after: Decimal


@dataclass(frozen=True)
class TransactionPage:
    items: tuple[TransactionInfo, ...]
    total_count: int  # matching the filters, all pages
    income: Decimal  # sum of positive amounts matching the filters
    expense: Decimal  # sum of negative amounts (as a positive number)


@dataclass(frozen=True)
class PayeeInfo:
    id: int
    name: str
    account_no: str
    bank_name: str
    same_bank: bool


@dataclass(frozen=True)
class TransferReceipt:
    reference: str  # e.g. T20261124-000123
    amount: Decimal
    from_tail: str
    payee_name: str
    payee_tail: str
    balance_after: Decimal
    at: datetime
    replayed: bool  # True when the idempotency key had already been used


class CoreBanking(CreditCards, Lending, Wealth, Protocol):
    """Operations on the bank's books for one customer at a time (credit cards: credit.py;
    applications and loans: lending.py; wealth products and holdings: wealth.py)."""

    def customer(self, customer_id: int) -> CustomerInfo: ...

    def find_customer(self, name: str, id_number: str) -> CustomerInfo | None: ...

    def bound_customer(self, channel: str, user_id: str) -> int | None: ...

    def bind(self, channel: str, user_id: str, customer_id: int, now: datetime) -> None: ...

    def unbind(self, channel: str, user_id: str) -> bool: ...

    def accounts(self, customer_id: int, now: datetime) -> list[AccountInfo]: ...

    def transactions(self, customer_id: int, *, start: date | None = None, end: date | None = None,
                     card_tail: str | None = None, kinds: tuple[str, ...] = (),
                     direction: str | None = None, offset: int = 0, limit: int = 5) -> TransactionPage: ...

    def report_loss(self, customer_id: int, card_tail: str, now: datetime) -> AccountInfo: ...

    def cancel_loss(self, customer_id: int, card_tail: str, now: datetime) -> AccountInfo: ...

    def payees(self, customer_id: int) -> list[PayeeInfo]: ...

    def check_payee(self, account_no: str) -> None:
        """Raise BankingRefusal if this account cannot receive a transfer (a credit card)."""
        ...

    def resolve_account(self, account_no: str) -> tuple[str, bool] | None:
        """(holder name, same bank) of an account number, or None if unknown."""
        ...

    def check_transfer(self, customer_id: int, from_tail: str, amount: Decimal, now: datetime) -> None:
        """Raise BankingRefusal if the transfer cannot go through (before any code is sent)."""
        ...

    def transfer(self, customer_id: int, from_tail: str, to_account_no: str, to_name: str,
                 amount: Decimal, purpose: str | None, idempotency_key: str, now: datetime) -> TransferReceipt: ...
