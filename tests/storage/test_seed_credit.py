"""DESIGN.md's "Wave 2 contract" for credit cards, loans and applications holds on any seed day."""
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from chatbot.clock import BANK_TZ
from chatbot.settings import DATA_DIR
from chatbot.storage.db import Database
from chatbot.storage.demo_credit import current_statement_date, minimum_payment, statement_dates
from chatbot.storage.migrate import upgrade
from chatbot.storage.models import (Account, Application, ApplicationEvent, Card, CardStatement, CreditTerms,
                                    Customer, LedgerEntry, LedgerTransaction, Loan, LoanPayment)
from chatbot.storage.seed import seed_demo_bank


def _customer(db, name):
    return db.scalar(select(Customer).where(Customer.name == name))


def _credit_account(db):
    return db.scalar(select(Account).join(Card, Card.account_id == Account.id).where(Card.tail == "5678"))


def check_contract(db, today):
    card = _credit_account(db)
    terms = db.get(CreditTerms, card.id)
    assert terms is not None and 1 <= terms.statement_day <= 28
    statements = db.scalars(select(CardStatement).where(CardStatement.account_id == card.id)
                            .order_by(CardStatement.statement_date)).all()
    current = statements[-1]
    assert current.statement_date <= today < current.due_date  # due date ahead
    assert current.new_balance > Decimal("1000.00") and current.paid == 0
    assert current.minimum_payment == minimum_payment(current.new_balance) > 0
    assert all(s.paid == s.new_balance for s in statements[:-1])  # older cycles repaid in full
    for before, after in zip(statements, statements[1:]):  # cycles follow each other without gaps
        assert after.period_start == before.statement_date + timedelta(days=1)
    since = datetime.combine(current.statement_date + timedelta(days=1), datetime.min.time(), BANK_TZ)
    unbilled = db.scalars(select(LedgerEntry.amount).where(
        LedgerEntry.account_id == card.id, LedgerEntry.amount < 0, LedgerEntry.created_at >= since)).all()
    assert unbilled and min(unbilled) <= Decimal("-600.00")
    assert card.balance == -(current.new_balance + -sum(unbilled))

    zhang = _customer(db, "张伟")
    loan = db.scalar(select(Loan).where(Loan.customer_id == zhang.id))
    assert loan.status == "repaying" and loan.product_code == "consumer_loan"
    periods = db.scalars(select(LoanPayment).where(LoanPayment.loan_id == loan.id)
                         .order_by(LoanPayment.number)).all()
    assert len(periods) == loan.months and periods[-1].remaining == 0
    assert sum(p.principal for p in periods) == loan.principal
    paid = [p for p in periods if p.status == "paid"]
    assert paid and all(p.due_date <= today for p in paid)
    assert all(p.due_date > today for p in periods[len(paid):])
    owed = loan.principal - sum(p.principal for p in paid)
    assert db.get(Account, loan.account_id).balance == -owed
    assert db.get(Application, loan.application_id).stage == "disbursed"

    wang = db.scalar(select(Application).where(Application.customer_id == _customer(db, "王芳").id))
    assert (wang.kind, wang.stage, wang.product_code) == ("card", "reviewing", "gold_card")
    assert wang.reference.startswith("CA") and wang.reference.endswith(f"-{wang.id:06d}")
    stages = db.scalars(select(ApplicationEvent.stage).where(ApplicationEvent.application_id == wang.id)
                        .order_by(ApplicationEvent.at)).all()
    assert stages == ["submitted", "reviewing"]
    li = db.scalar(select(Application).where(Application.customer_id == _customer(db, "李娜").id))
    assert (li.kind, li.stage, li.amount) == ("loan", "submitted", Decimal("50000.00"))


def test_contract_on_the_test_day(backend, database, clock):
    with database.read() as db:
        check_contract(db, clock.now().date())
        kinds = set(db.scalars(select(LedgerTransaction.kind).distinct()))
        assert {"disbursement", "loan_repayment", "repayment"} <= kinds


@pytest.mark.parametrize("day", ["2026-01-31", "2026-03-01", "2026-03-03", "2027-02-28", "2028-12-29"])
def test_contract_on_awkward_seed_days(tmp_path, day):
    """Month ends, February and early March: the statement day stays a day every month has."""
    now = datetime.fromisoformat(day).replace(hour=10, tzinfo=BANK_TZ)
    database = Database(f"sqlite:///{tmp_path / 'seed.db'}")
    try:
        upgrade(database)
        seed_demo_bank(database, DATA_DIR, now)
        with database.read() as db:
            check_contract(db, now.date())
            unbalanced = db.execute(select(LedgerEntry.transaction_id).group_by(LedgerEntry.transaction_id)
                                    .having(func.round(func.sum(LedgerEntry.amount), 2) != 0)).all()
            assert unbalanced == []
    finally:
        database.dispose()


def test_statement_dates_are_monthly_and_end_five_days_back():
    today = datetime(2026, 11, 24).date()
    dates = statement_dates(today)
    assert dates[-1] == current_statement_date(today) == datetime(2026, 11, 19).date()
    assert all(d.day == 19 for d in dates) and len(dates) == 6
    assert current_statement_date(datetime(2026, 3, 4).date()).day == 27
    assert current_statement_date(datetime(2026, 3, 5).date()).day == 28  # Feb 28, not the 29th..31st
    assert minimum_payment(Decimal("3692.26")) == Decimal("369.23")
    assert minimum_payment(Decimal("500.00")) == Decimal("100.00")
    assert minimum_payment(Decimal("80.00")) == Decimal("80.00")
