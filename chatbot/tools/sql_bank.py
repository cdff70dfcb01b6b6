"""`CoreBanking` over the demo bank's tables (the SQL implementation of chatbot/tools/banking.py).

`SqlBank` works inside the caller's transaction and never commits: the turn's
`Database.write()` commits a transfer together with the turn that asked for it, or rolls
both back. Money moves only through `ledger.post`, so every change is a balanced posting.

Transfers stay correct when many run at once. On PostgreSQL the payer's customer row is
locked first (one customer's transfers queue, so the daily limit and the idempotency key are
checked against committed state), then every account the posting touches, in id order so two
transfers never wait on each other in a cycle. SQLite ignores FOR UPDATE; its write
transactions (`BEGIN IMMEDIATE`) are serialized anyway.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from uuid import uuid4

from sqlalchemy import case, delete, func, select, type_coerce
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chatbot.clock import BANK_TZ
from chatbot.errors import Conflict, InvalidInput, NotFound
from chatbot.money import format_amount, to_cents
from chatbot.storage import customers
from chatbot.storage.ledger import Leg, internal_account, post
from chatbot.storage.models import (Account, Card, ChannelBinding, CreditTerms, Customer, LedgerEntry,
                                    LedgerTransaction, Money, Payee)
from chatbot.tools.banking import (AccountInfo, CustomerInfo, PayeeInfo,
                                   TransactionInfo, TransactionPage, TransferReceipt)
from chatbot.tools.checks import checked_key, positive_amount, refuse
from chatbot.tools.sql_credit import SqlCreditCards, effective_limit
from chatbot.tools.sql_lending import SqlLending
from chatbot.tools.sql_wealth import SqlWealth

CLEARING = "BANK-CLEARING"
DIRECTIONS = ("income", "expense")
_TAIL = re.compile(r"\d{4}")
# Another bank's account number as accepted for clearing: digits only, as on a bank card.
_EXTERNAL_ACCOUNT = re.compile(r"\d{10,32}")


@dataclass(frozen=True)
class TransferLimits:
    """Per-customer transfer limits; `daily` counts Asia/Shanghai calendar days."""

    single: Decimal = Decimal("50000.00")
    daily: Decimal = Decimal("200000.00")


DEMO_LIMITS = TransferLimits()


class SqlBank(SqlCreditCards, SqlLending, SqlWealth):
    """The bank's books for one turn, read and written through the turn's session."""

    def __init__(self, db: Session, limits: TransferLimits = DEMO_LIMITS) -> None:
        self.db = db
        self.limits = limits

    # --- customers and channel bindings ------------------------------------------------------

    def customer(self, customer_id: int) -> CustomerInfo:
        """The customer's identity; NotFound for an unknown id."""
        return _customer_info(self.db, self._customer_row(customer_id))

    def find_customer(self, name: str, id_number: str) -> CustomerInfo | None:
        """The customer with exactly this name and ID number (a lower-case x counts as X),
        found by the keyed hash of the ID number (`chatbot/storage/customers.py`)."""
        row = customers.by_id_number(self.db, id_number)
        return _customer_info(self.db, row) if row is not None and row.name == name.strip() else None

    def bound_customer(self, channel: str, user_id: str) -> int | None:
        return self.db.scalar(select(ChannelBinding.customer_id).where(
            ChannelBinding.channel == channel, ChannelBinding.user_id == user_id))

    def bind(self, channel: str, user_id: str, customer_id: int, now: datetime) -> None:
        """Link a channel user to a customer; binding again to the same customer is a no-op."""
        self._customer_row(customer_id)
        if self._already_bound(channel, user_id, customer_id):
            return
        try:
            with self.db.begin_nested():
                self.db.add(ChannelBinding(channel=channel, user_id=user_id,
                                           customer_id=customer_id, bound_at=now, last_used_at=now))
                self.db.flush()
        except IntegrityError:
            # A concurrent bind of the same channel user committed first; judge by its row.
            self._already_bound(channel, user_id, customer_id)

    def unbind(self, channel: str, user_id: str) -> bool:
        """Remove the channel user's binding; False if there was none."""
        result = self.db.execute(delete(ChannelBinding).where(
            ChannelBinding.channel == channel, ChannelBinding.user_id == user_id))
        return result.rowcount > 0

    def _already_bound(self, channel: str, user_id: str, customer_id: int) -> bool:
        current = self.bound_customer(channel, user_id)
        if current is not None and current != customer_id:
            raise refuse("already_bound", "该账号已绑定其他客户，请先解除绑定后再操作")
        return current == customer_id

    def _customer_row(self, customer_id: int, *, lock: bool = False) -> Customer:
        row = self.db.get(Customer, customer_id, with_for_update=lock or None)
        if row is None:
            raise NotFound("客户不存在", "customer_not_found")
        return row

    # --- accounts, cards and payees ----------------------------------------------------------

    def accounts(self, customer_id: int, now: datetime) -> list[AccountInfo]:
        """The customer's savings and credit accounts, oldest first; a credit card's limit is the
        one in force on `now`'s bank day (a valid temporary limit counts)."""
        rows = self.db.scalars(select(Account).where(
            Account.customer_id == customer_id, Account.kind.in_(("savings", "credit"))
        ).order_by(Account.id)).all()
        cards = self._newest_cards([a.id for a in rows])
        today = now.astimezone(BANK_TZ).date()
        terms = {t.account_id: t for t in self.db.scalars(select(CreditTerms).where(
            CreditTerms.account_id.in_([a.id for a in rows if a.kind == "credit"])))}
        return [_account_info(a, cards.get(a.id), effective_limit(a, terms.get(a.id), today)) for a in rows]

    def report_loss(self, customer_id: int, card_tail: str, now: datetime) -> AccountInfo:
        """Mark the card lost and freeze its account (no debits until the loss is lifted)."""
        card, account = self._card(customer_id, card_tail, lock=True)
        if card.status == "lost":
            raise refuse("already_lost", f"尾号{card.tail}的卡已挂失，无需重复办理")
        card.status, account.status = "lost", "frozen"
        return _account_info(account, card)

    def cancel_loss(self, customer_id: int, card_tail: str, now: datetime) -> AccountInfo:
        """Lift a loss report; the account thaws once none of its cards is lost."""
        card, account = self._card(customer_id, card_tail, lock=True)
        if card.status != "lost":
            raise refuse("not_lost", f"尾号{card.tail}的卡未挂失，无需解除")
        card.status = "active"
        others_lost = self.db.scalar(select(func.count(Card.id)).where(
            Card.account_id == account.id, Card.id != card.id, Card.status == "lost"))
        if not others_lost:
            account.status = "active"
        return _account_info(account, card)

    def payees(self, customer_id: int) -> list[PayeeInfo]:
        """The customer's payee book; `same_bank` means the account is in our books."""
        rows = self.db.scalars(select(Payee).where(Payee.customer_id == customer_id).order_by(Payee.id)).all()
        ours = set(self.db.scalars(select(Account.account_no).where(
            Account.account_no.in_([p.account_no for p in rows]), Account.customer_id.is_not(None))))
        return [PayeeInfo(p.id, p.name, p.account_no, p.bank_name, p.account_no in ours) for p in rows]

    def check_payee(self, account_no: str) -> None:
        """Refuse a credit card as a transfer's payee: a repayment has its own rules (never above
        what is owed: repay_card). Checked before a code is sent and again at the transfer."""
        kind = self.db.scalar(select(Account.kind).where(Account.account_no == account_no,
                                                         Account.customer_id.is_not(None)))
        if kind == "credit":
            raise refuse("credit_card_payee", "信用卡账户不能作为转账收款账户，信用卡还款请说“还信用卡”")

    def resolve_account(self, account_no: str) -> tuple[str, bool] | None:
        """(holder name, True) for a customer account in our books; None otherwise."""
        name = self.db.scalar(select(Customer.name).join(Account, Account.customer_id == Customer.id)
                              .where(Account.account_no == account_no))
        return (name, True) if name is not None else None

    def _card(self, customer_id: int, tail: str, *, lock: bool = False) -> tuple[Card, Account]:
        """The customer's newest card with this tail and its account, or card_not_found."""
        missing = refuse("card_not_found", f"您名下没有尾号{tail}的卡，请核对卡号尾号")
        if not isinstance(tail, str) or not _TAIL.fullmatch(tail):
            raise missing
        stmt = (select(Card, Account).join(Account, Card.account_id == Account.id)
                .where(Account.customer_id == customer_id, Card.tail == tail)
                .order_by(Card.id.desc()).limit(1))
        row = self.db.execute(stmt.with_for_update() if lock else stmt).first()
        if row is None:
            raise missing
        return row[0], row[1]

    def _newest_cards(self, account_ids: list[int]) -> dict[int, Card]:
        cards = self.db.scalars(select(Card).where(Card.account_id.in_(account_ids)).order_by(Card.id))
        return {card.account_id: card for card in cards}  # later (newer) cards win

    # --- transaction history -----------------------------------------------------------------

    def transactions(self, customer_id: int, *, start: date | None = None, end: date | None = None,
                     card_tail: str | None = None, kinds: tuple[str, ...] = (),
                     direction: str | None = None, offset: int = 0, limit: int = 5) -> TransactionPage:
        """One page of the customer's ledger entries, newest first, with totals over all pages."""
        if offset < 0 or limit < 0:
            raise InvalidInput("分页参数无效", "invalid_paging")
        tails = self._tails(customer_id, card_tail)
        where = _history_filters(tails, start, end, kinds, direction)
        count, income, expense = self.db.execute(_totals_query(where)).one()
        rows = self.db.execute(
            select(LedgerEntry, LedgerTransaction.kind, LedgerTransaction.description)
            .join(LedgerTransaction, LedgerEntry.transaction_id == LedgerTransaction.id).where(*where)
            .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc()).offset(offset).limit(limit)).all()
        items = tuple(_transaction_info(entry, kind, text, tails) for entry, kind, text in rows)
        return TransactionPage(items, count, to_cents(income), to_cents(-expense))

    def _tails(self, customer_id: int, card_tail: str | None) -> dict[int, str | None]:
        """{account id: card tail} of the customer's accounts, narrowed to `card_tail` if given."""
        ids = self.db.scalars(select(Account.id).where(  # loan accounts have their own answers
            Account.customer_id == customer_id, Account.kind.in_(("savings", "credit")))).all()
        cards = self._newest_cards(list(ids))
        tails = {i: cards[i].tail if i in cards else None for i in ids}
        if card_tail is None:
            return tails
        matching = {i: t for i, t in tails.items() if t == card_tail}
        if not matching:
            raise refuse("card_not_found", f"您名下没有尾号{card_tail}的卡，请核对卡号尾号")
        return matching

    # --- transfers -------------------------------------------------------------------------

    def check_transfer(self, customer_id: int, from_tail: str, amount: Decimal, now: datetime) -> None:
        """Raise BankingRefusal if the transfer cannot go through (before any code is sent)."""
        amount = positive_amount(amount, "转账金额")
        card, account = self._payer(customer_id, from_tail)
        self._check_rules(customer_id, card, account, amount, now)

    def transfer(self, customer_id: int, from_tail: str, to_account_no: str, to_name: str,
                 amount: Decimal, purpose: str | None, idempotency_key: str, now: datetime) -> TransferReceipt:
        """Move money once per idempotency key; a repeated key returns the first receipt."""
        amount, key = positive_amount(amount, "转账金额"), checked_key(idempotency_key)
        replay = self._replay(key, customer_id, amount, to_account_no)
        if replay is not None:
            return replay
        payer = self._customer_row(customer_id, lock=True)
        # A transfer with this key may have committed while we waited for the lock.
        replay = self._replay(key, customer_id, amount, to_account_no)
        if replay is not None:
            return replay
        card, account = self._payer(customer_id, from_tail)
        name = to_name.strip()
        target = self._target(account, to_account_no, name)
        self._lock_accounts(account, target)
        self._check_rules(customer_id, card, account, amount, now)
        # The clearing leg keeps the other bank's account number (for clearing and receipts).
        legs = [Leg(account, -amount, name[:64], purpose),
                Leg(target, amount, payer.name, to_account_no if target.customer_id is None else purpose)]
        return self._post_once(legs, f"转账 {payer.name}→{name}"[:128], key, now,
                               lambda: self._replay(key, customer_id, amount, to_account_no))

    def _payer(self, customer_id: int, tail: str) -> tuple[Card, Account]:
        card, account = self._card(customer_id, tail)
        if account.kind != "savings":
            raise refuse("card_not_found", f"尾号{tail}的卡不是储蓄卡，请使用储蓄卡转账")
        return card, account

    def _target(self, payer: Account, account_no: str, name: str) -> Account:
        """The account to credit: the payee's own account here, or clearing for other banks."""
        if account_no == payer.account_no:
            raise refuse("same_account", "收款账户与付款账户相同，请更换收款账户")
        own = self.db.scalar(select(Account).where(
            Account.account_no == account_no, Account.customer_id.is_not(None)))
        if own is not None:
            if self._customer_row(own.customer_id).name != name:
                raise refuse("unknown_payee", "收款人姓名与账号不符，请核对后再试")
            self.check_payee(account_no)
            return own
        if not _EXTERNAL_ACCOUNT.fullmatch(account_no) or not name:
            raise refuse("unknown_payee", "收款账号无效，请核对后再试")
        return internal_account(self.db, CLEARING)

    def _lock_accounts(self, *accounts: Account) -> None:
        """Lock (and re-read) the posting's accounts in id order; balances are now current."""
        ids = sorted({a.id for a in accounts})
        self.db.execute(select(Account).where(Account.id.in_(ids)).order_by(Account.id)
                        .with_for_update().execution_options(populate_existing=True)).all()

    def _check_rules(self, customer_id: int, card: Card, account: Account, amount: Decimal,
                     now: datetime) -> None:
        if card.status != "active" or account.status != "active":
            raise refuse("card_frozen", f"尾号{card.tail}的卡已挂失或冻结，暂不能转出")
        if amount > self.limits.single:
            raise refuse("over_single_limit", f"单笔转账限额为 {format_amount(self.limits.single)}")
        used = self._transferred_today(customer_id, now)
        if used + amount > self.limits.daily:
            left = max(self.limits.daily - used, Decimal("0.00"))
            raise refuse("over_daily_limit", f"超出每日转账限额 {format_amount(self.limits.daily)}，"
                                             f"今日剩余额度 {format_amount(left)}")
        if amount > account.balance:
            raise refuse("insufficient_funds", f"余额不足，可用余额 {format_amount(account.balance)}")

    def _transferred_today(self, customer_id: int, now: datetime) -> Decimal:
        """Sum of today's outgoing transfers from the customer's accounts (bank calendar day)."""
        day = now.astimezone(BANK_TZ).date()
        total = self.db.scalar(
            select(type_coerce(func.coalesce(func.sum(LedgerEntry.amount), 0), Money))
            .join(LedgerTransaction, LedgerEntry.transaction_id == LedgerTransaction.id)
            .join(Account, LedgerEntry.account_id == Account.id)
            .where(Account.customer_id == customer_id, LedgerTransaction.kind == "transfer",
                   LedgerEntry.amount < 0, *_between(LedgerEntry.created_at, day, day)))
        return -to_cents(total)

    def _post_once(self, legs: list[Leg], description: str, key: str, now: datetime,
                   stored_receipt) -> TransferReceipt:
        """Post inside a SAVEPOINT so a lost idempotency race leaves the outer transaction usable."""
        try:
            with self.db.begin_nested():
                txn = post(self.db, reference=uuid4().hex, kind="transfer", description=description,
                           legs=legs, at=now, idempotency_key=key)
                # The id is unique, so the reference is too, without a counter to race on.
                txn.reference = f"T{now.astimezone(BANK_TZ):%Y%m%d}-{txn.id:06d}"
                self.db.flush()
        except IntegrityError:
            receipt = stored_receipt()
            if receipt is None:
                raise
            return receipt
        payer, payee = legs
        payee_no = payee.memo if payee.account.customer_id is None else payee.account.account_no
        return TransferReceipt(txn.reference, payee.amount, payer.account.account_no[-4:], payer.counterparty,
                               payee_no[-4:], payer.account.balance, now.astimezone(BANK_TZ), replayed=False)

    def _replay(self, key: str, customer_id: int, amount: Decimal, to_account_no: str) -> TransferReceipt | None:
        """The receipt of the transfer already posted under `key`, or None."""
        txn = self.db.scalar(select(LedgerTransaction).where(LedgerTransaction.idempotency_key == key))
        if txn is None:
            return None
        legs = self.db.execute(select(LedgerEntry, Account).join(Account, LedgerEntry.account_id == Account.id)
                               .where(LedgerEntry.transaction_id == txn.id)).all()
        (debit, payer), = [(e, a) for e, a in legs if e.amount < 0]
        (credit, payee), = [(e, a) for e, a in legs if e.amount > 0]
        payee_no = credit.memo if payee.customer_id is None else payee.account_no
        if (txn.kind, payer.customer_id, -debit.amount, payee_no) != ("transfer", customer_id, amount,
                                                                      to_account_no):
            # Never hand out another transfer's receipt (a bug or a forged retry upstream).
            raise Conflict("该请求编号已用于另一笔交易", "idempotency_conflict")
        return TransferReceipt(txn.reference, credit.amount, payer.account_no[-4:], debit.counterparty,
                               payee_no[-4:], debit.balance_after, txn.created_at.astimezone(BANK_TZ), replayed=True)


