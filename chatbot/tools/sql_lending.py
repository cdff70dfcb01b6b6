"""`Lending` over the demo bank's tables; mixed into `SqlBank` (chatbot/tools/sql_bank.py).

Everything runs inside the caller's transaction like the rest of `SqlBank`. A stage move locks
the application row first (PostgreSQL; SQLite serializes writers anyway), so two staff moving
the same application cannot both pass the transition check: a loan is disbursed once, a card
made once. Every stage reached is one `application_events` row (the notification job reads
them) and one audit-log entry.

Disbursing posts the principal from the loan account (its balance becomes -principal, what is
owed) to the customer's savings account in one balanced ledger transaction with an
idempotency key per application, creates the `loans` row and its schedule
(chatbot/tools/amortization.py; due dates monthly from the disbursement day).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chatbot.clock import BANK_TZ
from chatbot.errors import InvalidInput, NotFound
from chatbot.money import format_amount
from chatbot.nlu.entities.periods import add_months
from chatbot.storage import audit, customers
from chatbot.storage.ledger import Leg, post
from chatbot.storage.models import (Account, Application, ApplicationEvent, Card, CreditTerms, Customer, Loan,
                                    LoanPayment)
from chatbot.tools.amortization import equal_installment, equal_principal
from chatbot.tools.checks import checked_key, refuse
from chatbot.tools.lending import (DEMO_RULES, KINDS, OPEN_STAGES, STAGE_NAMES, STAGES, ApplicationInfo,
                                   CardDecision, CardTerms, LendingRules, LoanDecision, LoanInfo, LoanPeriodInfo,
                                   LoanTerms, Products, StageConflict, StageEvent, allowed_moves)

CENT = Decimal("0.01")
SCHEDULES = {"equal_installment": equal_installment, "equal_principal": equal_principal}
CARD_BIN = "625900"  # the demo bank's credit-card numbers: BIN + 9 digits + Luhn check digit
DETAIL_FIELDS = ("employer", "monthly_income", "address", "purpose")


class SqlLending:
    """Applications and loans, inside the caller's transaction like the rest of `SqlBank`."""

    db: Session
    lending_rules: LendingRules = DEMO_RULES

    # --- pre-review ----------------------------------------------------------------------------

    def check_card_application(self, customer_id: int, product: CardTerms, monthly_income: Decimal,
                               now: datetime) -> CardDecision:
        rules = self.lending_rules
        customer = self._lending_customer(customer_id)
        income = _income(monthly_income)
        self._no_open_application(customer_id, "card", product.code, product.name)
        self._check_age(customer, now, rules.max_age)
        self._check_income(income)
        ratio = self._existing_monthly_debt(customer_id) / income
        if ratio > rules.max_debt_ratio:
            raise refuse("ineligible", f"您现有负债的月还款额已占月收入的 {_percent(ratio)}，"
                                        f"超过 {_percent(rules.max_debt_ratio)} 的上限，暂不能申请信用卡")
        limit = card_limit(rules, product, income)
        if limit < product.limit_min:
            raise refuse("ineligible", f"按您的月收入可核定的额度为 {format_amount(limit)}，低于{product.name}"
                                        f"的最低额度 {format_amount(product.limit_min)}")
        return CardDecision(limit, ratio)

    def check_loan_application(self, customer_id: int, product: LoanTerms, amount: Decimal, months: int,
                               monthly_income: Decimal, now: datetime) -> LoanDecision:
        rules = self.lending_rules
        customer = self._lending_customer(customer_id)
        income = _income(monthly_income)
        amount = _amount(amount)
        if not product.min_amount <= amount <= product.max_amount:
            raise refuse("out_of_range", f"{product.name}可借 {format_amount(product.min_amount)}至 "
                                          f"{format_amount(product.max_amount)}")
        if isinstance(months, bool) or not isinstance(months, int) or not product.min_months <= months <= product.max_months:
            raise refuse("out_of_range", f"{product.name}期限为 {product.min_months} 至 {product.max_months} 期")
        self._no_open_application(customer_id, "loan", product.code, product.name)
        self._check_age(customer, now, rules.max_age, months)
        self._check_income(income)
        payment = SCHEDULES[rules.method](amount, product.annual_rate, months).first_payment
        existing = self._existing_monthly_debt(customer_id)
        ratio = (payment + existing) / income
        if ratio > rules.max_debt_ratio:
            limit = (income * rules.max_debt_ratio - existing).quantize(CENT, ROUND_DOWN)
            room = (f"您每月可承担的新增还款约 {format_amount(limit)}，可减少金额或延长期限后再申请"
                    if limit > 0 else "建议先结清部分现有负债后再申请")
            others = f"，加上现有负债每月约 {format_amount(existing)}" if existing else ""
            raise refuse("ineligible", f"该笔贷款月供约 {format_amount(payment)}{others}，占月收入的 "
                                        f"{_percent(ratio)}，超过 {_percent(rules.max_debt_ratio)} 的上限。{room}")
        return LoanDecision(payment, existing, ratio, product.annual_rate)

    # --- applying --------------------------------------------------------------------------------

    def apply_card(self, customer_id: int, product: CardTerms, details: dict, idempotency_key: str,
                   now: datetime) -> ApplicationInfo:
        replay = self._replayed_application(idempotency_key, customer_id)
        if replay is not None:
            return replay
        self._lending_customer(customer_id, lock=True)
        decision = self.check_card_application(customer_id, product, details.get("monthly_income"), now)
        kept = _details(details)
        kept["proposed_limit"] = str(decision.credit_limit)
        kept["limit_range"] = [str(product.limit_min), str(product.limit_max)]
        return self._new_application(customer_id, "card", product.code, product.name, None, None, kept,
                                     idempotency_key, now)

    def apply_loan(self, customer_id: int, product: LoanTerms, amount: Decimal, months: int, details: dict,
                   idempotency_key: str, now: datetime) -> ApplicationInfo:
        replay = self._replayed_application(idempotency_key, customer_id)
        if replay is not None:
            return replay
        self._lending_customer(customer_id, lock=True)
        decision = self.check_loan_application(customer_id, product, amount, months,
                                               details.get("monthly_income"), now)
        kept = _details(details)
        kept.update(annual_rate=str(decision.annual_rate), method=self.lending_rules.method,
                    monthly_payment=str(decision.monthly_payment))
        return self._new_application(customer_id, "loan", product.code, product.name, _amount(amount), months,
                                     kept, idempotency_key, now)

    def _new_application(self, customer_id: int, kind: str, code: str, name: str, amount, months, details: dict,
                         key: str, now: datetime) -> ApplicationInfo:
        checked_key(key)
        try:
            with self.db.begin_nested():
                row = Application(reference=uuid4().hex[:24], kind=kind,
                                  customer_id=customer_id, product_code=code, product_name=name, stage="submitted",
                                  amount=amount, term_months=months, details=details, idempotency_key=key,
                                  submitted_at=now, updated_at=now)
                self.db.add(row)
                self.db.flush()
                prefix = "CA" if kind == "card" else "LA"
                row.reference = f"{prefix}{now.astimezone(BANK_TZ):%Y%m%d}-{row.id:06d}"
                self.db.add(ApplicationEvent(application_id=row.id, stage="submitted", actor="customer",
                                             note="预审通过", at=now))
                self.db.flush()
        except IntegrityError:
            replay = self._replayed_application(key, customer_id)
            if replay is None:
                raise
            return replay
        return self._application_info(row)

    def _replayed_application(self, key: str, customer_id: int) -> ApplicationInfo | None:
        row = self.db.scalar(select(Application).where(Application.idempotency_key == key))
        if row is None:
            return None
        if row.customer_id != customer_id:
            raise InvalidInput("该请求编号已被使用", "idempotency_conflict")
        info = self._application_info(row)
        return ApplicationInfo(**{**info.__dict__, "replayed": True})

    # --- reading ---------------------------------------------------------------------------------

    def applications(self, customer_id: int, kind: str | None = None) -> list[ApplicationInfo]:
        query = select(Application).where(Application.customer_id == customer_id)
        if kind is not None:
            query = query.where(Application.kind == kind)
        rows = self.db.scalars(query.order_by(Application.submitted_at.desc(), Application.id.desc())).all()
        return [self._application_info(row) for row in rows]

    def list_applications(self, kind: str | None = None, stage: str | None = None,
                          limit: int = 200) -> list[ApplicationInfo]:
        if kind is not None and kind not in KINDS:
            raise InvalidInput(f"未知的申请类型：{kind}", "invalid_kind")
        known = STAGES[kind] if kind else tuple(dict.fromkeys(s for k in KINDS for s in STAGES[k]))
        if stage is not None and stage not in known:
            raise InvalidInput(f"未知的阶段：{stage}", "invalid_stage")
        query = select(Application)
        if kind is not None:
            query = query.where(Application.kind == kind)
        if stage is not None:
            query = query.where(Application.stage == stage)
        rows = self.db.scalars(query.order_by(Application.updated_at.desc(), Application.id.desc())
                               .limit(limit)).all()
        return [self._application_info(row, events=False) for row in rows]

    def loans(self, customer_id: int) -> list[LoanInfo]:
        rows = self.db.scalars(select(Loan).where(Loan.customer_id == customer_id)
                               .order_by(Loan.disbursed_at.desc(), Loan.id.desc())).all()
        return [self._loan_info(row) for row in rows]

    # --- stage moves -----------------------------------------------------------------------------

    def move_application(self, application_id: int, stage: str, actor: str, now: datetime,
                         products: Products | None = None, note: str | None = None) -> ApplicationInfo:
        row = self._application_row(application_id, lock=True)
        if stage not in STAGES[row.kind]:
            raise InvalidInput(f"{'信用卡' if row.kind == 'card' else '贷款'}申请没有“{stage}”这个阶段，"
                               f"可用阶段：{', '.join(STAGES[row.kind])}", "invalid_stage")
        allowed = allowed_moves(row.kind, row.stage)
        if stage not in allowed:
            where = "、".join(f"{s}（{STAGE_NAMES[s]}）" for s in allowed) or "无（已是最终阶段）"
            raise StageConflict(f"申请 {row.reference} 当前为{STAGE_NAMES[row.stage]}，不能改为"
                                f"{STAGE_NAMES[stage]}；可改为：{where}", allowed)
        if stage == "approved" and row.kind == "card":
            self._decide_limit(row, products)
        elif stage == "rejected":
            row.decision_reason = note or "综合评估未通过"
        elif stage == "mailed":
            self._make_card(row, now)
        elif stage == "activated":
            card = self.db.get(Card, row.card_id, with_for_update=True)
            card.status = "active"
        elif stage == "disbursed":
            self._disburse(row, products, now)
        self._reach(row, stage, actor, now, note)
        return self._application_info(row)

    def _reach(self, row: Application, stage: str, actor: str, now: datetime, note: str | None) -> None:
        previous, row.stage, row.updated_at = row.stage, stage, now
        self.db.add(ApplicationEvent(application_id=row.id, stage=stage, actor=actor[:64], note=note, at=now))
        audit.record(self.db, actor[:128], "application.stage", row.reference, now,
                     kind=row.kind, **{"from": previous, "to": stage})
        self.db.flush()

    def _decide_limit(self, row: Application, products: Products | None) -> None:
        """The card's limit: the one proposed at pre-review, else from the stated income."""
        details = dict(row.details or {})
        limit = _decimal(details.get("proposed_limit"))
        terms = products.card(row.product_code) if products is not None else None
        if limit is None:
            income = _decimal(details.get("monthly_income"))
            if terms is None:
                limits = [_decimal(v) for v in details.get("limit_range") or ()]
                if len(limits) == 2 and None not in limits:
                    terms = CardTerms(row.product_code, row.product_name, limits[0], limits[1])
            if terms is None:
                raise StageConflict(f"找不到{row.product_name}的额度范围，无法核定额度", ())
            limit = terms.limit_min if income is None else max(card_limit(self.lending_rules, terms, income),
                                                                terms.limit_min)
        details["credit_limit"] = str(limit)
        row.details = details

    def _make_card(self, row: Application, now: datetime) -> None:
        """The card goes out: a credit account with the approved limit and an inactive card."""
        limit = _decimal((row.details or {}).get("credit_limit")) or _decimal((row.details or {}).get("proposed_limit"))
        if limit is None:
            raise StageConflict(f"申请 {row.reference} 尚未核定额度", ())
        taken = set(self.db.scalars(select(Card.tail).join(Account, Card.account_id == Account.id)
                                    .where(Account.customer_id == row.customer_id)))
        card_no = _card_number(row.id, lambda number: number[-4:] in taken or self.db.scalar(
            select(Card.id).where(Card.card_no == number)) is not None)
        account = Account(account_no=card_no, customer_id=row.customer_id, kind="credit",
                          name=f"{row.product_name}信用卡"[:64], balance=Decimal("0.00"), credit_limit=limit,
                          status="active", opened_at=now)
        self.db.add(account)
        self.db.flush()
        self.db.add(CreditTerms(account_id=account.id, statement_day=min(now.astimezone(BANK_TZ).day, 28)))
        card = Card(account_id=account.id, card_no=card_no, tail=card_no[-4:], kind="credit",
                    tier=row.product_code.removesuffix("_card")[:16], status="inactive", issued_at=now)
        self.db.add(card)
        self.db.flush()
        row.card_id = card.id

    def _disburse(self, row: Application, products: Products | None, now: datetime) -> None:
        """Post the principal into the customer's savings and create the loan with its schedule."""
        details = row.details or {}
        rate = _decimal(details.get("annual_rate"))
        if rate is None and products is not None:
            terms = products.loan(row.product_code)
            rate = terms.annual_rate if terms is not None else None
        if rate is None or row.amount is None or not row.term_months:
            raise StageConflict(f"申请 {row.reference} 缺少利率、金额或期限，无法放款", ())
        method = details.get("method") if details.get("method") in SCHEDULES else self.lending_rules.method
        schedule = SCHEDULES[method](row.amount, rate, row.term_months)
        savings = self.db.scalars(select(Account).where(
            Account.customer_id == row.customer_id, Account.kind == "savings", Account.status == "active")
            .order_by(Account.id).with_for_update()).first()
        if savings is None:
            raise StageConflict("客户没有可用的储蓄账户，无法放款", ())
        day = now.astimezone(BANK_TZ)
        account = Account(account_no=f"LN{day:%Y%m%d}{row.id:010d}", customer_id=row.customer_id, kind="loan",
                          name=row.product_name, balance=Decimal("0.00"), status="active", opened_at=now)
        self.db.add(account)
        self.db.flush()
        owner = self.db.get(Customer, row.customer_id)
        post(self.db, reference=f"D{row.id}-{day:%Y%m%d%H%M%S}"[:32], kind="disbursement",
             description=f"{row.product_name}放款",
             legs=[Leg(savings, row.amount, f"{row.product_name}放款", row.reference),
                   Leg(account, -row.amount, owner.name, "放款至储蓄卡")],
             at=now, idempotency_key=f"loan-disbursement:{row.id}")
        loan = Loan(reference="pending", customer_id=row.customer_id, account_id=account.id,
                    repay_account_id=savings.id, application_id=row.id, product_code=row.product_code,
                    product_name=row.product_name, principal=row.amount, annual_rate=rate, months=row.term_months,
                    method=method, disbursed_at=now, status="repaying")
        self.db.add(loan)
        self.db.flush()
        loan.reference = f"LN{day:%Y%m%d}-{loan.id:06d}"
        for period in schedule.periods:
            self.db.add(LoanPayment(loan_id=loan.id, number=period.number, due_date=add_months(day.date(), period.number),
                                    payment=period.payment, principal=period.principal, interest=period.interest,
                                    remaining=period.remaining, status="due"))
        self.db.flush()

    # --- activation ------------------------------------------------------------------------------

    def activatable_cards(self, customer_id: int) -> list[ApplicationInfo]:
        rows = self.db.scalars(select(Application).join(Card, Application.card_id == Card.id).where(
            Application.customer_id == customer_id, Application.kind == "card", Application.stage == "mailed",
            Card.status == "inactive").order_by(Application.id)).all()
        return [self._application_info(row) for row in rows]

    def activate_card(self, customer_id: int, card_tail: str, now: datetime) -> ApplicationInfo:
        """Activate the customer's own mailed card (inactive -> active; its application -> 已激活)."""
        found = self.db.execute(select(Application, Card).join(Card, Application.card_id == Card.id).where(
            Application.customer_id == customer_id, Application.kind == "card",
            Card.tail == str(card_tail)).order_by(Application.id.desc())).first()
        if found is None:
            raise refuse("card_not_found", f"您名下没有待激活的尾号{card_tail}的信用卡")
        row, card = found
        if card.status == "active" or row.stage == "activated":
            raise refuse("already_active", f"尾号{card.tail}的信用卡已激活，可直接使用")
        if row.stage != "mailed":
            raise refuse("not_mailed", f"尾号{card.tail}的信用卡尚未寄出，暂不能激活")
        return self.move_application(row.id, "activated", "customer", now)

    # --- helpers ---------------------------------------------------------------------------------

    def _lending_customer(self, customer_id: int, *, lock: bool = False) -> Customer:
        row = self.db.get(Customer, customer_id, with_for_update=lock or None)
        if row is None:
            raise NotFound("客户不存在", "customer_not_found")
        return row

    def _application_row(self, application_id: int, *, lock: bool = False) -> Application:
        query = select(Application).where(Application.id == application_id)
        row = self.db.scalar(query.with_for_update() if lock else query)
        if row is None:
            raise NotFound("申请不存在", "application_not_found")
        return row

    def _no_open_application(self, customer_id: int, kind: str, code: str, name: str) -> None:
        open_one = self.db.scalar(select(Application).where(
            Application.customer_id == customer_id, Application.kind == kind, Application.product_code == code,
            Application.stage.in_(OPEN_STAGES[kind])).order_by(Application.id.desc()).limit(1))
        if open_one is not None:
            raise refuse("application_open", f"您已有一笔{name}申请（编号 {open_one.reference}）正在办理中，"
                                              f"当前{STAGE_NAMES[open_one.stage]}，无需重复申请")

    def _check_age(self, customer: Customer, now: datetime, max_age: int, months: int = 0) -> None:
        rules = self.lending_rules
        born = birth_date(customers.id_number(self.db, customer))
        today = now.astimezone(BANK_TZ).date()
        if born is None:
            raise refuse("ineligible", "无法从证件信息确认您的年龄，请到网点办理")
        age = age_on(born, today)
        if age < rules.min_age or age > max_age:
            raise refuse("ineligible", f"申请人年龄需在 {rules.min_age} 至 {max_age} 周岁之间")
        if months and age_on(born, add_months(today, months)) > max_age:
            raise refuse("ineligible", f"贷款到期时年龄不能超过 {max_age} 周岁，请缩短期限")

    def _check_income(self, income: Decimal) -> None:
        if income < self.lending_rules.min_monthly_income:
            raise refuse("ineligible", f"月收入需不低于 {format_amount(self.lending_rules.min_monthly_income)}")

    def _existing_monthly_debt(self, customer_id: int) -> Decimal:
        """Per month: the next payment of each loan in repayment plus a share of card debt."""
        total = Decimal("0.00")
        for loan in self.db.scalars(select(Loan).where(Loan.customer_id == customer_id,
                                                        Loan.status == "repaying")):
            payment = self.db.scalar(select(LoanPayment.payment).where(
                LoanPayment.loan_id == loan.id, LoanPayment.status == "due").order_by(LoanPayment.number).limit(1))
            total += payment or Decimal("0.00")
        owed = self.db.scalars(select(Account.balance).where(
            Account.customer_id == customer_id, Account.kind == "credit", Account.balance < 0)).all()
        total += sum((-b for b in owed), Decimal("0.00")) * self.lending_rules.card_debt_share
        return total.quantize(CENT)

    def _application_info(self, row: Application, events: bool = True) -> ApplicationInfo:
        history = ()
        if events:
            history = tuple(StageEvent(e.stage, e.at, e.actor) for e in self.db.scalars(
                select(ApplicationEvent).where(ApplicationEvent.application_id == row.id)
                .order_by(ApplicationEvent.at, ApplicationEvent.id)))
        name = self.db.scalar(select(Customer.name).where(Customer.id == row.customer_id)) or ""
        tail = self.db.scalar(select(Card.tail).where(Card.id == row.card_id)) if row.card_id else None
        loan = self.db.scalar(select(Loan.reference).where(Loan.application_id == row.id)) if row.kind == "loan" else None
        details = dict(row.details or {})
        return ApplicationInfo(row.id, row.reference, row.kind, row.customer_id, name, row.product_code,
                               row.product_name, row.stage, row.amount, row.term_months, details, row.decision_reason,
                               row.submitted_at, row.updated_at, history, tail,
                               _decimal(details.get("credit_limit")), loan)

    def _loan_info(self, row: Loan) -> LoanInfo:
        periods = tuple(LoanPeriodInfo(p.number, p.due_date, p.payment, p.principal, p.interest, p.remaining,
                                       p.status) for p in self.db.scalars(
            select(LoanPayment).where(LoanPayment.loan_id == row.id).order_by(LoanPayment.number)))
        account = self.db.get(Account, row.account_id)
        repay = self.db.scalar(select(Card.tail).where(Card.account_id == row.repay_account_id).order_by(Card.id.desc()))
        reference = self.db.scalar(select(Application.reference).where(Application.id == row.application_id)) \
            if row.application_id else None
        outstanding = max(-account.balance, Decimal("0.00")) if account is not None else Decimal("0.00")
        return LoanInfo(row.id, row.reference, row.product_code, row.product_name, row.principal, row.annual_rate,
                        row.months, row.method, row.disbursed_at, row.status, repay, outstanding, periods, reference)


