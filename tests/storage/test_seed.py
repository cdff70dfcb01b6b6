"""The demo bank of DESIGN.md, created once, on both databases."""
from decimal import Decimal

from sqlalchemy import func, select

from chatbot.settings import DATA_DIR
from chatbot.storage import customers
from chatbot.storage.models import (
    Account,
    Card,
    Customer,
    LedgerEntry,
    LedgerTransaction,
    Payee,
    StaffUser,
)
from chatbot.storage.seed import seed_demo_bank
from chatbot.security.passwords import verify_password

DESIGN_BALANCES = {"1234": Decimal("52380.50"), "4321": Decimal("8000.00"), "8888": Decimal("1000.00")}


def test_demo_customers_cards_and_balances(backend, database):
    with database.read() as db:
        names = {c.name: c for c in db.scalars(select(Customer))}
        assert set(names) == {"张伟", "王芳", "李娜"}
        assert customers.personal(db, names["张伟"]).id_number == "110105199003071239"
        assert customers.phone(db, names["王芳"]) == "13900139000"
        for tail, balance in DESIGN_BALANCES.items():
            account = db.scalar(select(Account).join(Card, Card.account_id == Account.id).where(Card.tail == tail))
            assert account.balance == balance
            assert isinstance(account.balance, Decimal)
        credit = db.scalar(select(Account).join(Card, Card.account_id == Account.id).where(Card.tail == "5678"))
        assert credit.kind == "credit" and credit.credit_limit == Decimal("30000.00")
        assert credit.customer_id == names["张伟"].id
        payee = db.scalar(select(Payee).where(Payee.customer_id == names["张伟"].id))
        assert payee.name == "李娜" and payee.account_no.endswith("8888")


def test_ledger_is_balanced_and_balances_follow_entries(backend, database):
    with database.read() as db:
        unbalanced = db.execute(
            select(LedgerEntry.transaction_id)
            .group_by(LedgerEntry.transaction_id)
            # SQLite sums NUMERIC as floats: a three-leg loan payment adds up to 1e-13.
            .having(func.round(func.sum(LedgerEntry.amount), 2) != 0)
        ).all()
        assert unbalanced == []
        for account in db.scalars(select(Account)):
            total = db.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                              .where(LedgerEntry.account_id == account.id))
            assert Decimal(total) == account.balance, account.account_no


def test_six_months_of_varied_history(backend, database):
    with database.read() as db:
        kinds = set(db.scalars(select(LedgerTransaction.kind).distinct()))
        assert {"salary", "consumption", "transfer", "cash", "fee", "repayment"} <= kinds
        first = db.scalar(select(func.min(LedgerTransaction.created_at)))
        last = db.scalar(select(func.max(LedgerTransaction.created_at)))
        assert (last - first).days >= 175


def test_staff_logins_have_hashed_passwords(backend, database):
    with database.read() as db:
        staff = {s.username: s for s in db.scalars(select(StaffUser))}
    assert {u: s.role for u, s in staff.items()} == {
        "agent1": "agent", "agent2": "agent", "admin": "admin", "analyst": "analyst"}
    assert staff["agent1"].password_hash != "agent1-sandbox"
    assert verify_password(staff["agent1"].password_hash, "agent1-sandbox")
    assert not verify_password(staff["agent1"].password_hash, "wrong")


def test_seeding_twice_changes_nothing(backend, database, clock):
    def snapshot():
        with database.read() as db:
            return (db.scalar(select(func.count()).select_from(LedgerEntry)),
                    db.scalar(select(func.count()).select_from(Customer)),
                    db.scalar(select(func.count()).select_from(StaffUser)),
                    tuple(db.scalars(select(Account.balance).order_by(Account.id))))

    before = snapshot()
    report = seed_demo_bank(database, DATA_DIR, clock.now())
    assert not report.changed
    assert snapshot() == before
