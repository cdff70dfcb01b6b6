"""`CreditCards` over the demo bank's tables; mixed into `SqlBank` (chatbot/tools/sql_bank.py).

Everything runs inside the caller's transaction and never commits, like the rest of `SqlBank`.

**Cycles close lazily.** No job is needed: every credit-card operation first closes the
statement cycles that ended since the last look (`_close_cycles`), inside the turn's
transaction, with the credit account's row locked, so two sessions never close one cycle twice
(the unique (account, statement_date) constraint backs this up). A cycle dated D ends at the
end of bank day D and is due D + grace_days. Closing it:
  1. bills one term of every active installment plan (its principal part and its fee; the fee
     is posted to the card as a `fee` transaction at the end of day D);
  2. new_balance = everything owed at the end of D minus the installment principal not yet
     billed (so the statement carries what was left unpaid of the previous one);
  3. minimum = rate x (new_balance - installment terms - last minimum left unpaid), at least
     100.00, plus the installment terms and the minimum left unpaid, never above new_balance;
  4. the previous statement counts as overdue (credit_terms.overdue_count) when the
     repayments posted by its due date (plus what was split) did not reach its minimum.

Repayments (`repay_card`) post savings -> credit as kind `repayment`; the part up to the
current statement's remaining due counts as `paid` on it, the rest pays down unbilled
spending. Installments (`create_installment`) move a statement's remaining due (`installed`)
or an unbilled purchase into a plan billed term by term from the next statement on.
"""
from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from uuid import uuid4

from sqlalchemy import func, select, type_coerce
from sqlalchemy.exc import IntegrityError

from chatbot.clock import BANK_TZ
from chatbot.errors import Conflict, InvalidInput
from chatbot.money import format_amount, to_cents
from chatbot.security.masking import mask_card
from chatbot.storage.ledger import Leg, post
from chatbot.storage.models import (Account, Card, CardStatement, CreditTerms, InstallmentPlan, LedgerEntry,
                                    LedgerTransaction, Money)
from chatbot.tools.checks import checked_key, positive_amount, refuse
from chatbot.tools.credit import (INSTALLMENT_RATES, MIN_INSTALLMENT, CreditCardInfo, InstallmentPlanInfo,
                                  InstallmentQuote, InstallmentReceipt, LimitDecision, LimitOptions,
                                  PurchaseInfo, RepaymentReceipt, StatementInfo)

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
FEES = "BANK-FEES"
MIN_PAYMENT_FLOOR = Decimal("100.00")
# Limit raises (docs/credit_cards.md): explicit, so every answer can say which rule decided.
PERMANENT_MIN_MONTHS = 6  # card age before a permanent raise
TEMPORARY_MIN_MONTHS = 3  # card age before a temporary one
PERMANENT_EVERY_MONTHS = 6  # at most one permanent raise in this many months
USED_CYCLES = 3  # of the last 6 statements, at least this many with spending
ACTIVE_USAGE = Decimal("0.30")  # average statement / limit from which +50 % (else +20 %)
TEMP_RAISE = Decimal("0.50")  # a temporary limit: up to +50 % of the permanent one ...
TEMP_DAYS = 30  # ... for 30 days
LIMIT_STEP = Decimal("1000")
# The highest limit of each card tier (data/kg.yaml: credit_limit max of 普卡/金卡/白金卡).
TIER_MAX = {"standard": Decimal("20000"), "classic": Decimal("20000"), "gold": Decimal("50000"),
            "platinum": Decimal("300000")}


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), BANK_TZ)


def _add_months(day: date, months: int, on_day: int | None = None) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    wanted = on_day or day.day
    return date(year, month, min(wanted, calendar.monthrange(year, month)[1]))


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _whole_steps(value: Decimal) -> Decimal:
    return (value / LIMIT_STEP).to_integral_value(rounding=ROUND_DOWN) * LIMIT_STEP


def _bank_date(at: datetime) -> date:
    return at.astimezone(BANK_TZ).date()