# --- helpers -----------------------------------------------------------------------------------

def _between(column, start: date | None, end: date | None) -> list:
    """Conditions for bank-local calendar days start..end inclusive (either may be open)."""
    conditions = []
    if start is not None:
        conditions.append(column >= datetime.combine(start, time(), BANK_TZ))
    if end is not None:
        conditions.append(column < datetime.combine(end + timedelta(days=1), time(), BANK_TZ))
    return conditions


def _history_filters(tails: dict, start: date | None, end: date | None, kinds: tuple[str, ...],
                     direction: str | None) -> list:
    if start is not None and end is not None and start > end:
        raise InvalidInput("开始日期不能晚于结束日期", "invalid_date_range")
    if direction is not None and direction not in DIRECTIONS:
        raise InvalidInput(f"未知的收支方向：{direction}", "invalid_direction")
    where = [LedgerEntry.account_id.in_(list(tails)), *_between(LedgerEntry.created_at, start, end)]
    if kinds:
        where.append(LedgerTransaction.kind.in_(kinds))
    if direction is not None:
        where.append(LedgerEntry.amount > 0 if direction == "income" else LedgerEntry.amount < 0)
    return where


def _totals_query(where: list):
    """Count, income and expense over every matching row, computed by the database."""
    def signed_sum(condition):
        return type_coerce(func.coalesce(func.sum(case((condition, LedgerEntry.amount), else_=0)), 0), Money)

    return (select(func.count(LedgerEntry.id), signed_sum(LedgerEntry.amount > 0),
                   signed_sum(LedgerEntry.amount < 0))
            .select_from(LedgerEntry).join(LedgerTransaction, LedgerEntry.transaction_id == LedgerTransaction.id)
            .where(*where))


def _customer_info(db: Session, row: Customer) -> CustomerInfo:
    personal = customers.personal(db, row)
    return CustomerInfo(row.id, row.name, personal.phone, personal.id_number)


def _account_info(account: Account, card: Card | None, limit: Decimal | None = None) -> AccountInfo:
    limit = limit if limit is not None and account.kind == "credit" else account.credit_limit
    available = account.balance + limit if account.kind == "credit" and limit is not None else account.balance
    return AccountInfo(account.id, account.kind, account.name, card.tail if card else None, account.balance,
                       available, limit, account.status, card.status if card else None)


def _transaction_info(entry: LedgerEntry, kind: str, description: str, tails: dict) -> TransactionInfo:
    return TransactionInfo(entry.id, entry.created_at.astimezone(BANK_TZ), tails.get(entry.account_id), kind,
                           entry.memo or description, entry.counterparty, entry.amount, entry.balance_after)
