"""Transfers fired at once: no overdraft, no double spend, no deadlock, nothing half-posted.

Each thread runs its own write transaction on a shared `Database` (PostgreSQL: a pool of
connections, so the row locks do the work; SQLite: BEGIN IMMEDIATE serializes writers).
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from decimal import Decimal

from chatbot.clock import BANK_TZ
from chatbot.tools.banking import BankingRefusal
from chatbot.tools.sql_bank import SqlBank

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=BANK_TZ)
THREADS = 20


def _fire(database, calls) -> list:
    """Run every call in its own thread and transaction, all released at the same moment."""
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait()
        try:
            with database.write() as db:
                return call(SqlBank(db))
        except BankingRefusal as refusal:
            return refusal.code

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_twenty_transfers_from_a_balance_for_ten(backend, database, demo, books):
    balance = books.balance(demo.zhang_savings)
    amount = (balance / 10).quantize(Decimal("0.01"))
    assert amount * 10 <= balance < amount * 11

    def call(i):
        return lambda bank: bank.transfer(demo.zhang, "1234", demo.lina_savings, "李娜", amount, None, f"c-{i}", NOW)

    results = _fire(database, [call(i) for i in range(THREADS)])
    receipts = [r for r in results if not isinstance(r, str)]
    assert len(receipts) == 10 and [r for r in results if isinstance(r, str)] == ["insufficient_funds"] * 10
    assert len({r.reference for r in receipts}) == 10
    assert sorted(r.balance_after for r in receipts) == [balance - amount * n for n in range(10, 0, -1)]
    assert books.balance(demo.zhang_savings) == balance - amount * 10
    assert books.balance(demo.lina_savings) == Decimal("1000.00") + amount * 10
    assert len(books.keyed_transactions()) == 10
    books.assert_balanced()


def test_twenty_retries_of_one_transfer_move_money_once(backend, database, demo, books):
    def call(bank):
        return bank.transfer(demo.zhang, "1234", demo.other_bank, "赵六", Decimal("888.00"), None, "same", NOW)

    receipts = _fire(database, [call] * THREADS)
    assert len({r.reference for r in receipts}) == 1
    assert sorted(r.replayed for r in receipts) == [False] + [True] * (THREADS - 1)
    assert books.balance(demo.zhang_savings) == Decimal("52380.50") - Decimal("888.00")
    assert len(books.keyed_transactions()) == 1
    books.assert_balanced()


def test_transfers_both_ways_at_once_do_not_deadlock(backend, database, demo, books):
    """张伟 -> 李娜 and 李娜 -> 张伟 lock the same two accounts; id order keeps them apart."""
    def to_lina(i):
        return lambda bank: bank.transfer(demo.zhang, "1234", demo.lina_savings, "李娜", Decimal("10.00"),
                                          None, f"z-{i}", NOW)

    def to_zhang(i):
        return lambda bank: bank.transfer(demo.lina, "8888", demo.zhang_savings, "张伟", Decimal("10.00"),
                                          None, f"l-{i}", NOW)

    results = _fire(database, [to_lina(i) if i % 2 else to_zhang(i) for i in range(THREADS)])
    assert all(not isinstance(r, str) and not r.replayed for r in results)
    assert books.balance(demo.zhang_savings) == Decimal("52380.50")
    assert books.balance(demo.lina_savings) == Decimal("1000.00")
    books.assert_balanced()
