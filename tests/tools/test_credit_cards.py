"""SqlCreditCards against the seeded demo bank and a card of our own: cycles, repayment
(idempotency, refusals), installments (rounding, what is due), limit rules."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from chatbot.clock import BANK_TZ
from chatbot.errors import Conflict
from chatbot.storage import customers
from chatbot.storage.ledger import Leg, internal_account, post
from chatbot.storage.models import (Account, Card, CardStatement, CreditTerms, LedgerEntry,
                                    LedgerTransaction)
from chatbot.tools.banking import BankingRefusal
from chatbot.tools.sql_bank import SqlBank

D = Decimal
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=BANK_TZ)


def _at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, datetime.min.time(), BANK_TZ).replace(hour=hour)


@pytest.fixture
def own(database):
    """赵六: savings 3,000.00; a classic card (limit 20,000) opened 300 days ago, statement day 19.
    Statement 11-19: 1,280.00 + 500.00 = 1,780.00 (minimum 178.00); unbilled 2,399.00 and 45.00."""
    with database.write() as db:
        customer = customers.add(db, "赵六", "110101199001010011", "13600136000", NOW)
        opened = NOW - timedelta(days=300)
        savings = Account(account_no="6222029999990001", customer_id=customer.id, kind="savings", name="储蓄卡",
                          balance=D("0.00"), status="active", opened_at=opened)
        credit = Account(account_no="6258809999990002", customer_id=customer.id, kind="credit", name="信用卡",
                         balance=D("0.00"), credit_limit=D("20000.00"), status="active", opened_at=opened)
        db.add_all([savings, credit])
        db.flush()
        db.add_all([Card(account_id=savings.id, card_no=savings.account_no, tail="0001", kind="debit",
                         tier="standard", status="active", issued_at=opened),
                    Card(account_id=credit.id, card_no=credit.account_no, tail="0002", kind="credit",
                         tier="classic", status="active", issued_at=opened)])
        clearing = internal_account(db, "BANK-CLEARING")
        post(db, reference="OWN-1", kind="salary", description="工资", at=_at(date(2026, 11, 1)),
             legs=[Leg(savings, D("3000.00")), Leg(clearing, D("-3000.00"))])
        for n, (day, merchant, amount) in enumerate([(date(2026, 11, 9), "中国国际航空", "1280.00"),
                                                     (date(2026, 11, 15), "苏宁易购", "500.00"),
                                                     (date(2026, 11, 22), "星巴克", "45.00"),
                                                     (date(2026, 11, 23), "京东商城", "2399.00")]):
            post(db, reference=f"OWN-C{n}", kind="consumption", description=f"消费 {merchant}", at=_at(day),
                 legs=[Leg(credit, -D(amount), merchant), Leg(clearing, D(amount), "赵六")])
        db.add(CreditTerms(account_id=credit.id, statement_day=19, grace_days=20, min_payment_rate=D("0.10"),
                           overdue_count=0))
        for months_back, balance in ((5, "300.00"), (4, "0.00"), (3, "800.00"), (2, "1200.00"), (1, "900.00")):
            day = date(2026, 11 - months_back, 19)
            db.add(CardStatement(account_id=credit.id, period_start=day - timedelta(days=30), statement_date=day,
                                 due_date=day + timedelta(days=20), new_balance=D(balance),
                                 minimum_payment=min(D(balance), D("100.00")), paid=D(balance),
                                 installed=D("0.00"), created_at=NOW))
        db.add(CardStatement(account_id=credit.id, period_start=date(2026, 10, 20), statement_date=date(2026, 11, 19),
                             due_date=date(2026, 12, 9), new_balance=D("1780.00"), minimum_payment=D("178.00"),
                             paid=D("0.00"), installed=D("0.00"), created_at=NOW))
        return customer.id


OWN_CREDIT = "6258809999990002"


def _entry(database, merchant: str) -> int:
    with database.read() as db:
        return db.scalar(select(LedgerEntry.id).join(Account, LedgerEntry.account_id == Account.id).where(
            Account.account_no == OWN_CREDIT, LedgerEntry.counterparty == merchant, LedgerEntry.amount < 0))


def _overdue(database) -> int:
    with database.read() as db:
        return db.scalar(select(CreditTerms.overdue_count).join(Account, CreditTerms.account_id == Account.id)
                         .where(Account.account_no == OWN_CREDIT))


def _refusal(database, call) -> str:
    with pytest.raises(BankingRefusal) as caught, database.write() as db:
        call(SqlBank(db))
    return caught.value.code


def assert_balanced(database):
    with database.read() as db:
        entries = db.execute(select(LedgerEntry.transaction_id, LedgerEntry.account_id, LedgerEntry.amount)).all()
        by_txn, by_account = {}, {}
        for txn, account, amount in entries:  # summed in Decimal (SQLite's SUM is a float)
            by_txn[txn] = by_txn.get(txn, D("0")) + amount
            by_account[account] = by_account.get(account, D("0")) + amount
        assert [t for t, total in by_txn.items() if total != 0] == []
        for account in db.scalars(select(Account)):
            assert account.balance == by_account.get(account.id, 0), account.account_no


def test_overview_of_the_current_cycle(database, own):
    with database.write() as db:
        card = SqlBank(db).credit_card(own, "0002", NOW)
    s = card.statement
    assert (s.statement_date, s.due_date, s.remaining, s.minimum_remaining) == (
        date(2026, 11, 19), date(2026, 12, 9), D("1780.00"), D("178.00"))
    assert card.owed == D("4224.00") and card.unbilled == D("2444.00") and card.repayable == D("4224.00")
    assert card.available == D("15776.00") and card.next_statement_date == date(2026, 12, 19)
    assert [p.merchant for p in card.recent] == ["京东商城", "星巴克"]


def test_seeded_card_matches_the_contract(database, demo):
    with database.write() as db:
        card = SqlBank(db).credit_card(demo.zhang, "5678", NOW)
    assert card.statement.statement_date == date(2026, 11, 19) and card.statement.due_date == date(2026, 12, 9)
    assert card.statement.remaining > 1000 and card.credit_limit == D("30000.00")
    assert card.owed == card.statement.remaining + card.unbilled
    assert any(p.merchant == "京东商城" and p.amount == D("2399.00") for p in card.recent)


def test_repayment_reduces_statement_and_minimum_and_is_idempotent(database, own):
    with database.write() as db:
        receipt = SqlBank(db).repay_card(own, "0002", "0001", D("100.00"), "r-1", NOW)
    assert (receipt.statement_remaining, receipt.minimum_remaining, receipt.owed) == (D("1680.00"), D("78.00"), D("4124.00"))
    assert receipt.balance_after == D("2900.00") and receipt.reference.startswith("R20261124-") and not receipt.replayed
    with database.write() as db:
        again = SqlBank(db).repay_card(own, "0002", "0001", D("100.00"), "r-1", NOW)
    assert again.replayed and again.reference == receipt.reference and again.balance_after == D("2900.00")
    with pytest.raises(Conflict), database.write() as db:
        SqlBank(db).repay_card(own, "0002", "0001", D("200.00"), "r-1", NOW)
    with database.write() as db:  # beyond the statement: the rest pays down unbilled spending
        receipt = SqlBank(db).repay_card(own, "0002", "0001", D("2000.00"), "r-2", NOW)
    assert (receipt.statement_remaining, receipt.minimum_remaining, receipt.owed) == (D("0.00"), D("0.00"), D("2124.00"))
    with database.read() as db:
        assert db.scalar(select(func.count()).select_from(LedgerTransaction).where(
            LedgerTransaction.kind == "repayment", LedgerTransaction.idempotency_key.in_(["r-1", "r-2"]))) == 2
    assert_balanced(database)


def test_repayment_refusals(database, own):
    assert _refusal(database, lambda b: b.repay_card(own, "0002", "0001", D("4224.01"), "x1", NOW)) == "over_owed"
    assert _refusal(database, lambda b: b.repay_card(own, "0002", "0001", D("3000.01"), "x2", NOW)) == "insufficient_funds"
    assert _refusal(database, lambda b: b.repay_card(own, "0002", "0001", D("0"), "x3", NOW)) == "invalid_amount"
    assert _refusal(database, lambda b: b.repay_card(own, "0002", "0001", D("1.001"), "x4", NOW)) == "invalid_amount"
    assert _refusal(database, lambda b: b.repay_card(own, "0001", "0001", D("1"), "x5", NOW)) == "not_credit_card"
    assert _refusal(database, lambda b: b.repay_card(own, "0002", "0002", D("1"), "x6", NOW)) == "card_not_found"
    with database.write() as db:
        db.execute(update(Card).where(Card.tail == "0002").values(status="lost"))
    assert _refusal(database, lambda b: b.repay_card(own, "0002", "0001", D("1"), "x7", NOW)) == "card_frozen"
    with database.write() as db:
        db.execute(update(Card).where(Card.tail == "0002").values(status="active"))
        db.execute(update(Card).where(Card.tail == "0001").values(status="lost"))
    assert _refusal(database, lambda b: b.repay_card(own, "0002", "0001", D("1"), "x8", NOW)) == "card_frozen"
    assert_balanced(database)


def test_cycle_closes_lazily_carrying_what_was_left_and_counting_overdue(database, own):
    later = datetime(2026, 12, 21, 9, 0, tzinfo=BANK_TZ)
    with database.write() as db:
        card = SqlBank(db).credit_card(own, "0002", later)
    s = card.statement  # nothing repaid: 4,224.00 owed; minimum 10 % of 4,046.00 plus the 178.00 left
    assert (s.statement_date, s.period_start, s.due_date) == (date(2026, 12, 19), date(2026, 11, 20), date(2027, 1, 8))
    assert (s.new_balance, s.minimum_payment) == (D("4224.00"), D("582.60"))
    assert _overdue(database) == 1
    with database.write() as db:  # looking again closes nothing twice
        assert len(SqlBank(db).card_statements(own, "0002", later)) == 7


def test_minimum_repaid_by_due_date_is_not_overdue(database, own):
    with database.write() as db:
        SqlBank(db).repay_card(own, "0002", "0001", D("178.00"), "m-1", NOW)
    with database.write() as db:
        card = SqlBank(db).credit_card(own, "0002", datetime(2026, 12, 20, 9, 0, tzinfo=BANK_TZ))
    assert (card.statement.new_balance, card.statement.minimum_payment) == (D("4046.00"), D("404.60"))
    assert _overdue(database) == 0


def test_purchase_installment_rounding_and_billing(database, own):
    jd = _entry(database, "京东商城")
    with database.write() as db:
        quote = SqlBank(db).quote_installment(own, "0002", f"entry:{jd}", 12, NOW)
    assert (quote.principal_per_term, quote.last_principal, quote.fee_per_term) == (D("199.91"), D("199.99"), D("15.83"))
    assert (quote.per_term, quote.total_fee, quote.total) == (D("215.74"), D("189.96"), D("2588.96"))
    assert quote.principal_per_term * 11 + quote.last_principal == quote.principal
    with database.write() as db:
        receipt = SqlBank(db).create_installment(own, "0002", f"entry:{jd}", 12, "i-1", NOW)
    assert not receipt.replayed
    with database.write() as db:
        again = SqlBank(db).create_installment(own, "0002", f"entry:{jd}", 12, "i-1", NOW)
        assert again.replayed and again.plan_id == receipt.plan_id
        card = SqlBank(db).credit_card(own, "0002", NOW)
    assert (card.unbilled, card.installments_outstanding, card.repayable) == (D("45.00"), D("2399.00"), D("1825.00"))
    assert _refusal(database, lambda b: b.create_installment(own, "0002", f"entry:{jd}", 6, "i-2", NOW)) == "not_installable"
    with database.write() as db:  # the next statement bills the first term: principal part and fee
        card = SqlBank(db).credit_card(own, "0002", datetime(2026, 12, 20, 9, 0, tzinfo=BANK_TZ))
    assert card.statement.new_balance == D("1780.00") + D("45.00") + D("199.91") + D("15.83")
    assert card.installments_outstanding == D("2399.00") - D("199.91")
    with database.read() as db:
        fees = db.scalar(select(func.count()).select_from(LedgerTransaction).where(LedgerTransaction.kind == "fee",
                                                                                   LedgerTransaction.description.like("分期手续费%")))
        assert fees == 1
    assert_balanced(database)


def test_statement_installment_empties_what_is_due_now(database, own):
    with database.write() as db:
        quote = SqlBank(db).quote_installment(own, "0002", "statement", 3, NOW)
        assert (quote.principal, quote.fee_per_term, quote.principal_per_term, quote.last_principal) == (
            D("1780.00"), D("13.35"), D("593.33"), D("593.34"))
        receipt = SqlBank(db).create_installment(own, "0002", "statement", 3, "s-1", NOW)
    assert receipt.statement_remaining == D("0.00")
    with database.write() as db:
        card = SqlBank(db).credit_card(own, "0002", NOW)
    assert card.statement.remaining == 0 and card.statement.minimum_remaining == 0 and card.repayable == D("2444.00")
    assert _refusal(database, lambda b: b.create_installment(own, "0002", "statement", 6, "s-2", NOW)) == "not_installable"


def test_a_principal_changed_since_the_read_back_is_refused(database, own):
    """The code confirmed splitting 1,780.00; a repayment in between changed it: no plan for
    another sum without a new read-back."""
    with database.write() as db:
        confirmed = SqlBank(db).quote_installment(own, "0002", "statement", 12, NOW).principal
        SqlBank(db).repay_card(own, "0002", "0001", D("1000.00"), "r-between", NOW)
    assert _refusal(database, lambda b: b.create_installment(own, "0002", "statement", 12, "s-9", NOW,
                                                             expected_principal=confirmed)) == "quote_changed"


def test_installment_refusals(database, own):
    small, billed = _entry(database, "星巴克"), _entry(database, "苏宁易购")
    assert _refusal(database, lambda b: b.quote_installment(own, "0002", f"entry:{small}", 3, NOW)) == "not_installable"
    assert _refusal(database, lambda b: b.quote_installment(own, "0002", f"entry:{billed}", 3, NOW)) == "not_installable"
    assert _refusal(database, lambda b: b.quote_installment(own, "0002", "statement", 5, NOW)) == "invalid_terms"
    after_due = datetime(2026, 12, 10, 9, 0, tzinfo=BANK_TZ)
    assert _refusal(database, lambda b: b.quote_installment(own, "0002", "statement", 3, after_due)) == "not_installable"
    with database.write() as db:
        targets = SqlBank(db).installment_targets(own, "0002", NOW)
    assert [t for t, _, _ in targets] == ["statement", f"entry:{_entry(database, '京东商城')}"]


def test_limit_rules(database, own):
    with database.write() as db:
        options = SqlBank(db).limit_options(own, "0002", NOW)
    # usage (average of the last 6 statements) is under 30 %: +20 %; a classic card tops at 20,000
    assert options.permanent_refusal == "固定额度已达该卡种上限 20,000.00 元"
    assert options.max_temporary == D("30000.00") and options.temporary_refusal is None
    with database.write() as db:
        db.execute(update(Card).where(Card.tail == "0002").values(tier="gold"))
    with database.write() as db:
        bank = SqlBank(db)
        assert bank.limit_options(own, "0002", NOW).max_permanent == D("24000.00")
        assert bank.raise_limit(own, "0002", "permanent", D("25000.00"), NOW).approved is None
        decision = bank.raise_limit(own, "0002", "permanent", D("24000.00"), NOW)
        assert decision.approved == D("24000.00")
        again = bank.raise_limit(own, "0002", "permanent", D("24000.00") + 1, NOW)
        assert again.approved is None and "每 6 个月" in again.reason
        temp = bank.raise_limit(own, "0002", "temporary", D("30000.00"), NOW)
        assert temp.approved == D("30000.00") and temp.until == date(2026, 12, 23)
        credit = [a for a in bank.accounts(own, NOW) if a.kind == "credit"][0]
        assert credit.credit_limit == D("30000.00") and credit.available == D("30000.00") - D("4224.00")
        expired = [a for a in bank.accounts(own, NOW + timedelta(days=30)) if a.kind == "credit"][0]
        assert expired.credit_limit == D("24000.00")
    with database.write() as db:
        db.execute(update(CreditTerms).where(CreditTerms.account_id == credit.id).values(overdue_count=2))
    with database.write() as db:
        options = SqlBank(db).limit_options(own, "0002", NOW)
        assert "2 次逾期" in options.permanent_refusal and "2 次逾期" in options.temporary_refusal
        db.execute(update(CreditTerms).where(CreditTerms.account_id == credit.id).values(overdue_count=0))
        db.execute(update(Account).where(Account.account_no == "6258809999990002")
                   .values(opened_at=NOW - timedelta(days=40)))
    with database.write() as db:
        options = SqlBank(db).limit_options(own, "0002", NOW)
        assert "开卡未满 6 个月" in options.permanent_refusal and "开卡未满 3 个月" in options.temporary_refusal