# --- pure helpers ------------------------------------------------------------------------------

def card_limit(rules: LendingRules, product: CardTerms, income: Decimal) -> Decimal:
    """Monthly income x the multiple, down to the step, at most the product's top limit."""
    raw = income * rules.limit_income_multiple
    stepped = (raw / rules.limit_step).to_integral_value(ROUND_DOWN) * rules.limit_step
    return min(stepped, product.limit_max).quantize(CENT)


def birth_date(id_number: str) -> date | None:
    try:
        return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except (ValueError, TypeError):
        return None


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _decimal(value) -> Decimal | None:
    if value is None or isinstance(value, (bool, float)):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _income(value) -> Decimal:
    income = _decimal(value)
    if income is None or income <= 0:
        raise refuse("invalid_income", "请提供有效的月收入金额")
    return income.quantize(CENT)


def _amount(value) -> Decimal:
    amount = _decimal(value)
    if amount is None or amount <= 0 or amount != amount.quantize(CENT):
        raise refuse("invalid_amount", "借款金额须大于 0，最多两位小数")
    return amount.quantize(CENT)


def _percent(ratio: Decimal) -> str:
    return f"{(ratio * 100).quantize(Decimal('1'))}%"


def _details(details: dict) -> dict:
    """What the form asked, JSON-safe (never an ID or phone number: the customer row has them)."""
    kept = {}
    for key in DETAIL_FIELDS:
        value = details.get(key)
        if value is not None:
            kept[key] = str(value)[:200]
    return kept


def _card_number(seed: int, taken) -> str:
    """A new Luhn-valid card number (`taken(number)`: its tail or the number is in use)."""
    for salt in range(100):
        body = f"{CARD_BIN}{(seed * 7919 + salt * 104729) % 10 ** 9:09d}"
        number = body + _luhn_digit(body)
        if not taken(number):
            return number
    raise StageConflict("无法生成卡号", ())


def _luhn_digit(body: str) -> str:
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)
