"""PostgreSQL: one credit card repaid from two sessions at once never goes below zero owed,
and the ledger balances (each transaction sums to 0; balances equal their entries)."""
from __future__ import annotations

import threading
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import select

from chatbot.clock import BANK_TZ
from chatbot.storage.db import Database
from chatbot.storage.models import Account, Customer, LedgerEntry
from chatbot.tools.banking import BankingRefusal
from chatbot.tools.sql_bank import SqlBank

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=BANK_TZ)


def _race(database: Database, calls) -> list:
    start = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        start.wait()
        try:
            with database.write() as db:
                results[i] = call(SqlBank(db))
        except BankingRefusal as refusal:
            results[i] = refusal.code

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def _balanced(database: Database) -> None:
    with database.read() as db:
        entries = db.execute(select(LedgerEntry.transaction_id, LedgerEntry.account_id, LedgerEntry.amount)).all()
        by_txn, by_account = {}, {}
        for txn, account, amount in entries:
            by_txn[txn] = by_txn.get(txn, Decimal("0")) + amount
            by_account[account] = by_account.get(account, Decimal("0")) + amount
        assert [t for t, total in by_txn.items() if total != 0] == []
        for account in db.scalars(select(Account)):
            assert account.balance == by_account.get(account.id, 0), account.account_no


def test_two_sessions_repay_everything_at_once(postgres_url):
    database = Database(postgres_url)
    try:
        with database.write() as db:
            zhang = db.scalar(select(Customer.id).where(Customer.name == "张伟"))
            owed = SqlBank(db).credit_card(zhang, "5678", NOW).repayable
        results = _race(database, [lambda bank, i=i: bank.repay_card(zhang, "5678", "1234", owed, f"pg-{i}", NOW)
                                   for i in range(2)])
        receipts = [r for r in results if not isinstance(r, str)]
        assert len(receipts) == 1 and [r for r in results if isinstance(r, str)] == ["nothing_owed"]
        assert receipts[0].owed == 0 and receipts[0].statement_remaining == 0
        with database.write() as db:
            card = SqlBank(db).credit_card(zhang, "5678", NOW)
            assert card.owed == 0 and card.statement.remaining == 0
            assert card.statement.paid == card.statement.new_balance  # never more than was due
        _balanced(database)
    finally:
        database.dispose()


def test_many_partial_repayments_at_once_stop_at_what_is_owed(postgres_url):
    database = Database(postgres_url)
    try:
        with database.write() as db:
            zhang = db.scalar(select(Customer.id).where(Customer.name == "张伟"))
            owed = SqlBank(db).credit_card(zhang, "5678", NOW).repayable
        part = (owed / 3).quantize(Decimal("0.01"), rounding=ROUND_DOWN)  # three fit, the other five do not
        results = _race(database, [lambda bank, i=i: bank.repay_card(zhang, "5678", "1234", part, f"pp-{i}", NOW)
                                   for i in range(8)])
        receipts = [r for r in results if not isinstance(r, str)]
        assert len(receipts) == 3, results
        assert set(r for r in results if isinstance(r, str)) == {"over_owed"}
        with database.write() as db:
            card = SqlBank(db).credit_card(zhang, "5678", NOW)
            assert card.owed == owed - part * 3 >= 0
            assert card.statement.paid <= card.statement.new_balance
        _balanced(database)
    finally:
        database.dispose()