class SqlCreditCards:
    """Credit-card operations, inside the caller's transaction like the rest of `SqlBank`."""

    # --- reading -------------------------------------------------------------------------------
    def credit_cards(self, customer_id: int, now: datetime) -> list[CreditCardInfo]:
        """The customer's credit cards (newest card of each credit account), oldest first."""
        accounts = self.db.scalars(select(Account).where(
            Account.customer_id == customer_id, Account.kind == "credit").order_by(Account.id)).all()
        cards = self._newest_cards([a.id for a in accounts])
        return [self._card_info(cards[a.id], a, now) for a in accounts if a.id in cards]

    def credit_card(self, customer_id: int, card_tail: str, now: datetime, recent: int = 5) -> CreditCardInfo:
        card, account = self._credit(customer_id, card_tail)
        return self._card_info(card, account, now, recent)

    def card_statements(self, customer_id: int, card_tail: str, now: datetime) -> list[StatementInfo]:
        card, account = self._credit(customer_id, card_tail)
        self._close_cycles(account, now)
        rows = self.db.scalars(select(CardStatement).where(CardStatement.account_id == account.id)
                               .order_by(CardStatement.statement_date.desc())).all()
        return [_statement_info(s, card.tail) for s in rows]

    def _credit(self, customer_id: int, tail: str, *, lock: bool = False) -> tuple[Card, Account]:
        card, account = self._card(customer_id, tail, lock=lock)
        if account.kind != "credit":
            raise refuse("not_credit_card", f"尾号{tail}的卡不是信用卡")
        return card, account

    def _card_info(self, card: Card, account: Account, now: datetime, recent: int = 5) -> CreditCardInfo:
        terms = self._close_cycles(account, now)
        today = _bank_date(now)
        statement = self._latest_statement(account.id)
        info = _statement_info(statement, card.tail) if statement else None
        plans = self._active_plans(account.id)
        outstanding = sum((_unbilled_principal(p) for p in plans), ZERO)
        owed = max(-account.balance, ZERO)
        remaining = info.remaining if info else ZERO
        unbilled = max(owed - remaining - outstanding, ZERO)
        effective, temp, until = _effective_limit(account, terms, today)
        cutoff = _day_start(statement.statement_date + timedelta(days=1)) if statement else account.opened_at
        return CreditCardInfo(
            card_tail=card.tail, account_id=account.id, status=account.status, card_status=card.status,
            credit_limit=account.credit_limit or ZERO, temp_limit=temp, temp_limit_until=until,
            effective_limit=effective, owed=owed, available=effective + account.balance, statement=info,
            unbilled=unbilled, installments_outstanding=outstanding, repayable=max(owed - outstanding, ZERO),
            next_statement_date=self._next_statement_date(account, terms, statement),
            recent=tuple(self._purchases(account.id, cutoff, recent)),
            plans=tuple(_plan_info(p) for p in plans), overpaid=max(account.balance, ZERO))

    def _latest_statement(self, account_id: int, *, refresh: bool = False) -> CardStatement | None:
        stmt = (select(CardStatement).where(CardStatement.account_id == account_id)
                .order_by(CardStatement.statement_date.desc()).limit(1))
        if refresh:
            stmt = stmt.execution_options(populate_existing=True)
        return self.db.scalar(stmt)

    def _active_plans(self, account_id: int) -> list[InstallmentPlan]:
        return list(self.db.scalars(select(InstallmentPlan).where(
            InstallmentPlan.account_id == account_id, InstallmentPlan.status == "active")
            .order_by(InstallmentPlan.id).execution_options(populate_existing=True)))

    def _purchases(self, account_id: int, since: datetime, limit: int | None,
                   at_least: Decimal | None = None) -> list[PurchaseInfo]:
        """Unbilled purchases on the card (consumption since `since`), newest first."""
        stmt = (select(LedgerEntry, LedgerTransaction.description)
                .join(LedgerTransaction, LedgerEntry.transaction_id == LedgerTransaction.id)
                .where(LedgerEntry.account_id == account_id, LedgerTransaction.kind == "consumption",
                       LedgerEntry.amount < 0, LedgerEntry.created_at >= since)
                .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc()))
        if at_least is not None:
            stmt = stmt.where(LedgerEntry.amount <= -at_least)
        if limit is not None:
            stmt = stmt.limit(limit)
        rows = self.db.execute(stmt).all()
        split = set(self.db.scalars(select(InstallmentPlan.entry_id).where(
            InstallmentPlan.entry_id.in_([e.id for e, _ in rows]))))
        return [PurchaseInfo(e.id, e.created_at.astimezone(BANK_TZ), _merchant(e, text), -e.amount, e.id in split)
                for e, text in rows]

    # --- cycles ----------------------------------------------------------------------------------
    def _credit_terms(self, account: Account) -> CreditTerms:
        terms = self.db.get(CreditTerms, account.id)
        if terms is None:  # a card the seed made before credit terms existed: the bank's defaults
            terms = CreditTerms(account_id=account.id, statement_day=min(_bank_date(account.opened_at).day, 28),
                                grace_days=20, min_payment_rate=Decimal("0.10"), overdue_count=0)
            self.db.add(terms)
            self.db.flush()
        return terms

    def _next_statement_date(self, account: Account, terms: CreditTerms, last: CardStatement | None) -> date:
        if last is not None:
            return _add_months(last.statement_date, 1, terms.statement_day)
        opened = _bank_date(account.opened_at)
        first = _add_months(opened, 0, terms.statement_day)
        return first if first > opened else _add_months(opened, 1, terms.statement_day)

    def close_ended_cycles(self, account_id: int, now: datetime) -> None:
        """Close the card's cycles that ended before today, as reading the card would: the
        notification job runs it, so a due reminder does not wait for the customer to ask."""
        account = self.db.get(Account, account_id)
        if account is not None and account.kind == "credit" and account.status != "closed":
            self._close_cycles(account, now)

    def _close_cycles(self, account: Account, now: datetime) -> CreditTerms:
        """Close every cycle that ended before today (locks the account only when one did)."""
        terms = self._credit_terms(account)
        today = _bank_date(now)
        if self._next_statement_date(account, terms, self._latest_statement(account.id)) >= today:
            return terms
        self._lock_accounts(account)
        self.db.refresh(terms)
        while True:
            last = self._latest_statement(account.id, refresh=True)
            day = self._next_statement_date(account, terms, last)
            if day >= today:
                return terms
            self._close_one(account, terms, last, day, now)

    def _close_one(self, account: Account, terms: CreditTerms, last: CardStatement | None, day: date,
                   now: datetime) -> None:
        cutoff = _day_start(day + timedelta(days=1))
        billed = ZERO
        for plan in self._active_plans(account.id):
            if plan.created_at < cutoff and plan.terms_billed < plan.terms:
                billed += self._bill_term(account, plan, cutoff - timedelta(seconds=1))
        self.db.flush()
        debt = -self._balance_before(account.id, cutoff)
        outstanding = sum((_unbilled_principal(p) for p in self._active_plans(account.id)), ZERO)
        new_balance = max(debt - outstanding, ZERO)
        carried = _statement_info(last, "").minimum_remaining if last is not None else ZERO
        base = max(new_balance - billed - carried, ZERO)
        minimum = min(max(_round(base * terms.min_payment_rate), MIN_PAYMENT_FLOOR), base)
        minimum = min(minimum + billed + carried, new_balance)
        if last is not None and last.minimum_payment > 0:
            repaid = self._repaid_between(account.id, _day_start(last.statement_date + timedelta(days=1)),
                                          _day_start(last.due_date + timedelta(days=1)))
            if repaid + last.installed < last.minimum_payment:
                terms.overdue_count += 1
        start = last.statement_date + timedelta(days=1) if last else _bank_date(account.opened_at)
        self.db.add(CardStatement(account_id=account.id, period_start=start, statement_date=day,
                                  due_date=day + timedelta(days=terms.grace_days), new_balance=new_balance,
                                  minimum_payment=minimum, paid=ZERO, installed=ZERO, created_at=now))
        self.db.flush()

    def _bill_term(self, account: Account, plan: InstallmentPlan, at: datetime) -> Decimal:
        """Bill the plan's next term: its fee is posted to the card; returns principal + fee."""
        plan.terms_billed += 1
        last = plan.terms_billed == plan.terms
        principal = _last_principal(plan.principal, plan.terms, plan.principal_per_term) if last \
            else plan.principal_per_term
        if plan.fee_per_term > 0:
            # Locked and re-read: cycles of different customers close at once and post to it.
            fees = self.db.execute(select(Account).where(Account.account_no == FEES).with_for_update()
                                   .execution_options(populate_existing=True)).scalar_one()
            post(self.db, reference=f"F{uuid4().hex[:24]}", kind="fee",
                 description=f"分期手续费 {plan.description} 第{plan.terms_billed}/{plan.terms}期"[:128],
                 legs=[Leg(account, -plan.fee_per_term, "分期手续费"), Leg(fees, plan.fee_per_term, account.account_no[-4:])],
                 at=at)
        if last:
            plan.status = "finished"
        return principal + plan.fee_per_term

    def _balance_before(self, account_id: int, cutoff: datetime) -> Decimal:
        total = self.db.scalar(select(type_coerce(func.coalesce(func.sum(LedgerEntry.amount), 0), Money))
                               .where(LedgerEntry.account_id == account_id, LedgerEntry.created_at < cutoff))
        return to_cents(total)

    def _repaid_between(self, account_id: int, start: datetime, end: datetime) -> Decimal:
        total = self.db.scalar(
            select(type_coerce(func.coalesce(func.sum(LedgerEntry.amount), 0), Money))
            .join(LedgerTransaction, LedgerEntry.transaction_id == LedgerTransaction.id)
            .where(LedgerEntry.account_id == account_id, LedgerTransaction.kind == "repayment",
                   LedgerEntry.amount > 0, LedgerEntry.created_at >= start, LedgerEntry.created_at < end))
        return to_cents(total)

    # --- repayment -------------------------------------------------------------------------------
    def check_repayment(self, customer_id: int, card_tail: str, from_tail: str, amount: Decimal,
                        now: datetime) -> None:
        amount = positive_amount(amount)
        card, account = self._credit(customer_id, card_tail)
        payer_card, payer = self._repayer(customer_id, from_tail)
        self._check_repayment(card, account, payer_card, payer, amount, now)

    def repay_card(self, customer_id: int, card_tail: str, from_tail: str, amount: Decimal,
                   idempotency_key: str, now: datetime) -> RepaymentReceipt:
        """Repay once per idempotency key; a repeated key returns the first receipt."""
        amount, key = positive_amount(amount), checked_key(idempotency_key)
        replay = self._repayment_replay(key, customer_id, card_tail, amount, now)
        if replay is not None:
            return replay
        self._customer_row(customer_id, lock=True)  # one customer's repayments queue here
        replay = self._repayment_replay(key, customer_id, card_tail, amount, now)
        if replay is not None:
            return replay
        card, account = self._credit(customer_id, card_tail)
        payer_card, payer = self._repayer(customer_id, from_tail)
        self._lock_accounts(account, payer)
        self._check_repayment(card, account, payer_card, payer, amount, now)
        statement = self._latest_statement(account.id, refresh=True)
        try:
            with self.db.begin_nested():
                txn = post(self.db, reference=uuid4().hex, kind="repayment", description="信用卡还款",
                           legs=[Leg(payer, -amount, "信用卡还款", f"信用卡 {mask_card(card.tail)}"),
                                 Leg(account, amount, "储蓄卡还款", f"储蓄卡 {mask_card(payer_card.tail)}")],
                           at=now, idempotency_key=key)
                txn.reference = f"R{now.astimezone(BANK_TZ):%Y%m%d}-{txn.id:06d}"
                if statement is not None:
                    remaining = _statement_info(statement, card.tail).remaining
                    statement.paid += min(amount, remaining)
                self.db.flush()
        except IntegrityError:
            replay = self._repayment_replay(key, customer_id, card_tail, amount, now)
            if replay is None:
                raise
            return replay
        return self._repayment_receipt(txn, card, payer_card.tail, amount, payer.balance, now, replayed=False)

    def _repayer(self, customer_id: int, tail: str) -> tuple[Card, Account]:
        card, account = self._card(customer_id, tail)
        if account.kind != "savings":
            raise refuse("card_not_found", f"尾号{tail}的卡不是储蓄卡，请用储蓄卡还款")
        return card, account

    def _check_repayment(self, card: Card, account: Account, payer_card: Card, payer: Account,
                         amount: Decimal, now: datetime) -> None:
        if card.status != "active" or account.status != "active":
            raise refuse("card_frozen", f"信用卡 {mask_card(card.tail)} 已挂失或冻结，暂不能在线还款")
        if payer_card.status != "active" or payer.status != "active":
            raise refuse("card_frozen", f"储蓄卡 {mask_card(payer_card.tail)} 已挂失或冻结，不能用于还款")
        info = self._card_info(card, account, now, recent=0)
        if info.repayable <= 0:
            raise refuse("nothing_owed", f"信用卡 {mask_card(card.tail)} 目前没有需要还的款项")
        if amount > info.repayable:
            raise refuse("over_owed", f"还款金额超过应还金额，目前最多可还 {format_amount(info.repayable)}")
        if amount > payer.balance:
            raise refuse("insufficient_funds", f"储蓄卡 {mask_card(payer_card.tail)} 余额不足，"
                                                f"可用余额 {format_amount(payer.balance)}")

    def _repayment_replay(self, key: str, customer_id: int, card_tail: str, amount: Decimal,
                          now: datetime) -> RepaymentReceipt | None:
        txn = self.db.scalar(select(LedgerTransaction).where(LedgerTransaction.idempotency_key == key))
        if txn is None:
            return None
        legs = self.db.execute(select(LedgerEntry, Account).join(Account, LedgerEntry.account_id == Account.id)
                               .where(LedgerEntry.transaction_id == txn.id)).all()
        debits = [(e, a) for e, a in legs if e.amount < 0]
        credits = [(e, a) for e, a in legs if e.amount > 0]
        if txn.kind != "repayment" or len(debits) != 1 or len(credits) != 1:
            raise Conflict("该请求编号已用于另一笔交易", "idempotency_conflict")
        (debit, payer), (credit, target) = debits[0], credits[0]
        card, _ = self._credit(customer_id, card_tail)
        if (payer.customer_id, target.id, credit.amount) != (customer_id, card.account_id, amount):
            raise Conflict("该请求编号已用于另一笔交易", "idempotency_conflict")
        return self._repayment_receipt(txn, card, payer.account_no[-4:], amount, debit.balance_after,
                                       now, replayed=True)

    def _repayment_receipt(self, txn: LedgerTransaction, card: Card, from_tail: str, amount: Decimal,
                           balance_after: Decimal, now: datetime, replayed: bool) -> RepaymentReceipt:
        info = self.credit_card(self._owner(card), card.tail, now, recent=0)
        statement = info.statement
        return RepaymentReceipt(txn.reference, amount, card.tail, from_tail,
                                statement.remaining if statement else ZERO,
                                statement.minimum_remaining if statement else ZERO, info.owed,
                                balance_after, txn.created_at.astimezone(BANK_TZ), replayed)

    def _owner(self, card: Card) -> int:
        return self.db.scalar(select(Account.customer_id).where(Account.id == card.account_id))

    # --- installments ----------------------------------------------------------------------------
    def installment_targets(self, customer_id: int, card_tail: str, now: datetime) -> list[tuple[str, str, Decimal]]:
        card, account = self._credit(customer_id, card_tail)
        info = self._card_info(card, account, now, recent=0)
        targets = []
        statement = info.statement
        if statement and self._statement_splittable(account, statement, now) is None:
            targets.append(("statement", f"{statement.statement_date:%m月%d日}账单", statement.remaining))
        for purchase in self._purchases(account.id, self._unbilled_since(account), None, MIN_INSTALLMENT):
            if not purchase.installed and purchase.amount <= info.unbilled:
                targets.append((f"entry:{purchase.entry_id}",
                                f"{purchase.at:%m-%d} {purchase.merchant}消费", purchase.amount))
        return targets

    def _unbilled_since(self, account: Account) -> datetime:
        statement = self._latest_statement(account.id)
        return _day_start(statement.statement_date + timedelta(days=1)) if statement else account.opened_at

    def _statement_splittable(self, account: Account, statement: StatementInfo, now: datetime) -> str | None:
        """Why this statement cannot be split now (None: it can)."""
        if _bank_date(now) > statement.due_date:
            return "账单已过到期还款日，不能再办理账单分期"
        if self.db.scalar(select(InstallmentPlan.id).where(InstallmentPlan.statement_id == statement.id)):
            return "本期账单已办理过分期"
        if statement.remaining < MIN_INSTALLMENT:
            return (f"本期账单剩余应还 {format_amount(statement.remaining)}，"
                    f"满 {format_amount(MIN_INSTALLMENT)}才可分期")
        return None

    def quote_installment(self, customer_id: int, card_tail: str, target: str, terms: int,
                          now: datetime) -> InstallmentQuote:
        card, account = self._credit(customer_id, card_tail)
        return self._quote(card, account, target, terms, now)

    def _quote(self, card: Card, account: Account, target: str, terms: int, now: datetime) -> InstallmentQuote:
        if terms not in INSTALLMENT_RATES:
            raise refuse("invalid_terms", "分期期数可选 " + "、".join(f"{n} 期" for n in INSTALLMENT_RATES))
        if card.status != "active" or account.status != "active":
            raise refuse("card_frozen", f"信用卡 {mask_card(card.tail)} 已挂失或冻结，暂不能办理分期")
        info = self._card_info(card, account, now, recent=0)
        description, principal = self._install_target(account, info, target, now)
        rate = INSTALLMENT_RATES[terms]
        per_term = (principal / terms).quantize(CENT, rounding=ROUND_DOWN)
        fee = _round(principal * rate)
        return InstallmentQuote(target, description, principal, terms, rate, fee, per_term,
                                _last_principal(principal, terms, per_term), fee * terms, info.next_statement_date)

    def _install_target(self, account: Account, info: CreditCardInfo, target: str, now: datetime) -> tuple[str, Decimal]:
        if target == "statement":
            statement = info.statement
            if statement is None:
                raise refuse("not_installable", "这张卡还没有出过账单，暂不能办理账单分期")
            why = self._statement_splittable(account, statement, now)
            if why:
                raise refuse("not_installable", why)
            return f"{statement.statement_date:%m月%d日}账单", statement.remaining
        if not target.startswith("entry:") or not target[6:].isdigit():
            raise InvalidInput("未知的分期对象", "invalid_target")
        entry = self.db.get(LedgerEntry, int(target[6:]))
        txn = self.db.get(LedgerTransaction, entry.transaction_id) if entry else None
        if entry is None or entry.account_id != account.id or txn.kind != "consumption" or entry.amount >= 0:
            raise refuse("not_installable", "没有找到这笔消费，请核对后再试")
        if entry.created_at < self._unbilled_since(account):
            raise refuse("not_installable", "这笔消费已计入账单，单笔分期只适用于未出账的消费，可改办账单分期")
        if -entry.amount < MIN_INSTALLMENT:
            raise refuse("not_installable", f"单笔消费满 {format_amount(MIN_INSTALLMENT)}才可分期，"
                                             f"这笔为 {format_amount(-entry.amount)}")
        if self.db.scalar(select(InstallmentPlan.id).where(InstallmentPlan.entry_id == entry.id)):
            raise refuse("not_installable", "这笔消费已办理过分期")
        if -entry.amount > info.unbilled:  # repaid early: nothing of it left to split (and pay fees on)
            raise refuse("not_installable", f"未出账消费已提前还款，目前未出账待还 {format_amount(info.unbilled)}，"
                                             "不足这笔消费的金额，无需分期")
        return f"{entry.created_at.astimezone(BANK_TZ):%m-%d} {_merchant(entry, txn.description)}消费", -entry.amount

    def create_installment(self, customer_id: int, card_tail: str, target: str, terms: int,
                           idempotency_key: str, now: datetime,
                           expected_principal: Decimal | None = None) -> InstallmentReceipt:
        """Split `target` once per key; `expected_principal` is what the customer confirmed: a
        principal changed since (a repayment in between) is refused, to be read back anew."""
        key = checked_key(idempotency_key)
        replay = self._plan_replay(key, customer_id, card_tail, target, terms, now)
        if replay is not None:
            return replay
        self._customer_row(customer_id, lock=True)
        replay = self._plan_replay(key, customer_id, card_tail, target, terms, now)
        if replay is not None:
            return replay
        card, account = self._credit(customer_id, card_tail)
        self._lock_accounts(account)
        quote = self._quote(card, account, target, terms, now)
        if expected_principal is not None and quote.principal != expected_principal:
            raise refuse("quote_changed", f"可分期金额已变为 {format_amount(quote.principal)}，"
                                          "请重新办理以核对新的分期信息")
        statement = self._latest_statement(account.id, refresh=True) if target == "statement" else None
        try:
            with self.db.begin_nested():
                plan = InstallmentPlan(
                    account_id=account.id, statement_id=statement.id if statement else None,
                    entry_id=int(target[6:]) if target.startswith("entry:") else None,
                    description=quote.description, principal=quote.principal, terms=terms,
                    fee_rate=quote.fee_rate, fee_per_term=quote.fee_per_term,
                    principal_per_term=quote.principal_per_term, terms_billed=0, status="active",
                    idempotency_key=key, created_at=now)
                self.db.add(plan)
                if statement is not None:
                    statement.installed += quote.principal
                self.db.flush()
        except IntegrityError:
            replay = self._plan_replay(key, customer_id, card_tail, target, terms, now)
            if replay is None:
                raise refuse("not_installable", "这笔已办理过分期") from None
            return replay
        return self._plan_receipt(plan, card, quote, now, replayed=False)

    def _plan_replay(self, key: str, customer_id: int, card_tail: str, target: str, terms: int,
                     now: datetime) -> InstallmentReceipt | None:
        plan = self.db.scalar(select(InstallmentPlan).where(InstallmentPlan.idempotency_key == key))
        if plan is None:
            return None
        card, _ = self._credit(customer_id, card_tail)
        planned = "statement" if plan.statement_id else f"entry:{plan.entry_id}"
        if (plan.account_id, planned, plan.terms) != (card.account_id, target, terms):
            raise Conflict("该请求编号已用于另一笔分期", "idempotency_conflict")
        statement = self.db.get(CardStatement, plan.statement_id) if plan.statement_id else None
        quote = InstallmentQuote(planned, plan.description, plan.principal, plan.terms, plan.fee_rate,
                                 plan.fee_per_term, plan.principal_per_term,
                                 _last_principal(plan.principal, plan.terms, plan.principal_per_term),
                                 plan.fee_per_term * plan.terms,
                                 statement.statement_date if statement else _bank_date(plan.created_at))
        return self._plan_receipt(plan, card, quote, now, replayed=True)

    def _plan_receipt(self, plan: InstallmentPlan, card: Card, quote: InstallmentQuote, now: datetime,
                      replayed: bool) -> InstallmentReceipt:
        info = self.credit_card(self._owner(card), card.tail, now, recent=0)
        remaining = info.statement.remaining if info.statement else None
        if replayed:
            quote = InstallmentQuote(quote.target, quote.description, quote.principal, quote.terms, quote.fee_rate,
                                     quote.fee_per_term, quote.principal_per_term, quote.last_principal,
                                     quote.total_fee, _first_billing(info, plan))
        return InstallmentReceipt(plan.id, quote, remaining, replayed)

    # --- limits ----------------------------------------------------------------------------------
    def limit_options(self, customer_id: int, card_tail: str, now: datetime) -> LimitOptions:
        card, account = self._credit(customer_id, card_tail)
        return self._limit_options(card, account, now)

    def _limit_options(self, card: Card, account: Account, now: datetime) -> LimitOptions:
        info = self._card_info(card, account, now, recent=0)
        terms = self._credit_terms(account)
        today = _bank_date(now)
        limit = account.credit_limit or ZERO
        common = self._common_refusal(card, account, terms, info, today)
        opened = _bank_date(account.opened_at)
        permanent = common
        if permanent is None and today < _add_months(opened, PERMANENT_MIN_MONTHS):
            permanent = (f"开卡未满 {PERMANENT_MIN_MONTHS} 个月（{opened:%Y-%m-%d} 开卡），"
                         f"{_add_months(opened, PERMANENT_MIN_MONTHS):%Y-%m-%d} 起可申请提高固定额度")
        raised = _bank_date(terms.limit_raised_at) if terms.limit_raised_at else None
        if permanent is None and raised and today < _add_months(raised, PERMANENT_EVERY_MONTHS):
            permanent = (f"{raised:%Y-%m-%d} 已提升过固定额度，每 {PERMANENT_EVERY_MONTHS} 个月可申请一次，"
                         f"{_add_months(raised, PERMANENT_EVERY_MONTHS):%Y-%m-%d} 起可再申请")
        recent = list(self.db.scalars(select(CardStatement.new_balance).where(CardStatement.account_id == account.id)
                                      .order_by(CardStatement.statement_date.desc()).limit(6)))
        used = sum(1 for b in recent if b > 0)
        if permanent is None and used < USED_CYCLES:
            permanent = f"近 6 期账单中有消费的只有 {used} 期，用卡满 {USED_CYCLES} 期后可申请提高固定额度"
        usage = (sum(recent, ZERO) / len(recent) / limit) if recent and limit else ZERO
        step = Decimal("0.50") if usage >= ACTIVE_USAGE else Decimal("0.20")
        cap = TIER_MAX.get(card.tier, TIER_MAX["standard"])
        max_permanent = max(min(_whole_steps(limit * (1 + step)), cap), limit)
        if permanent is None and max_permanent <= limit:
            permanent = f"固定额度已达该卡种上限 {format_amount(cap)}"
        temporary = common
        if temporary is None and today < _add_months(opened, TEMPORARY_MIN_MONTHS):
            temporary = f"开卡未满 {TEMPORARY_MIN_MONTHS} 个月，暂不能申请临时额度"
        max_temporary = _whole_steps(limit * (1 + TEMP_RAISE))
        if temporary is None and info.temp_limit is not None and info.temp_limit >= max_temporary:
            temporary = (f"您已有临时额度 {format_amount(info.temp_limit)}（有效期至 "
                         f"{info.temp_limit_until:%Y-%m-%d}），已是可申请的最高临时额度")
        return LimitOptions(card.tail, limit, info.temp_limit, info.temp_limit_until, to_cents(max_permanent),
                            to_cents(max_temporary),
                            permanent, temporary, TEMP_DAYS)

    def _common_refusal(self, card: Card, account: Account, terms: CreditTerms, info: CreditCardInfo,
                        today: date) -> str | None:
        if card.status != "active" or account.status != "active":
            return f"信用卡 {mask_card(card.tail)} 已挂失或冻结，暂不能调整额度"
        statement = info.statement
        if statement and today > statement.due_date and statement.minimum_remaining > 0:
            return "当前账单已逾期未还，请先还款（至少还足最低还款额）"
        if terms.overdue_count:
            return f"近 24 个月有 {terms.overdue_count} 次逾期还款记录，暂不能调整额度"
        return None

    def raise_limit(self, customer_id: int, card_tail: str, kind: str, amount: Decimal,
                    now: datetime) -> LimitDecision:
        """Decide a raise request by the rules of `limit_options`; an approval takes effect now."""
        if kind not in ("permanent", "temporary"):
            raise InvalidInput("未知的额度类型", "invalid_limit_kind")
        amount = positive_amount(amount)
        card, account = self._credit(customer_id, card_tail)
        self._lock_accounts(account)
        options = self._limit_options(card, account, now)
        refusal = options.permanent_refusal if kind == "permanent" else options.temporary_refusal
        highest = options.max_permanent if kind == "permanent" else options.max_temporary
        current = options.credit_limit if kind == "permanent" else (options.temp_limit or options.credit_limit)
        if refusal is None and amount <= current:
            refusal = f"申请的额度需高于当前额度 {format_amount(current)}"
        if refusal is None and amount > highest:
            refusal = f"目前最高可申请至 {format_amount(highest)}"
        if refusal is not None:
            return LimitDecision(kind, amount, None, None, refusal, "limit_refused")
        terms = self._credit_terms(account)
        today = _bank_date(now)
        if kind == "permanent":
            account.credit_limit = amount
            terms.limit_raised_at = now
            if terms.temp_limit is not None and terms.temp_limit <= amount:
                terms.temp_limit = terms.temp_limit_until = None
            until = None
        else:
            until = today + timedelta(days=TEMP_DAYS - 1)
            terms.temp_limit, terms.temp_limit_until = amount, until
        self.db.flush()
        return LimitDecision(kind, amount, amount, until, None, None)


