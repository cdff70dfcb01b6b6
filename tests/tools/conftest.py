"""Helpers for the core-banking tests: the demo bank's numbers and ledger invariants."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chatbot.storage.ledger import Leg, internal_account, post
from chatbot.storage.models import Account, Customer, LedgerEntry, LedgerTransaction

ZHANG_SAVINGS = "6222021000191234"
ZHANG_CREDIT = "6258800000335678"
LINA_SAVINGS = "6222021000708888"
OTHER_BANK = "6217000099990007"  # an account at another bank (not in our books)


@dataclass(frozen=True)
class Demo:
    """Customer ids of the seeded demo bank and its account numbers."""

    zhang: int
    wang: int
    lina: int
    zhang_savings: str = ZHANG_SAVINGS
    zhang_credit: str = ZHANG_CREDIT
    lina_savings: str = LINA_SAVINGS
    other_bank: str = OTHER_BANK


@pytest.fixture
def demo(database) -> Demo:
    with database.read() as db:
        ids = dict(db.execute(select(Customer.name, Customer.id)).all())
    return Demo(ids["张伟"], ids["王芳"], ids["李娜"])


class Books:
    """Read-only questions about the ledger, each in its own read transaction."""

    def __init__(self, database) -> None:
        self.database = database

    def balance(self, account_no: str) -> Decimal:
        with self.database.read() as db:
            return db.scalar(select(Account.balance).where(Account.account_no == account_no))

    def entry_count(self) -> int:
        with self.database.read() as db:
            return db.scalar(select(func.count()).select_from(LedgerEntry))

    def keyed_transactions(self) -> list[LedgerTransaction]:
        with self.database.read() as db:
            return list(db.scalars(select(LedgerTransaction).where(LedgerTransaction.idempotency_key.is_not(None))))

    def assert_balanced(self) -> None:
        """Every posting sums to zero, has two legs or more, and balances equal their entries."""
        with self.database.read() as db:
            # Summed in Decimal: SQLite's SUM is a float, and a three-leg loan payment adds up to 1e-13.
            entries = db.execute(select(LedgerEntry.transaction_id, LedgerEntry.account_id, LedgerEntry.amount)).all()
            by_txn, sums, legs = {}, {}, {}
            for txn, account, amount in entries:
                by_txn[txn] = by_txn.get(txn, Decimal("0")) + amount
                legs[txn] = legs.get(txn, 0) + 1
                sums[account] = sums.get(account, Decimal("0")) + amount
            assert sum(by_txn.values(), Decimal("0")) == 0
            assert [t for t, total in by_txn.items() if total != 0 or legs[t] < 2] == []
            for account in db.scalars(select(Account)):
                assert account.balance == sums.get(account.id, 0), account.account_no


@pytest.fixture
def books(database) -> Books:
    return Books(database)


def fund(db: Session, account_no: str, amount: str, at: datetime, reference: str = "TEST-FUND") -> None:
    """Credit a customer account from outside the bank (a salary), for tests needing more money."""
    account = db.scalar(select(Account).where(Account.account_no == account_no))
    clearing = internal_account(db, "BANK-CLEARING")
    post(db, reference=reference, kind="salary", description="测试入账", at=at,
         legs=[Leg(account, Decimal(amount), "测试公司"), Leg(clearing, -Decimal(amount), "测试公司")])


@pytest.fixture
def funder():
    return fund
