"""`Wealth` (chatbot/tools/wealth.py) over the demo bank's tables; a mixin of `SqlBank`.

A purchase runs inside the turn's transaction: the savings debit, the credit to the bank's
wealth clearing account (BANK-WEALTH, ledger kind `wealth_purchase`) and the holding commit
together or not at all. The flow run's key makes it idempotent: a retried code message finds
the holding of its key and moves nothing. On PostgreSQL the customer row is locked first (one
customer's purchases queue), then the accounts in id order.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from chatbot.clock import BANK_TZ
from chatbot.errors import Conflict, InvalidInput
from chatbot.money import format_amount
from chatbot.nlu.entities.periods import add_months
from chatbot.security.masking import mask_card
from chatbot.storage.ledger import Leg, internal_account, post
from chatbot.storage.models import Account, Card, RiskAssessment, WealthHolding, WealthProduct
from chatbot.tools.checks import checked_key, positive_amount, refuse
from chatbot.tools.wealth import AssessmentInfo, HoldingInfo, WealthOffer, WealthReceipt

WEALTH_CLEARING = "BANK-WEALTH"
PURCHASE_KIND = "wealth_purchase"
ASSESSMENT_MONTHS = 12
UNIT = Decimal("0.0001")
LEVELS = ("C1", "C2", "C3", "C4", "C5")


class SqlWealth:
    """Wealth products, assessments, purchases and holdings (needs `self.db`, `_customer_row`,
    `_lock_accounts` of SqlBank)."""

    def wealth_offers(self) -> list[WealthOffer]:
        return [_offer(row) for row in self.db.scalars(select(WealthProduct).order_by(WealthProduct.code))]

    # --- risk assessments ---------------------------------------------------------------------

    def risk_assessment(self, customer_id: int) -> AssessmentInfo | None:
        row = self.db.scalar(select(RiskAssessment).where(RiskAssessment.customer_id == customer_id)
                             .order_by(RiskAssessment.assessed_at.desc(), RiskAssessment.id.desc()).limit(1))
        return _assessment(row) if row is not None else None

    def record_assessment(self, customer_id: int, answers: dict, score: int, level: str,
                          now: datetime) -> AssessmentInfo:
        if level not in LEVELS:
            raise InvalidInput("风险等级无效", "invalid_level")
        self._customer_row(customer_id)
        today = now.astimezone(BANK_TZ).date()
        row = RiskAssessment(customer_id=customer_id, answers=answers, score=score, level=level,
                             assessed_at=now, expires_on=add_months(today, ASSESSMENT_MONTHS))
        self.db.add(row)
        self.db.flush()
        return _assessment(row)

    # --- purchases ----------------------------------------------------------------------------

    def check_wealth_purchase(self, customer_id: int, code: str, amount: Decimal, now: datetime) -> str:
        amount = positive_amount(amount, "购买金额")
        product = self._wealth_product(code)
        card, account = self._wealth_payer(customer_id)
        self._check_wealth(product, card, account, amount)
        return card.tail

    def buy_wealth(self, customer_id: int, code: str, amount: Decimal, description: str,
                   idempotency_key: str, now: datetime, from_tail: str | None = None) -> WealthReceipt:
        """Buy once per idempotency key; a repeated key returns the first receipt. `from_tail` is
        the savings card read back to the customer: only it is debited (refused if unusable)."""
        amount = positive_amount(amount, "购买金额")
        checked_key(idempotency_key)
        replay = self._wealth_replay(idempotency_key, customer_id, code, amount)
        if replay is not None:
            return replay
        self._customer_row(customer_id, lock=True)  # one customer's purchases queue here
        replay = self._wealth_replay(idempotency_key, customer_id, code, amount)
        if replay is not None:
            return replay
        product = self._wealth_product(code, lock=True)
        card, payer = self._card(customer_id, from_tail) if from_tail else self._wealth_payer(customer_id)
        if payer.kind != "savings":
            raise refuse("card_not_found", f"尾号{card.tail}的卡不是储蓄卡，请使用储蓄卡购买理财")
        clearing = internal_account(self.db, WEALTH_CLEARING)
        self._lock_accounts(payer, clearing)
        self._check_wealth(product, card, payer, amount)
        bank_now = now.astimezone(BANK_TZ)
        units = (amount / (product.nav or Decimal("1"))).quantize(UNIT, rounding=ROUND_HALF_UP)
        maturity = bank_now.date() + timedelta(days=product.term_days) if product.term_days else None
        try:
            with self.db.begin_nested():
                txn = post(self.db, reference=uuid4().hex, kind=PURCHASE_KIND, description=description[:128],
                           legs=[Leg(payer, -amount, description[:64], "理财购买"),
                                 Leg(clearing, amount, None, f"储蓄卡 {mask_card(card.tail)}")],
                           at=now, idempotency_key=f"wealth:{idempotency_key}")
                holding = WealthHolding(reference=uuid4().hex[:24], customer_id=customer_id, product_code=code,
                                        account_id=payer.id, principal=amount, units=units, value=amount,
                                        valued_on=bank_now.date(), maturity_date=maturity, status="holding",
                                        idempotency_key=idempotency_key, bought_at=now)
                self.db.add(holding)
                self.db.flush()
                holding.reference = f"WM{bank_now:%Y%m%d}-{holding.id:06d}"
                txn.reference = holding.reference
                self.db.flush()
        except IntegrityError:
            replay = self._wealth_replay(idempotency_key, customer_id, code, amount)
            if replay is None:
                raise
            return replay
        return WealthReceipt(holding.reference, code, amount, units, card.tail, payer.balance, maturity, now, False)

    def wealth_holdings(self, customer_id: int) -> list[HoldingInfo]:
        rows = self.db.scalars(select(WealthHolding).where(WealthHolding.customer_id == customer_id)
                               .order_by(WealthHolding.bought_at, WealthHolding.id))
        return [HoldingInfo(r.reference, r.product_code, r.principal, r.units, r.value, r.valued_on,
                            r.maturity_date, r.status, r.bought_at) for r in rows]

    # --- helpers ------------------------------------------------------------------------------

    def _wealth_product(self, code: str, lock: bool = False) -> WealthProduct:
        stmt = select(WealthProduct).where(WealthProduct.code == code)
        product = self.db.scalar(stmt.with_for_update(read=True) if lock else stmt)
        if product is None:
            raise refuse("product_not_found", "没有这款理财产品")
        return product

    def _wealth_payer(self, customer_id: int) -> tuple[Card, Account]:
        """The customer's savings card that pays: the first active one, else the first one."""
        rows = self.db.execute(select(Card, Account).join(Account, Card.account_id == Account.id)
                               .where(Account.customer_id == customer_id, Account.kind == "savings")
                               .order_by(Account.id, Card.id.desc())).all()
        newest: dict[int, tuple[Card, Account]] = {}
        for card, account in rows:
            newest.setdefault(account.id, (card, account))
        if not newest:
            raise refuse("no_savings", "您名下没有可用于购买理财的储蓄卡")
        pairs = list(newest.values())
        active = [p for p in pairs if p[0].status == "active" and p[1].status == "active"]
        return (active or pairs)[0]

    def _check_wealth(self, product: WealthProduct, card: Card, account: Account, amount: Decimal) -> None:
        if product.status != "on_sale":
            raise refuse("product_paused", "该产品当前暂停申购" if product.status == "paused" else "该产品已停售")
        if card.status != "active" or account.status != "active":
            raise refuse("card_frozen", f"储蓄卡 {mask_card(card.tail)} 已挂失或冻结，暂不能用于购买理财")
        if amount > account.balance:
            raise refuse("insufficient_funds", f"储蓄卡 {mask_card(card.tail)} 余额不足，"
                                                f"可用余额 {format_amount(account.balance)}")

    def _wealth_replay(self, key: str, customer_id: int, code: str, amount: Decimal) -> WealthReceipt | None:
        holding = self.db.scalar(select(WealthHolding).where(WealthHolding.idempotency_key == key))
        if holding is None:
            return None
        if (holding.customer_id, holding.product_code, holding.principal) != (customer_id, code, amount):
            raise Conflict("该请求编号已用于另一笔交易", "idempotency_conflict")
        account = self.db.get(Account, holding.account_id)
        card = self.db.scalar(select(Card).where(Card.account_id == account.id).order_by(Card.id.desc()).limit(1))
        return WealthReceipt(holding.reference, code, holding.principal, holding.units,
                             card.tail if card else account.account_no[-4:], account.balance,
                             holding.maturity_date, holding.bought_at, True)


def _offer(row: WealthProduct) -> WealthOffer:
    return WealthOffer(row.code, row.term_days, row.step_amount, row.nav, row.status)


def _assessment(row: RiskAssessment) -> AssessmentInfo:
    return AssessmentInfo(row.id, row.level, row.score, dict(row.answers or {}), row.assessed_at, row.expires_on)

