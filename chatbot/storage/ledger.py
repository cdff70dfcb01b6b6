"""Double-entry postings: every transaction's legs sum to zero and move balances together.

Callers run `post` inside one write transaction (`Database.write()`), so the debit, the
credit and the ledger rows commit together or not at all.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.errors import InvalidInput
from chatbot.storage.models import Account, LedgerEntry, LedgerTransaction

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Leg:
    account: Account
    amount: Decimal  # positive credits the account, negative debits it
    counterparty: str | None = None
    memo: str | None = None


def post(db: Session, *, reference: str, kind: str, description: str, legs: Sequence[Leg],
         at: datetime, idempotency_key: str | None = None) -> LedgerTransaction:
    """Record one balanced transaction and update the balances of its accounts."""
    amounts = [leg.amount for leg in legs]
    if any(a != a.quantize(CENT) for a in amounts):
        raise InvalidInput("金额最多两位小数", "invalid_amount")
    if len(legs) < 2 or sum(amounts, Decimal("0")) != 0:
        raise InvalidInput("记账分录借贷不平衡", "unbalanced_posting")
    txn = LedgerTransaction(reference=reference, kind=kind, description=description,
                            idempotency_key=idempotency_key, created_at=at)
    db.add(txn)
    db.flush()
    for leg in legs:
        leg.account.balance = (leg.account.balance + leg.amount).quantize(CENT)
        db.add(LedgerEntry(
            transaction_id=txn.id, account_id=leg.account.id, amount=leg.amount,
            balance_after=leg.account.balance, counterparty=leg.counterparty,
            memo=leg.memo, created_at=at,
        ))
    return txn


def internal_account(db: Session, account_no: str) -> Account:
    """One of the bank's own clearing accounts (created by the seed or migrations)."""
    account = db.scalar(select(Account).where(Account.account_no == account_no))
    if account is None:
        raise LookupError(f"internal account {account_no} is missing; run `chatbot seed`")
    return account
