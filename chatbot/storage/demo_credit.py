"""Plans the demo bank's credit-card cycles and consumer loans (pure, no database).

The credit card's spending comes from `demo_history`; this module cuts it into monthly
statements (each closing on the statement day and due `GRACE_DAYS` later), repays every
statement but the current one in full on its due date, and adds two fixed purchases so that
DESIGN.md's "Wave 2 contract" always holds: the current statement owes more than 1,000.00
(a 1,280.00 flight) and an unbilled purchase of at least 600.00 can be split (2,399.00).

A loan is disbursed into the customer's savings card and repaid monthly from it, each
payment split into principal (to the loan account) and interest (the bank's income).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from chatbot.clock import BANK_TZ
from chatbot.nlu.entities.periods import add_months
from chatbot.storage.demo_history import HISTORY_DAYS, PlannedTxn, _external
from chatbot.tools.amortization import Schedule, equal_installment, equal_principal

CENT = Decimal("0.01")
GRACE_DAYS = 20
MIN_PAYMENT_RATE = Decimal("0.10")
MIN_PAYMENT_FLOOR = Decimal("100.00")
LOAN_INTEREST = "BANK-LOAN-INTEREST"
METHODS = {"equal_installment": equal_installment, "equal_principal": equal_principal}


@dataclass(frozen=True)
class PlannedStatement:
    period_start: date
    statement_date: date
    due_date: date
    new_balance: Decimal
    minimum_payment: Decimal
    paid: Decimal


@dataclass(frozen=True)
class PlannedLoan:
    disbursed_at: datetime
    schedule: Schedule
    due_dates: tuple[date, ...]
    paid_periods: int  # the first n periods, due on or before the seed day, are repaid


def current_statement_date(today: date) -> date:
    """Five days before the seed day, on a day every month has (the 28th at the latest)."""
    day = today - timedelta(days=5)
    return day if day.day <= 28 else day.replace(day=28)


def statement_dates(today: date) -> list[date]:
    """Statement dates covering the demo history, oldest first; the last is the current one."""
    current, first_day = current_statement_date(today), today - timedelta(days=HISTORY_DAYS)
    dates, back = [], 0
    while (day := add_months(current, -back)) > first_day:
        dates.append(day)
        back += 1
    return dates[::-1]


def minimum_payment(new_balance: Decimal) -> Decimal:
    """10 % of the statement, at least 100.00 (or the whole statement when it is smaller)."""
    share = (new_balance * MIN_PAYMENT_RATE).quantize(CENT, rounding=ROUND_HALF_UP)
    return min(new_balance, max(share, MIN_PAYMENT_FLOOR))


def fixed_purchases(card_no: str, today: date) -> list[PlannedTxn]:
    """The purchases the contract relies on: one in the current cycle, one unbilled."""
    flight_day = current_statement_date(today) - timedelta(days=10)
    return [
        _external(card_no, Decimal("-1280.00"), "中国国际航空", "consumption", "消费 中国国际航空",
                  datetime.combine(flight_day, time(20, 15), BANK_TZ)),
        _external(card_no, Decimal("-2399.00"), "京东商城", "consumption", "消费 京东商城",
                  datetime.combine(today - timedelta(days=1), time(21, 40), BANK_TZ)),
    ]


def plan_cycles(plan: list[PlannedTxn], savings: str, card_no: str,
                today: date) -> tuple[list[PlannedStatement], list[PlannedTxn]]:
    """The card's statements and the repayments of every statement before the current one."""
    dates = statement_dates(today)
    spent = [(t.at.astimezone(BANK_TZ).date(), -amount) for t in plan
             for no, amount, _ in t.legs if no == card_no and amount < 0]
    statements, repayments = [], []
    start = today - timedelta(days=HISTORY_DAYS)
    for number, closing in enumerate(dates):
        owed = sum((a for day, a in spent if start <= day <= closing), Decimal("0.00"))
        due = closing + timedelta(days=GRACE_DAYS)
        current = number == len(dates) - 1
        statements.append(PlannedStatement(start, closing, due, owed, minimum_payment(owed),
                                           Decimal("0.00") if current else owed))
        if not current and owed > 0:
            repayments.append(PlannedTxn(datetime.combine(due, time(9, 30), BANK_TZ), "repayment", "信用卡还款",
                                         [(savings, -owed, "信用卡还款"), (card_no, owed, "储蓄卡还款")]))
        start = closing + timedelta(days=1)
    return statements, repayments


def plan_loan(spec: dict, today: date) -> PlannedLoan:
    """The loan's schedule and dates: disbursed `days_ago`, due monthly on that day."""
    disbursed = datetime.combine(today - timedelta(days=spec["days_ago"]), time(10, 0), BANK_TZ)
    schedule = METHODS[spec["method"]](Decimal(spec["principal"]), Decimal(spec["annual_rate"]), spec["months"])
    dues = tuple(add_months(disbursed.date(), n) for n in range(1, spec["months"] + 1))
    return PlannedLoan(disbursed, schedule, dues, sum(1 for d in dues if d <= today))


def loan_postings(loan: PlannedLoan, spec: dict, savings: str) -> list[PlannedTxn]:
    """The disbursement into savings and each repayment made so far."""
    name, account = spec["name"], spec["account_no"]
    principal = loan.schedule.principal
    txns = [PlannedTxn(loan.disbursed_at, "disbursement", f"{name}放款",
                       [(savings, principal, f"{name}放款"), (account, -principal, "放款至储蓄卡")])]
    for period, due in zip(loan.schedule.periods[:loan.paid_periods], loan.due_dates):
        at = datetime.combine(due, time(9, 0), BANK_TZ)
        txns.append(PlannedTxn(at, "loan_repayment", f"{name}第{period.number}期还款",
                               [(savings, -period.payment, f"{name}还款"), (account, period.principal, "储蓄卡还款"),
                                (LOAN_INTEREST, period.interest, "贷款利息")]))
    return txns
