"""Plans six months of believable transactions for the demo bank's customers.

Pure planning, no database: the seed turns the plan into ledger postings. The plan is
deterministic for a given "today", and every savings account ends exactly on the
balance the demo bank table in DESIGN.md gives.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from chatbot.clock import BANK_TZ

CENT = Decimal("0.01")
HISTORY_DAYS = 182
CLEARING, INTEREST, FEES = "BANK-CLEARING", "BANK-INTEREST", "BANK-FEES"


@dataclass
class PlannedTxn:
    at: datetime
    kind: str
    description: str
    legs: list[tuple[str, Decimal, str | None]] = field(default_factory=list)  # (account_no, amount, counterparty)


def _at(day: date, rng: random.Random) -> datetime:
    moment = time(rng.randint(8, 21), rng.randint(0, 59), rng.randint(0, 59))
    return datetime.combine(day, moment, tzinfo=BANK_TZ)


def _money(rng: random.Random, low: str, high: str) -> Decimal:
    cents = rng.randint(int(Decimal(low) * 100), int(Decimal(high) * 100))
    return (Decimal(cents) / 100).quantize(CENT)


def _external(account: str, amount: Decimal, other: str, kind: str, desc: str, at: datetime,
              bank_account: str = CLEARING) -> PlannedTxn:
    """A movement between a customer account and the outside world (via a bank account)."""
    return PlannedTxn(at, kind, desc, [(account, amount, other), (bank_account, -amount, other)])


def _days(today: date):
    start = today - timedelta(days=HISTORY_DAYS)
    return [start + timedelta(days=i) for i in range(1, HISTORY_DAYS + 1)]


def plan_customer(customer: dict, merchants: list[dict], today: date) -> list[PlannedTxn]:
    """Salary, rent, spending, cash, fees and interest for one customer, oldest first (the
    credit card's statements and repayments: demo_credit.py)."""
    rng = random.Random(customer["id_number"])
    savings = next(c["card_no"] for c in customer["cards"] if c["kind"] == "debit")
    credit = next((c["card_no"] for c in customer["cards"] if c["kind"] == "credit"), None)
    spend_from = credit or savings
    plan: list[PlannedTxn] = []
    for day in _days(today):
        plan += _monthly_items(customer, savings, day, rng)
        if rng.random() < 0.35:
            m = rng.choice(merchants)
            amount = _money(rng, m["low"], m["high"])
            plan.append(_external(spend_from, -amount, m["name"], "consumption", f"消费 {m['name']}", _at(day, rng)))
    return sorted(plan, key=lambda t: t.at)


def _monthly_items(customer: dict, savings: str, day: date, rng: random.Random) -> list[PlannedTxn]:
    items = []
    salary, rent = customer["salary"], customer["rent"]
    if day.day == salary["day"]:
        items.append(_external(savings, Decimal(salary["amount"]), salary["payer"], "salary", "工资", _at(day, rng)))
    if day.day == rent["day"]:
        items.append(_external(savings, -Decimal(rent["amount"]), rent["payee"], "transfer", "房租", _at(day, rng)))
    if day.day == 18:
        cash = Decimal(rng.choice(["500.00", "1000.00", "800.00"]))
        items.append(_external(savings, -cash, "ATM 取款", "cash", "ATM 取现", _at(day, rng)))
    if day.day == 28:
        items.append(_external(savings, Decimal("-2.00"), "短信通知服务", "fee", "短信通知费", _at(day, rng), FEES))
    if day.day == 21 and day.month in (3, 6, 9, 12):
        interest = _money(rng, "8.00", "45.00")
        items.append(_external(savings, interest, "结息", "interest", "活期结息", _at(day, rng), INTEREST))
    return items


def transfer_between(payer: str, payee: str, payer_name: str, payee_name: str, amount: Decimal,
                     at: datetime) -> PlannedTxn:
    return PlannedTxn(at, "transfer", f"转账 {payer_name}→{payee_name}",
                      [(payer, -amount, payee_name), (payee, amount, payer_name)])


def opening_balances(plan: list[PlannedTxn], targets: dict[str, Decimal], first_day: date,
                     rng: random.Random) -> list[PlannedTxn]:
    """Opening deposits so each savings account ends on its target balance, never below zero.

    The opening covers the worst dip of the history; whatever the history then leaves above
    the target is moved, after pay days, to the customer's own account at another bank
    (a common habit), keeping a cushion for the spending still to come.
    """
    extra: list[PlannedTxn] = []
    for acct, target in targets.items():
        flows = sorted((t.at, t.kind, a) for t in plan for no, a, _ in t.legs if no == acct)
        running = _cumulative([a for _, _, a in flows])
        net = running[-1] if running else Decimal("0")
        opening = max(target - net, CUSHION - min(running, default=Decimal("0")), MIN_OPENING)
        extra.append(_external(acct, opening, "开户存入", "opening", "开户存入", _at(first_day, rng)))
        extra += _sweeps(acct, opening + net - target, opening, flows, running)
    return extra


CUSHION = Decimal("500.00")
MIN_OPENING = Decimal("3000.00")


def _cumulative(amounts: list[Decimal]) -> list[Decimal]:
    total, out = Decimal("0"), []
    for amount in amounts:
        total += amount
        out.append(total)
    return out


def _sweeps(acct: str, surplus: Decimal, opening: Decimal, flows: list, running: list[Decimal]) -> list[PlannedTxn]:
    sweeps, swept = [], Decimal("0")
    pay_days = [i for i, (_, kind, _) in enumerate(flows) if kind == "salary"]
    for n, i in enumerate(pay_days):
        future_low = min(running[i:])
        room = opening + future_low - swept - CUSHION
        amount = surplus - swept if n == len(pay_days) - 1 else min(surplus - swept, max(room, Decimal("0")))
        if amount > 0:
            swept += amount
            sweeps.append(_external(acct, -amount, "本人他行账户", "transfer", "转出至本人他行账户",
                                    flows[i][0] + timedelta(hours=1)))
    return sweeps
