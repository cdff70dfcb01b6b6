"""`chatbot seed`: create the demo bank (sandbox only). Running it twice changes nothing."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chatbot.clock import FixedClock, bank_today
from chatbot.security.passwords import hash_password
from chatbot.storage import demo_history
from chatbot.storage.db import Database
from chatbot.storage.ledger import Leg, post
from chatbot.storage.models import Account, Card, Customer, LedgerEntry, Payee, StaffUser


@dataclass
class SeedReport:
    customers_created: int = 0
    staff_created: int = 0
    transactions_posted: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.customers_created or self.staff_created or self.transactions_posted)


def load_demo_bank(data_dir: Path) -> dict:
    with open(data_dir / "demo_bank.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def seed_demo_bank(database: Database, data_dir: Path, now: datetime) -> SeedReport:
    """Create whatever part of the demo bank is missing, in one transaction."""
    spec = load_demo_bank(data_dir)
    report = SeedReport()
    with database.write() as db:
        _ensure_internal_accounts(db, spec, now)
        new_customers = [c for c in spec["customers"] if not _customer_exists(db, c)]
        accounts = {c["name"]: _create_customer(db, c, now) for c in new_customers}
        report.customers_created = len(new_customers)
        if new_customers:
            db.flush()
            _create_payees(db, new_customers, now)
            report.transactions_posted = _post_history(db, spec, new_customers, accounts, now)
        report.staff_created = _ensure_staff(db, spec, now)
    return report


def _ensure_internal_accounts(db: Session, spec: dict, now: datetime) -> None:
    for item in spec["internal_accounts"]:
        if db.scalar(select(Account.id).where(Account.account_no == item["account_no"])) is None:
            db.add(Account(account_no=item["account_no"], customer_id=None, kind="internal",
                           name=item["name"], balance=Decimal("0.00"), opened_at=now))


def _customer_exists(db: Session, customer: dict) -> bool:
    return db.scalar(select(Customer.id).where(Customer.id_number == customer["id_number"])) is not None


def _create_customer(db: Session, spec: dict, now: datetime) -> list[Account]:
    customer = Customer(name=spec["name"], id_number=spec["id_number"], phone=spec["phone"], created_at=now)
    db.add(customer)
    db.flush()
    opened = now - timedelta(days=demo_history.HISTORY_DAYS + 30)
    accounts = []
    for card_spec in spec["cards"]:
        kind = "savings" if card_spec["kind"] == "debit" else "credit"
        limit = Decimal(card_spec["credit_limit"]) if "credit_limit" in card_spec else None
        account = Account(account_no=card_spec["card_no"], customer_id=customer.id, kind=kind,
                          name="储蓄卡" if kind == "savings" else "信用卡", balance=Decimal("0.00"),
                          credit_limit=limit, status="active", opened_at=opened)
        db.add(account)
        db.flush()
        db.add(Card(account_id=account.id, card_no=card_spec["card_no"], tail=card_spec["card_no"][-4:],
                    kind=card_spec["kind"], tier=card_spec["tier"], status="active", issued_at=opened))
        accounts.append(account)
    return accounts


def _create_payees(db: Session, customers: list[dict], now: datetime) -> None:
    for spec in customers:
        owner = db.scalar(select(Customer.id).where(Customer.id_number == spec["id_number"]))
        for payee in spec["payees"]:
            db.add(Payee(customer_id=owner, name=payee["name"], account_no=payee["card_no"],
                         bank_name=payee["bank_name"], created_at=now))


def _post_history(db: Session, spec: dict, customers: list[dict], accounts: dict, now: datetime) -> int:
    today = bank_today(FixedClock(now))
    plan = []
    for customer in customers:
        plan += demo_history.plan_customer(customer, spec["merchants"], today)
    plan += _payee_transfers(customers, today)
    targets = {c["card_no"]: Decimal(c["balance"]) for cu in customers for c in cu["cards"] if "balance" in c}
    first_day = today - timedelta(days=demo_history.HISTORY_DAYS)
    plan += demo_history.opening_balances(plan, targets, first_day, random.Random(str(today)))
    plan.sort(key=lambda t: t.at)
    by_no = {a.account_no: a for a in db.scalars(select(Account)).all()}
    for n, txn in enumerate(plan, start=1):
        legs = [Leg(by_no[no], amount, counterparty) for no, amount, counterparty in txn.legs]
        post(db, reference=f"S{txn.at:%Y%m%d}-{n:06d}", kind=txn.kind, description=txn.description,
             legs=legs, at=txn.at)
    db.flush()
    _check_balances(db, targets, by_no)
    return len(plan)


def _payee_transfers(customers: list[dict], today) -> list:
    """Past transfers to each payee in a customer's payee book, so both sides show them."""
    rng = random.Random("payee-transfers")
    by_card = {c["card_no"]: cu["name"] for cu in customers for c in cu["cards"]}
    txns = []
    for customer in customers:
        payer = next(c["card_no"] for c in customer["cards"] if c["kind"] == "debit")
        for payee in customer["payees"]:
            if payee["card_no"] not in by_card:
                continue
            for days_ago, amount in ((120, "500.00"), (47, "1200.00")):
                at = demo_history._at(today - timedelta(days=days_ago), rng)
                txns.append(demo_history.transfer_between(payer, payee["card_no"], customer["name"],
                                                          payee["name"], Decimal(amount), at))
    return txns


def _check_balances(db: Session, targets: dict, by_no: dict) -> None:
    """The planned history must end on DESIGN.md's balances and never overdraw a savings card."""
    for no, target in targets.items():
        account = by_no[no]
        lowest = db.scalar(select(func.min(LedgerEntry.balance_after)).where(LedgerEntry.account_id == account.id))
        if account.balance != target or lowest < 0:
            raise RuntimeError(f"demo history for **** {no[-4:]} is inconsistent "
                               f"(ends at {account.balance}, lowest {lowest}, expected {target})")


def _ensure_staff(db: Session, spec: dict, now: datetime) -> int:
    created = 0
    for person in spec["staff"]:
        if db.scalar(select(StaffUser.id).where(StaffUser.username == person["username"])) is None:
            db.add(StaffUser(username=person["username"], display_name=person["display_name"],
                             password_hash=hash_password(person["password"]), role=person["role"],
                             active=True, sandbox=True, created_at=now))
            created += 1
    return created