# --- helpers -----------------------------------------------------------------------------------

def _merchant(entry: LedgerEntry, description: str) -> str:
    return entry.counterparty or (description or "").removeprefix("消费").strip() or "消费"


def _last_principal(principal: Decimal, terms: int, per_term: Decimal) -> Decimal:
    return principal - per_term * (terms - 1)


def _unbilled_principal(plan: InstallmentPlan) -> Decimal:
    """Principal of the plan not yet billed on a statement."""
    if plan.terms_billed >= plan.terms:
        return ZERO
    return plan.principal - plan.principal_per_term * plan.terms_billed


def _statement_info(s: CardStatement, tail: str) -> StatementInfo:
    remaining = max(s.new_balance - s.paid - s.installed, ZERO)
    minimum_left = min(max(s.minimum_payment - s.paid, ZERO), remaining)
    return StatementInfo(s.id, tail, s.period_start, s.statement_date, s.due_date, s.new_balance,
                         s.minimum_payment, s.paid, s.installed, remaining, minimum_left)


def _plan_info(p: InstallmentPlan) -> InstallmentPlanInfo:
    return InstallmentPlanInfo(p.id, p.description, p.principal, p.terms, p.terms_billed, p.fee_per_term,
                               p.principal_per_term, p.status, p.statement_id)


def _first_billing(info: CreditCardInfo, plan: InstallmentPlan) -> date:
    return info.next_statement_date


def _effective_limit(account: Account, terms: CreditTerms | None, today: date) -> tuple[Decimal, Decimal | None, date | None]:
    """(limit in force, valid temporary limit, its last day): a temporary limit counts until its
    last day (inclusive, bank calendar)."""
    limit = account.credit_limit or ZERO
    if terms is not None and terms.temp_limit is not None and terms.temp_limit_until is not None \
            and terms.temp_limit_until >= today and terms.temp_limit > limit:
        return terms.temp_limit, terms.temp_limit, terms.temp_limit_until
    return limit, None, None


def effective_limit(account: Account, terms: CreditTerms | None, today: date) -> Decimal:
    """The limit in force today (used by `SqlBank.accounts` for available credit)."""
    return _effective_limit(account, terms, today)[0]
