"""Notification fixtures: a bank's books written row by row (customers, bindings, cards,
statements, applications with stage events, loans) on an empty migrated database, so each
test states exactly which events exist."""
from __future__ import annotations

import itertools
import os
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from chatbot.clock import BANK_TZ
from chatbot.storage import customers
from chatbot.storage.db import Database
from chatbot.storage.models import (
    Account,
    Application,
    ApplicationEvent,
    Card,
    CardStatement,
    ChannelBinding,
    ChatMessage,
    Loan,
    LoanPayment,
    Notice,
)

_numbers = itertools.count(1)


def command_env(extra: dict) -> dict:
    """The environment a `chatbot` subprocess runs with: none of the developer's CHATBOT_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    env.update(extra)
    return env


def bank_time(day: date | str, hour: int = 10) -> datetime:
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=BANK_TZ)


class Books:
    """Writes the rows the notification job reads; every id it returns is the row's id."""

    def __init__(self, database: Database, now: datetime) -> None:
        self.database = database
        self.now = now

    def customer(self, name: str = "赵敏", phone: str = "13600136000") -> int:
        n = next(_numbers)
        with self.database.write() as db:
            return customers.add(db, name, f"11010519900307{n:04d}"[:18], phone, self.now).id

    def bind(self, customer_id: int, channel: str, user_id: str, used_at: datetime | None = None) -> None:
        with self.database.write() as db:
            db.add(ChannelBinding(channel=channel, user_id=user_id, customer_id=customer_id, bound_at=self.now,
                                  last_used_at=used_at or self.now))

    def card_account(self, customer_id: int, kind: str, card_no: str, status: str = "active") -> int:
        with self.database.write() as db:
            account = Account(account_no=f"AC{next(_numbers):08d}", customer_id=customer_id,
                              kind="credit" if kind == "credit" else "savings", name="信用卡" if kind == "credit" else "储蓄卡",
                              balance=Decimal("0.00"), credit_limit=Decimal("30000.00") if kind == "credit" else None,
                              status="active", opened_at=self.now)
            db.add(account)
            db.flush()
            db.add(Card(account_id=account.id, card_no=card_no, tail=card_no[-4:], kind=kind, status=status,
                        issued_at=self.now))
            return account.id

    def statement(self, account_id: int, due: str, new_balance: str, minimum: str, paid: str = "0.00",
                  installed: str = "0.00") -> int:
        due_date = date.fromisoformat(due)
        with self.database.write() as db:
            row = CardStatement(account_id=account_id, period_start=due_date - timedelta(days=50),
                                statement_date=due_date - timedelta(days=20), due_date=due_date,
                                new_balance=Decimal(new_balance), minimum_payment=Decimal(minimum),
                                paid=Decimal(paid), installed=Decimal(installed), created_at=self.now)
            db.add(row)
            db.flush()
            return row.id

    def pay(self, statement_id: int, amount: str) -> None:
        with self.database.write() as db:
            db.get(CardStatement, statement_id).paid += Decimal(amount)

    def application(self, customer_id: int, kind: str, product: str, stages: list[tuple[str, datetime]], *,
                    amount: str | None = None, term_months: int | None = None) -> int:
        with self.database.write() as db:
            row = Application(reference=f"{'CA' if kind == 'card' else 'LA'}{next(_numbers):08d}", kind=kind,
                              customer_id=customer_id, product_code=product, product_name=product,
                              stage=stages[0][0], amount=Decimal(amount) if amount else None,
                              term_months=term_months, details={}, submitted_at=stages[0][1],
                              updated_at=stages[0][1])
            db.add(row)
            db.flush()
            app_id = row.id
        for stage, at in stages:
            self.move(app_id, stage, at)
        return app_id

    def move(self, application_id: int, stage: str, at: datetime, *, reason: str | None = None,
             card_id: int | None = None) -> None:
        with self.database.write() as db:
            row = db.get(Application, application_id)
            row.stage, row.updated_at = stage, at
            if reason:
                row.decision_reason = reason
            if card_id:
                row.card_id = card_id
            db.add(ApplicationEvent(application_id=application_id, stage=stage, actor="system", at=at))

    def loan(self, customer_id: int, application_id: int, repay_account_id: int, principal: str,
             first_due: str, first_payment: str, at: datetime) -> None:
        with self.database.write() as db:
            loan_account = Account(account_no=f"LN{next(_numbers):08d}", customer_id=customer_id, kind="loan",
                                   name="贷款", balance=-Decimal(principal), status="active", opened_at=at)
            db.add(loan_account)
            db.flush()
            loan = Loan(reference=f"LN-{application_id:06d}", customer_id=customer_id, account_id=loan_account.id,
                        repay_account_id=repay_account_id, application_id=application_id, product_code="consumer_loan",
                        product_name="消费贷", principal=Decimal(principal), annual_rate=Decimal("0.042"), months=12,
                        method="equal_installment", disbursed_at=at)
            db.add(loan)
            db.flush()
            db.add(LoanPayment(loan_id=loan.id, number=1, due_date=date.fromisoformat(first_due),
                               payment=Decimal(first_payment), principal=Decimal(first_payment),
                               interest=Decimal("0.00"), remaining=Decimal(principal) - Decimal(first_payment)))

    def card_id(self, card_no: str) -> int:
        with self.database.read() as db:
            return db.scalar(select(Card.id).where(Card.card_no == card_no))

    # --- reading back -------------------------------------------------------------------------
    def lines(self, channel: str, user_id: str) -> list[str]:
        with self.database.read() as db:
            return list(db.scalars(select(ChatMessage.text).where(
                ChatMessage.channel == channel, ChatMessage.user_id == user_id, ChatMessage.sender == "bot")
                .order_by(ChatMessage.id)))

    def all_bot_lines(self) -> int:
        with self.database.read() as db:
            return db.scalar(select(func.count()).select_from(ChatMessage).where(ChatMessage.sender == "bot"))

    def notices(self) -> list[Notice]:
        with self.database.read() as db:
            return list(db.scalars(select(Notice).order_by(Notice.id)))


@pytest.fixture
def notify_database(empty_database_url):
    database = Database(empty_database_url)
    yield database
    database.dispose()


@pytest.fixture
def books(notify_database, clock) -> Books:
    return Books(notify_database, clock.now())
