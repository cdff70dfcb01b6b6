"""`chatbot seed`: create the demo bank (sandbox only). Running it twice changes nothing."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chatbot.clock import BANK_TZ, FixedClock, bank_today
from chatbot.paths import data_file
from chatbot.security.passwords import hash_password
from chatbot.storage import customers as customer_store
from chatbot.storage import demo_credit, demo_history, seed_wealth
from chatbot.storage.db import Database
from chatbot.storage.ledger import Leg, post
from chatbot.storage.models import (Account, Application, ApplicationEvent, CannedReply, Card, CardStatement,
                                    CreditTerms, Customer, LedgerEntry, Loan, LoanPayment, Payee, StaffUser)
from knowledge.kg.load import KnowledgeGraph


@dataclass
class SeedReport:
    customers_created: int = 0
    staff_created: int = 0
    transactions_posted: int = 0
    news_created: int = 0
    canned_created: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.customers_created or self.staff_created or self.transactions_posted or self.news_created
                     or self.canned_created)


def _product_names(data_dir: Path) -> dict[str, str]:
    """Product names by node id, from the knowledge graph (for transaction descriptions)."""
    graph = KnowledgeGraph.load(data_file(data_dir, "kg.yaml"))
    return {node: data["name"] for node, data in graph.nodes(data=True) if "name" in data}


def load_demo_bank(data_dir: Path) -> dict:
    with open(data_file(data_dir, "demo_bank.yaml"), encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def seed_demo_bank(database: Database, data_dir: Path, now: datetime) -> SeedReport:
    """Create whatever part of the demo bank is missing, in one transaction."""
    spec = load_demo_bank(data_dir)
    report = SeedReport()
    names = _product_names(data_dir)
    with database.write() as db:
        _ensure_internal_accounts(db, spec, now)
        seed_wealth.ensure_products(db, spec, now)
        new_customers = [c for c in spec["customers"] if not _customer_exists(db, c)]
        for customer in new_customers:
            _create_customer(db, customer, now)
        report.customers_created = len(new_customers)
        if new_customers:
            db.flush()
            _create_payees(db, new_customers, now)
            credit = CreditPlan()
            report.transactions_posted = _post_history(db, spec, new_customers, credit, names, now)
            _create_credit_records(db, new_customers, credit, now)
            seed_wealth.create_records(db, new_customers, now)
        report.news_created = seed_wealth.ensure_news(db, data_dir, now)
        report.staff_created = _ensure_staff(db, spec, now)
        report.canned_created = _ensure_canned_replies(db, spec, now)
    return report


def _ensure_internal_accounts(db: Session, spec: dict, now: datetime) -> None:
    for item in spec["internal_accounts"]:
        if db.scalar(select(Account.id).where(Account.account_no == item["account_no"])) is None:
            db.add(Account(account_no=item["account_no"], customer_id=None, kind="internal",
                           name=item["name"], balance=Decimal("0.00"), opened_at=now))


def _customer_exists(db: Session, customer: dict) -> bool:
    return customer_store.by_id_number(db, customer["id_number"]) is not None


def _create_customer(db: Session, spec: dict, now: datetime) -> None:
    customer = customer_store.add(db, spec["name"], spec["id_number"], spec["phone"], now)  # encrypted
    opened = now - timedelta(days=demo_history.HISTORY_DAYS + 30)
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
    for loan in spec.get("loans", []):
        db.add(Account(account_no=loan["account_no"], customer_id=customer.id, kind="loan", name=loan["name"],
                       balance=Decimal("0.00"), status="active", opened_at=opened))


def _create_payees(db: Session, customers: list[dict], now: datetime) -> None:
    for spec in customers:
        owner = customer_store.by_id_number(db, spec["id_number"]).id
        for payee in spec["payees"]:
            db.add(Payee(customer_id=owner, name=payee["name"], account_no=payee["card_no"],
                         bank_name=payee["bank_name"], created_at=now))


@dataclass
class CreditPlan:
    """What the seed planned beyond the ledger: credit-card statements and loan schedules."""

    statements: dict = field(default_factory=dict)  # credit card_no -> [PlannedStatement]
    loans: dict = field(default_factory=dict)  # customer name -> [(loan spec, PlannedLoan)]


def _plan_credit(customer: dict, history: list, today, credit: CreditPlan) -> list:
    """The customer's card cycles (cut from the card spending in `history`) and loans, and
    the postings they add: fixed purchases, statement repayments, disbursement, loan payments."""
    savings = next(c["card_no"] for c in customer["cards"] if c["kind"] == "debit")
    postings = []
    for loan_spec in customer.get("loans", []):
        loan = demo_credit.plan_loan(loan_spec, today)
        credit.loans.setdefault(customer["name"], []).append((loan_spec, loan))
        postings += demo_credit.loan_postings(loan, loan_spec, savings)
    card = next((c["card_no"] for c in customer["cards"] if c["kind"] == "credit"), None)
    if card is not None:
        postings += demo_credit.fixed_purchases(card, today)
        statements, repayments = demo_credit.plan_cycles(history + postings, savings, card, today)
        credit.statements[card] = statements
        postings += repayments
    return postings


def _post_history(db: Session, spec: dict, customers: list[dict], credit: CreditPlan, names: dict[str, str],
                  now: datetime) -> int:
    today = bank_today(FixedClock(now))
    plan = []
    for customer in customers:
        history = demo_history.plan_customer(customer, spec["merchants"], today)
        plan += history + _plan_credit(customer, history, today, credit)
        plan += seed_wealth.holding_postings(customer, today, names)
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



def _ensure_canned_replies(db: Session, spec: dict, now: datetime) -> int:
    """The sandbox's quick replies (快捷回复), into an empty table only: agents edit and delete
    them afterwards, and seeding again must not bring a deleted one back."""
    if db.scalar(select(func.count()).select_from(CannedReply)):
        return 0
    replies = spec.get("canned_replies") or []
    for reply in replies:
        db.add(CannedReply(title=reply["title"], text=reply["text"], created_by="sandbox", created_at=now,
                           updated_at=now))
    return len(replies)


# --- credit cards, loans and applications -------------------------------------------------------

def _create_credit_records(db: Session, customers: list[dict], credit: CreditPlan, now: datetime) -> None:
    by_no = {a.account_no: a for a in db.scalars(select(Account)).all()}
    for card_no, statements in credit.statements.items():
        account = by_no[card_no]
        db.add(CreditTerms(account_id=account.id, statement_day=statements[-1].statement_date.day,
                           grace_days=demo_credit.GRACE_DAYS, min_payment_rate=demo_credit.MIN_PAYMENT_RATE,
                           overdue_count=0))
        for s in statements:
            db.add(CardStatement(account_id=account.id, period_start=s.period_start, statement_date=s.statement_date,
                                 due_date=s.due_date, new_balance=s.new_balance, minimum_payment=s.minimum_payment,
                                 paid=s.paid, installed=Decimal("0.00"), created_at=now))
    for customer in customers:
        owner = customer_store.by_id_number(db, customer["id_number"])
        savings = by_no[next(c["card_no"] for c in customer["cards"] if c["kind"] == "debit")]
        applications = [_create_application(db, owner, item, now) for item in customer.get("applications", [])]
        disbursed = iter(a for a in applications if a.kind == "loan" and a.stage == "disbursed")
        for loan_spec, loan in credit.loans.get(customer["name"], []):
            _create_loan(db, owner, by_no[loan_spec["account_no"]], savings, loan_spec, loan, next(disbursed, None))


def _create_application(db: Session, owner: Customer, spec: dict, now: datetime) -> Application:
    stages = [(stage, now - timedelta(days=days_ago)) for stage, days_ago in spec["stages"]]
    first, last = stages[0][1], stages[-1]
    application = Application(
        reference="pending", kind=spec["kind"], customer_id=owner.id, product_code=spec["product"],
        product_name=spec["name"], stage=last[0], amount=Decimal(spec["amount"]) if "amount" in spec else None,
        term_months=spec.get("term_months"), details=spec.get("details", {}), submitted_at=first, updated_at=last[1])
    db.add(application)
    db.flush()
    prefix = "CA" if spec["kind"] == "card" else "LA"
    application.reference = f"{prefix}{first.astimezone(BANK_TZ):%Y%m%d}-{application.id:06d}"
    for stage, at in stages:
        actor = "customer" if stage == "submitted" else "system"
        db.add(ApplicationEvent(application_id=application.id, stage=stage, actor=actor, at=at))
    return application


def _create_loan(db: Session, owner: Customer, account: Account, savings: Account, spec: dict,
                 plan: demo_credit.PlannedLoan, application: Application | None) -> None:
    schedule = plan.schedule
    loan = Loan(reference="pending", customer_id=owner.id, account_id=account.id, repay_account_id=savings.id,
                application_id=application.id if application else None, product_code=spec["product"],
                product_name=spec["name"], principal=schedule.principal, annual_rate=schedule.annual_rate,
                months=schedule.months, method=schedule.method, disbursed_at=plan.disbursed_at, status="repaying")
    db.add(loan)
    db.flush()
    loan.reference = f"LN{plan.disbursed_at:%Y%m%d}-{loan.id:06d}"
    for period, due in zip(schedule.periods, plan.due_dates):
        paid = period.number <= plan.paid_periods
        db.add(LoanPayment(loan_id=loan.id, number=period.number, due_date=due, payment=period.payment,
                           principal=period.principal, interest=period.interest, remaining=period.remaining,
                           status="paid" if paid else "due",
                           paid_at=datetime.combine(due, time(9, 0), BANK_TZ) if paid else None))
