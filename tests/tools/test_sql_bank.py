"""SqlBank against the seeded demo bank, on SQLite and PostgreSQL."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from chatbot.clock import BANK_TZ
from chatbot.errors import Conflict, InvalidInput, NotFound
from chatbot.tools.banking import BankingRefusal
from chatbot.tools.sql_bank import DEMO_LIMITS, SqlBank, TransferLimits

D = Decimal
LINA = "6222021000708888"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=BANK_TZ)


def _transfer(bank, demo, amount, key="k-1", now=None, to=None, name="李娜", tail="1234", purpose=None):
    return bank.transfer(demo.zhang, tail, to or demo.lina_savings, name, amount, purpose, key,
                         now or datetime(2026, 11, 24, 10, 0, tzinfo=BANK_TZ))


def _refusal(database, call) -> str:
    with pytest.raises(BankingRefusal) as caught, database.write() as db:
        call(SqlBank(db))
    return caught.value.code


# --- customers and bindings -----------------------------------------------------------------

def test_customer_lookup(backend, database, demo):
    with database.read() as db:
        bank = SqlBank(db)
        zhang = bank.find_customer("张伟", "110105199003071239")
        assert zhang.id == demo.zhang and zhang.phone == "13800138000"
        assert bank.customer(demo.lina).name == "李娜"
        assert bank.find_customer("张伟", "310115198806152046") is None
        assert bank.find_customer("张", "110105199003071239") is None
        with pytest.raises(NotFound):
            bank.customer(999999)


def test_bind_unbind_and_already_bound(backend, database, demo, clock):
    with database.write() as db:
        bank = SqlBank(db)
        assert bank.bound_customer("web", "u1") is None
        bank.bind("web", "u1", demo.zhang, clock.now())
        bank.bind("web", "u1", demo.zhang, clock.now())  # again: nothing changes
        bank.bind("wechat", "u1", demo.wang, clock.now())  # same id on another channel
    assert _refusal(database, lambda bank: bank.bind("web", "u1", demo.wang, clock.now())) == "already_bound"
    with database.write() as db:
        bank = SqlBank(db)
        assert bank.bound_customer("web", "u1") == demo.zhang
        assert bank.bound_customer("wechat", "u1") == demo.wang
        assert bank.unbind("web", "u1") is True
        assert bank.unbind("web", "u1") is False
        assert bank.bound_customer("web", "u1") is None


# --- accounts, loss reports, payees ------------------------------------------------------------

def test_accounts_of_a_customer(backend, database, demo):
    with database.read() as db:
        savings, credit = SqlBank(db).accounts(demo.zhang, NOW)
    assert (savings.kind, savings.card_tail, savings.balance) == ("savings", "1234", D("52380.50"))
    assert savings.available == savings.balance and savings.credit_limit is None
    assert (credit.kind, credit.card_tail, credit.credit_limit) == ("credit", "5678", D("30000.00"))
    assert credit.available == D("30000.00") + credit.balance and credit.balance < 0
    assert {a.status for a in (savings, credit)} == {"active"}


def test_report_and_cancel_loss(backend, database, demo, clock):
    with database.write() as db:
        info = SqlBank(db).report_loss(demo.zhang, "1234", clock.now())
    assert (info.card_status, info.status) == ("lost", "frozen")
    assert _refusal(database, lambda b: b.report_loss(demo.zhang, "1234", clock.now())) == "already_lost"
    assert _refusal(database, lambda b: _transfer(b, demo, D("10.00"))) == "card_frozen"
    assert _refusal(database, lambda b: b.check_transfer(demo.zhang, "1234", D("10.00"), clock.now())) == "card_frozen"
    with database.write() as db:
        info = SqlBank(db).cancel_loss(demo.zhang, "1234", clock.now())
    assert (info.card_status, info.status) == ("active", "active")
    assert _refusal(database, lambda b: b.cancel_loss(demo.zhang, "1234", clock.now())) == "not_lost"
    with database.write() as db:
        assert _transfer(SqlBank(db), demo, D("10.00")).amount == D("10.00")


def test_loss_report_of_a_credit_card_and_unknown_tails(backend, database, demo, clock):
    with database.write() as db:
        info = SqlBank(db).report_loss(demo.zhang, "5678", clock.now())
    assert (info.kind, info.card_status, info.status) == ("credit", "lost", "frozen")
    for tail in ("8888", "0000", "12345", ""):  # 8888 is 李娜's card, not 张伟's
        assert _refusal(database, lambda b: b.report_loss(demo.zhang, tail, clock.now())) == "card_not_found"


def test_payees_and_account_resolution(backend, database, demo):
    with database.read() as db:
        bank = SqlBank(db)
        (payee,) = bank.payees(demo.zhang)
        assert (payee.name, payee.account_no, payee.same_bank) == ("李娜", demo.lina_savings, True)
        assert bank.payees(demo.wang) == []
        assert bank.resolve_account(demo.lina_savings) == ("李娜", True)
        assert bank.resolve_account(demo.other_bank) is None
        assert bank.resolve_account("BANK-CLEARING") is None


# --- transaction history ---------------------------------------------------------------------

def test_history_pages_newest_first_with_totals_over_all_pages(backend, database, demo):
    with database.read() as db:
        bank = SqlBank(db)
        everything = bank.transactions(demo.zhang, limit=10_000)
        first = bank.transactions(demo.zhang, limit=5)
        second = bank.transactions(demo.zhang, offset=5, limit=5)
    items = everything.items
    assert everything.total_count == len(items) == first.total_count > 100
    assert first.items + second.items == items[:10]
    assert [(t.at, t.id) for t in items] == sorted(((t.at, t.id) for t in items), reverse=True)
    assert first.income == sum(t.amount for t in items if t.amount > 0)
    assert first.expense == -sum(t.amount for t in items if t.amount < 0)
    assert isinstance(first.income, Decimal) and first.income.as_tuple().exponent == -2
    assert {t.account_tail for t in items} == {"1234", "5678"}
    assert all(t.at.tzinfo is not None for t in items)


def test_history_filters(backend, database, demo):
    with database.read() as db:
        bank = SqlBank(db)
        salary = bank.transactions(demo.zhang, kinds=("salary",), limit=100)
        assert salary.total_count == 6 and {t.kind for t in salary.items} == {"salary"}
        assert salary.expense == 0 and salary.income == D("18500.00") * 6
        credit = bank.transactions(demo.zhang, card_tail="5678", limit=1000)
        assert {t.account_tail for t in credit.items} == {"5678"}
        spent = bank.transactions(demo.zhang, direction="expense", limit=1000)
        assert all(t.amount < 0 for t in spent.items) and spent.income == 0
        earned = bank.transactions(demo.zhang, direction="income", kinds=("salary", "interest"), limit=1000)
        assert all(t.amount > 0 and t.kind in ("salary", "interest") for t in earned.items)
        october = bank.transactions(demo.zhang, start=date(2026, 10, 1), end=date(2026, 10, 31), limit=1000)
        assert {t.at.date().month for t in october.items} == {10} and october.total_count > 10
        assert bank.transactions(demo.wang, card_tail="4321", limit=1).items[0].account_tail == "4321"


def test_history_days_are_bank_days_inclusive(backend, database, demo):
    # 00:30 in Shanghai on the 24th is still the 23rd in UTC.
    early = datetime(2026, 11, 24, 0, 30, tzinfo=BANK_TZ)
    with database.write() as db:
        _transfer(SqlBank(db), demo, D("1.00"), now=early)
    with database.read() as db:
        bank = SqlBank(db)
        day = bank.transactions(demo.zhang, start=date(2026, 11, 24), end=date(2026, 11, 24), kinds=("transfer",))
        assert [t.at for t in day.items] == [early]
        before = bank.transactions(demo.zhang, end=date(2026, 11, 23), kinds=("transfer",), limit=1000)
        assert early not in [t.at for t in before.items]


def test_history_refuses_bad_filters(backend, database, demo):
    with database.read() as db:
        bank = SqlBank(db)
        with pytest.raises(BankingRefusal) as caught:
            bank.transactions(demo.zhang, card_tail="8888")
        assert caught.value.code == "card_not_found"
        with pytest.raises(InvalidInput):
            bank.transactions(demo.zhang, direction="sideways")
        with pytest.raises(InvalidInput):
            bank.transactions(demo.zhang, start=date(2026, 11, 2), end=date(2026, 11, 1))
        with pytest.raises(InvalidInput):
            bank.transactions(demo.zhang, offset=-1)


# --- transfers ---------------------------------------------------------------------------------

def test_same_bank_transfer_credits_the_payee(backend, database, demo, books):
    with database.write() as db:
        receipt = _transfer(SqlBank(db), demo, D("2500"), purpose="还钱")
    assert re.fullmatch(r"T20261124-\d{6}", receipt.reference)
    assert (receipt.amount, receipt.from_tail, receipt.payee_name, receipt.payee_tail) == (
        D("2500.00"), "1234", "李娜", "8888")
    assert receipt.balance_after == D("49880.50") == books.balance(demo.zhang_savings)
    assert books.balance(demo.lina_savings) == D("3500.00")
    assert receipt.replayed is False and receipt.at == datetime(2026, 11, 24, 10, 0, tzinfo=BANK_TZ)
    books.assert_balanced()
    with database.read() as db:
        (incoming,) = SqlBank(db).transactions(demo.lina, start=date(2026, 11, 24), kinds=("transfer",)).items
    assert (incoming.amount, incoming.counterparty, incoming.description) == (D("2500.00"), "张伟", "还钱")


def test_other_bank_transfer_goes_through_clearing(backend, database, demo, books):
    clearing = books.balance("BANK-CLEARING")
    with database.write() as db:
        receipt = _transfer(SqlBank(db), demo, D("100.10"), to=demo.other_bank, name="赵六")
    assert (receipt.payee_name, receipt.payee_tail) == ("赵六", "0007")
    assert books.balance("BANK-CLEARING") == clearing + D("100.10")
    assert books.balance(demo.zhang_savings) == D("52280.40")
    books.assert_balanced()


def test_references_are_unique(backend, database, demo):
    with database.write() as db:
        bank = SqlBank(db)
        refs = {_transfer(bank, demo, D("1.00"), key=f"k-{i}").reference for i in range(5)}
    assert len(refs) == 5


@pytest.mark.parametrize("amount", [D("0.001"), D("10.005"), D("0"), D("-5.00"), D("NaN"), 12.5, "100"])
def test_invalid_amounts_are_refused(backend, database, demo, clock, amount):
    assert _refusal(database, lambda b: _transfer(b, demo, amount)) == "invalid_amount"
    assert _refusal(database, lambda b: b.check_transfer(demo.zhang, "1234", amount, clock.now())) == "invalid_amount"


@pytest.mark.parametrize("tail, to, name, code", [
    ("9999", LINA, "李娜", "card_not_found"),
    ("5678", LINA, "李娜", "card_not_found"),  # a credit card cannot pay a transfer
    ("1234", "6222021000191234", "张伟", "same_account"),
    ("1234", LINA, "王芳", "unknown_payee"),  # the name does not match the account
    ("1234", "BANK-FEES", "手续费", "unknown_payee"),
    ("1234", "12ab", "某人", "unknown_payee"),
])
def test_transfer_refusals(backend, database, demo, books, tail, to, name, code):
    before = books.entry_count()
    assert _refusal(database, lambda b: _transfer(b, demo, D("10.00"), tail=tail, to=to, name=name)) == code
    assert books.entry_count() == before


def test_insufficient_funds_and_the_single_limit(backend, database, demo, clock, books):
    assert _refusal(database, lambda b: _transfer(b, demo, D("50000.01"))) == "over_single_limit"
    with database.write() as db:
        SqlBank(db).check_transfer(demo.zhang, "1234", D("50000.00"), clock.now())
        assert _transfer(SqlBank(db), demo, D("50000.00")).balance_after == D("2380.50")
    assert _refusal(database, lambda b: _transfer(b, demo, D("2380.51"), key="k-2")) == "insufficient_funds"
    assert _refusal(database, lambda b: b.check_transfer(demo.zhang, "1234", D("2380.51"), clock.now())) \
        == "insufficient_funds"
    with database.write() as db:
        assert _transfer(SqlBank(db), demo, D("2380.50"), key="k-3").balance_after == D("0.00")
    books.assert_balanced()


def test_daily_limit_after_several_transfers(backend, database, demo, clock, funder, books):
    with database.write() as db:
        funder(db, demo.zhang_savings, "300000.00", clock.now() - timedelta(days=1))
        bank = SqlBank(db)
        for i in range(3):
            _transfer(bank, demo, D("50000.00"), key=f"k-{i}")
        _transfer(bank, demo, D("49999.99"), key="k-3", to=demo.other_bank, name="赵六")
    assert _refusal(database, lambda b: _transfer(b, demo, D("0.02"), key="k-4")) == "over_daily_limit"
    assert _refusal(database, lambda b: b.check_transfer(demo.zhang, "1234", D("0.02"), clock.now())) \
        == "over_daily_limit"
    with database.write() as db:
        _transfer(SqlBank(db), demo, D("0.01"), key="k-5")  # exactly up to the limit
        # A new bank day (Asia/Shanghai midnight, still the 24th in UTC) starts afresh.
        _transfer(SqlBank(db), demo, D("50000.00"), key="k-6", now=datetime(2026, 11, 25, 0, 5, tzinfo=BANK_TZ))
    books.assert_balanced()


def test_limits_are_configurable(backend, database, demo):
    limits = TransferLimits(single=D("100.00"), daily=D("150.00"))
    assert DEMO_LIMITS == TransferLimits(D("50000.00"), D("200000.00"))
    with pytest.raises(BankingRefusal) as caught, database.write() as db:
        bank = SqlBank(db, limits)
        _transfer(bank, demo, D("100.00"), key="a")
        _transfer(bank, demo, D("50.01"), key="b")
    assert caught.value.code == "over_daily_limit"


# --- idempotency and atomicity -------------------------------------------------------------------

def test_the_same_key_moves_money_once(backend, database, demo, books):
    with database.write() as db:
        first = _transfer(SqlBank(db), demo, D("300.00"), key="msg-42")
        again = _transfer(SqlBank(db), demo, D("300.00"), key="msg-42")
    with database.write() as db:  # a retry in a later turn
        later = _transfer(SqlBank(db), demo, D("300.00"), key="msg-42")
    assert (first.replayed, again.replayed, later.replayed) == (False, True, True)
    assert first.reference == again.reference == later.reference
    assert later.balance_after == first.balance_after == books.balance(demo.zhang_savings) == D("52080.50")
    assert later.at == first.at
    assert len(books.keyed_transactions()) == 1


def test_replay_wins_over_rules_that_would_now_refuse(backend, database, demo, clock):
    with database.write() as db:
        first = _transfer(SqlBank(db), demo, D("40000.00"), to=demo.other_bank, name="赵六", key="all")
    with database.write() as db:
        SqlBank(db).report_loss(demo.zhang, "1234", clock.now())
    with database.write() as db:
        again = _transfer(SqlBank(db), demo, D("40000.00"), to=demo.other_bank, name="赵六", key="all")
    assert again.replayed and again.reference == first.reference


def test_a_key_reused_for_another_transfer_is_a_conflict(backend, database, demo):
    with database.write() as db:
        _transfer(SqlBank(db), demo, D("10.00"), key="dup")
    for call in (lambda b: _transfer(b, demo, D("11.00"), key="dup"),
                 lambda b: _transfer(b, demo, D("10.00"), key="dup", to=demo.other_bank, name="赵六"),
                 lambda b: b.transfer(demo.wang, "4321", demo.lina_savings, "李娜", D("10.00"), None, "dup",
                                      datetime(2026, 11, 24, 10, tzinfo=BANK_TZ))):
        with pytest.raises(Conflict), database.write() as db:
            call(SqlBank(db))


def test_a_lost_race_on_the_key_is_caught_in_a_savepoint(backend, database, demo, books):
    """Both early checks miss the key (as when another worker commits it meanwhile)."""
    with database.write() as db:
        first = _transfer(SqlBank(db), demo, D("10.00"), key="race")
    with database.write() as db:
        bank = SqlBank(db)
        real_replay, calls = bank._replay, []

        def blind_replay(*args):
            calls.append(args)
            return None if len(calls) <= 2 else real_replay(*args)

        bank._replay = blind_replay
        again = _transfer(bank, demo, D("10.00"), key="race")
        # The outer transaction survived the unique violation and can go on working.
        other = _transfer(SqlBank(db), demo, D("20.00"), key="after-race")
    assert again.replayed and again.reference == first.reference and len(calls) == 3
    assert books.balance(demo.zhang_savings) == D("52350.50")
    assert len(books.keyed_transactions()) == 2 and other.replayed is False
    books.assert_balanced()


def test_a_failure_after_the_transfer_rolls_it_back(backend, database, demo, books):
    before = books.entry_count()
    with pytest.raises(RuntimeError), database.write() as db:
        _transfer(SqlBank(db), demo, D("500.00"))
        raise RuntimeError("the turn failed after the posting")
    assert books.entry_count() == before
    assert books.balance(demo.zhang_savings) == D("52380.50")
    assert books.balance(demo.lina_savings) == D("1000.00")
    assert books.keyed_transactions() == []
