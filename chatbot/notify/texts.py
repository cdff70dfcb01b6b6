"""What a notification says: short Simplified Chinese, numbers masked, amounts `2,345.67 元`.

Each builder returns a `Wording`: the text (the transcript line and the WeChat
customer-service message) and, for application stages, the WeChat template kind with its
values in the order of `chatbot.channels.wechat.templates.LAYOUTS` (stored as strings, so a
push after a restart sends exactly what was recorded).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from chatbot.channels.wechat.templates import time_value
from chatbot.money import format_amount
from chatbot.security.masking import mask_card, mask_text

BANK = "【示例银行】"
# Template `phrase` values are at most 5 characters.
STAGE_LABELS = {"submitted": "已提交", "approved": "审核通过", "rejected": "未通过", "mailed": "已寄出",
                "disbursed": "已放款"}


@dataclass(frozen=True)
class Wording:
    text: str
    template: dict | None = None  # {"kind": "card_progress", "values": [...]}


@dataclass(frozen=True)
class ApplicationFacts:
    """An application at the stage it reached, and what the books say about it then."""

    kind: str  # card | loan
    stage: str
    product: str
    reference: str
    at: datetime
    amount: Decimal | None = None  # loans: asked for
    term_months: int | None = None
    reason: str | None = None  # why it was refused
    card_no: str | None = None  # the card made for a card application
    # a disbursed loan
    loan_reference: str | None = None
    principal: Decimal | None = None
    repay_card_no: str | None = None
    first_due: date | None = None
    first_payment: Decimal | None = None


def application(facts: ApplicationFacts) -> Wording:
    builder = {"submitted": _submitted, "approved": _approved, "rejected": _rejected, "mailed": _mailed,
               "disbursed": _disbursed}[facts.stage]
    text, note = builder(facts)
    label = STAGE_LABELS[facts.stage]
    when = time_value(facts.at)
    if facts.kind == "card":
        template = {"kind": "card_progress", "values": [facts.product, label, when, note]}
    else:
        amount = facts.principal if facts.principal is not None else facts.amount
        template = {"kind": "loan_progress",
                    "values": [facts.product, label, f"{amount or Decimal('0.00'):.2f}", when]}
    template["values"] = [mask_text(value) for value in template["values"]]  # stored as sent: masked
    return Wording(mask_text(BANK + text), template)


def _what(facts: ApplicationFacts) -> str:
    """`金卡申请` / `消费贷申请（50,000.00 元，12 期）`."""
    if facts.kind == "loan" and facts.amount is not None:
        term = f"，{facts.term_months} 期" if facts.term_months else ""
        return f"{facts.product}申请（{format_amount(facts.amount)}{term}）"
    return f"{facts.product}申请"


def _submitted(facts: ApplicationFacts) -> tuple[str, str]:
    return f"您的{_what(facts)}已提交（编号 {facts.reference}），审核结果会通知您。", "审核结果会通知您"


def _approved(facts: ApplicationFacts) -> tuple[str, str]:
    if facts.kind == "card":
        return (f"您的{_what(facts)}已审核通过（编号 {facts.reference}），我们将尽快制卡并寄出，寄出后会通知您。",
                "将尽快制卡寄出")
    return (f"您的{_what(facts)}已审核通过（编号 {facts.reference}），放款后会通知您。", "放款后会通知您")


def _rejected(facts: ApplicationFacts) -> tuple[str, str]:
    reason = " ".join((facts.reason or "").split()).rstrip("。")
    because = f"，原因：{reason}" if reason else ""
    return (f"很抱歉，您的{_what(facts)}未通过审核（编号 {facts.reference}）{because}。如有疑问，回复“人工”咨询客服。",
            reason or "如有疑问请咨询客服")


def _mailed(facts: ApplicationFacts) -> tuple[str, str]:
    card = f"（卡号 {mask_card(facts.card_no)}）" if facts.card_no else ""
    return (f"您申请的{facts.product}{card}已寄出（编号 {facts.reference}），收到后回复“激活信用卡”即可激活。",
            "收到后回复激活信用卡")


def _disbursed(facts: ApplicationFacts) -> tuple[str, str]:
    amount = facts.principal if facts.principal is not None else facts.amount
    what = f"您的{facts.product} {format_amount(amount)}" if amount is not None else f"您的{facts.product}"
    into = f"已发放至储蓄卡 {mask_card(facts.repay_card_no)}" if facts.repay_card_no else "已发放"
    ref = f"（贷款编号 {facts.loan_reference}）" if facts.loan_reference else f"（申请编号 {facts.reference}）"
    first = ""
    if facts.first_due is not None and facts.first_payment is not None:
        first = f"首期 {format_amount(facts.first_payment)}将于 {month_day(facts.first_due)}自动扣款，"
    return f"{what}{into}{ref}。{first}回复“还款计划”可查看每期还款。", "回复还款计划可查看"


@dataclass(frozen=True)
class StatementFacts:
    card_no: str | None
    due_date: date
    today: date
    new_balance: Decimal
    minimum_payment: Decimal
    paid: Decimal
    installed: Decimal

    @property
    def still_due(self) -> Decimal:
        return max(self.new_balance - self.paid - self.installed, Decimal("0.00"))


def statement_due(facts: StatementFacts) -> Wording:
    """The reminder of a statement due within days (no template kind fits: a customer-service message)."""
    card = f"信用卡 {mask_card(facts.card_no)} " if facts.card_no else "信用卡"
    untouched = facts.paid == 0 and facts.installed == 0
    owed = f"本期账单 {format_amount(facts.still_due)}" if untouched else f"本期账单尚需还款 {format_amount(facts.still_due)}"
    days = (facts.due_date - facts.today).days
    when = {0: f"今天（{month_day(facts.due_date)}）到期", 1: f"明天（{month_day(facts.due_date)}）到期"}.get(
        days, f"将于 {month_day(facts.due_date)}到期（还有 {days} 天）")
    minimum_left = facts.minimum_payment - facts.paid
    minimum = f"，最低还款 {format_amount(minimum_left)}" if minimum_left > 0 else "，已还满最低还款额"
    return Wording(mask_text(f"{BANK}您的{card}{owed}{when}{minimum}。回复“还信用卡”即可还款。"))


def month_day(day: date) -> str:
    return f"{day.month}月{day.day}日"


@dataclass(frozen=True)
class HoldingFacts:
    product: str
    reference: str
    principal: Decimal
    value: Decimal
    maturity_date: date
    today: date


def holding_maturing(facts: HoldingFacts) -> Wording:
    """The reminder of a wealth holding about to mature (a customer-service message)."""
    days = (facts.maturity_date - facts.today).days
    when = {0: "今天到期", 1: "明天到期"}.get(days, f"将于 {month_day(facts.maturity_date)}到期（还有 {days} 天）")
    return Wording(mask_text(f"{BANK}您持有的{facts.product}（{facts.reference}，本金 {format_amount(facts.principal)}，"
                             f"最新市值 {format_amount(facts.value)}）{when}，到期资金将按产品规则返还至您的付款卡。"
                             "回复“我的理财”查看持仓。"))
