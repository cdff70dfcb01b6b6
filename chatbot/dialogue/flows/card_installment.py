"""card.installment: split the current statement or one unbilled purchase into 3/6/12/24 terms.

What can be split comes from the bank (SqlCreditCards.installment_targets): the statement
until its due date (what remains of it, from 500.00), or an unbilled purchase of 500.00 or
more not split yet. The read-back shows the fee rate per term, fee and amount per term and
the total cost; an SMS code confirms it. The plan takes the principal out of what is due now
(the statement's remaining due, or the purchase out of the next statement) and each later
statement bills one term: principal part plus fee.
"""
from __future__ import annotations

import re
from decimal import Decimal

from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.flows.card_bill import installment_what_if
from chatbot.dialogue.flows.credit_common import (card_name, card_slot, chosen_card, chosen_tail, day,
                                                  has_card, stop)
from chatbot.dialogue.forms import Flow, Slot, flow
from chatbot.money import format_amount
from chatbot.nlu.entities.numbers import parse_number
from chatbot.tools.banking import BankingRefusal
from chatbot.tools.credit import INSTALLMENT_RATES, MIN_INSTALLMENT, InstallmentQuote

STATEMENT_WORDS = re.compile(r"账单(?!.{0,6}(?:那笔|消费))|全部欠款")
PURCHASE_WORDS = re.compile(r"那笔|这笔|消费|单笔|一笔")
ORDINAL = re.compile(r"^(?:第)?([一二三四五六七八九1-9])(?:个|项|笔|条)?[。.!！]*$")
BARE_TERMS = re.compile(r"^(?:分)?\s*(\d{1,2}|[一二两三六十]+[二四]?)\s*期?(?:吧)?[。.!！]*$")
CN_ORDINALS = "一二三四五六七八九"


READ_BACK = "_principal"  # the principal read back (excluded from the code's operation: "_" slots)

def _targets(ctx: FlowContext):
    return ctx.bank.installment_targets(ctx.customer_id, chosen_tail(ctx), ctx.now)


def _rates_text() -> str:
    return "、".join(f"{n} 期（每期手续费率 {rate * 100:.2f}%）" for n, rate in INSTALLMENT_RATES.items())


def _target_prompt(ctx: FlowContext) -> str:
    options = _targets(ctx)
    lines = [f"{i}. {text} {format_amount(amount)}" for i, (_, text, amount) in enumerate(options, start=1)]
    return "可以分期的有：\n" + "\n".join(lines) + "\n请问分期哪一项？回复序号即可。"


def _extract_target(ctx: FlowContext):
    card = chosen_card(ctx, recent=20)
    for purchase in card.recent:  # a merchant named: that purchase (eligible or not: the validator says)
        if purchase.merchant and purchase.merchant[:2] in ctx.text:
            return f"entry:{purchase.entry_id}"
    amount = ctx.entity("amount")
    if amount is not None:
        for purchase in card.recent:
            if purchase.amount == amount:
                return f"entry:{purchase.entry_id}"
    options = _targets(ctx)
    if STATEMENT_WORDS.search(ctx.text):
        return "statement"
    purchases = [t for t, _, _ in options if t.startswith("entry:")]
    if PURCHASE_WORDS.search(ctx.text) and len(purchases) == 1:
        return purchases[0]
    if ctx.state.asking == "target":
        match = ORDINAL.match(ctx.text)
        if match:
            n = match.group(1)
            index = int(n) - 1 if n.isdigit() else CN_ORDINALS.index(n)
            if 0 <= index < len(options):
                return options[index][0]
    return None


def _validate_target(ctx: FlowContext, target: str) -> str | None:
    if any(t == target for t, _, _ in _targets(ctx)):
        return None
    try:
        ctx.bank.quote_installment(ctx.customer_id, chosen_tail(ctx), target, 3, ctx.now)
    except BankingRefusal as refusal:
        others = _targets(ctx)
        hint = "请从可分期的项目中选择：" + "；".join(f"{text} {format_amount(a)}" for _, text, a in others) \
            if others else "目前没有其他可分期的项目。"
        return f"{refusal.message}。{hint}"
    return None


def _terms_prompt(ctx: FlowContext) -> str:
    """The terms question names what is being split ("可分期的是 11-23 京东商城消费 2,399.00 元"):
    the flow picks the only eligible item by itself, so the customer may not know which it is."""
    options = _targets(ctx)
    chosen = next(((text, amount) for t, text, amount in options if t == ctx.state.slots.get("target")), None)
    what = ""
    if chosen is not None:
        lead = "可分期的是 " if len(options) == 1 else "分期项目："
        what = f"{lead}{chosen[0]} {format_amount(chosen[1])}，"
    return f"{what}请问分几期？可选 {_rates_text()}。"


def _extract_terms(ctx: FlowContext):
    months = ctx.entity("term_months")
    if months is None and ctx.state.asking == "terms":
        bare = BARE_TERMS.match(ctx.text)
        if bare:
            value = parse_number(bare.group(1))
            months = int(value) if value is not None else None
    return int(months) if months is not None else None


def _validate_terms(ctx: FlowContext, months: int) -> str | None:
    if months in INSTALLMENT_RATES:
        return None
    return f"分期期数可选 {'、'.join(str(n) for n in INSTALLMENT_RATES)} 期，请重新选择期数。"


def quote(ctx: FlowContext) -> InstallmentQuote:
    slots = ctx.state.slots
    return ctx.bank.quote_installment(ctx.customer_id, chosen_tail(ctx), slots["target"], int(slots["terms"]), ctx.now)


@flow
class CardInstallmentFlow(Flow):
    name = "card.installment"
    title = "分期"
    confirm = needs_code = high_risk = True
    slots = (
        card_slot(),
        Slot("target", _target_prompt, _extract_target, _validate_target, label="分期项目",
             words="账单|消费|那笔|项目"),
        Slot("terms", _terms_prompt, _extract_terms, _validate_terms,
             phrase="分{}期", label="期数", words="期数|几期|分.{0,2}期", reads_bare=True),
    )

    def on_start(self, ctx: FlowContext) -> bool:
        if not has_card(ctx):
            return False
        card = chosen_card(ctx, recent=0)
        if card.frozen:
            stop(ctx, f"{card_name(card.card_tail)} 已挂失或冻结，暂不能办理分期。如卡片已找回，可回复“解挂”后再办理。",
                 "card_frozen")
            return False
        options = _targets(ctx)
        if not options:
            stop(ctx, f"{card_name(card.card_tail)} 目前没有可分期的账单或消费：账单分期需在到期还款日前、"
                      f"剩余应还满 {format_amount(MIN_INSTALLMENT)}；单笔分期需是未出账、"
                      f"满 {format_amount(MIN_INSTALLMENT)}的消费。", "not_installable")
            return False
        if len(options) == 1 and _extract_target(ctx) is None:
            ctx.state.slots["target"] = options[0][0]
        return True

    def takes_offer(self, ctx: FlowContext) -> bool:
        """"分12期每个月还多少" right after 分期 was offered ("京东那笔能分期吗" answered): the
        terms of this installment (the offer's request says what), not a loan's plan."""
        return installment_what_if(ctx)

    def summary(self, ctx: FlowContext) -> str:
        q = quote(ctx)
        ctx.state.slots[READ_BACK] = str(q.principal)  # what "确认" and the code agree to
        last = f"（末期本金 {format_amount(q.last_principal)}）" if q.last_principal != q.principal_per_term else ""
        after = ""
        if q.target == "statement":
            statement = chosen_card(ctx, recent=0).statement
            after = f"\n分期后本期应还 {format_amount(statement.remaining - q.principal)}。"
        return ("好的，请核对分期信息：\n"
                f"分期项目：{q.description} {format_amount(q.principal)}\n"
                f"期数：{q.terms} 期，每期手续费率 {q.fee_rate * 100:.2f}%\n"
                f"每期应还：{format_amount(q.per_term)}（本金 {format_amount(q.principal_per_term)} + "
                f"手续费 {format_amount(q.fee_per_term)}）{last}\n"
                f"手续费合计 {format_amount(q.total_fee)}，总计还款 {format_amount(q.total)}\n"
                f"首期计入 {day(q.first_statement)}的账单。{after}\n"
                "确认分期请回复“确认”，如需修改请直接告诉我。")

    def otp_use(self, ctx: FlowContext) -> str:
        q = quote(ctx)
        return f"将{q.description} {format_amount(q.principal)}分 {q.terms} 期"

    def cancelled(self, ctx: FlowContext) -> str:
        return "好的，先不办理分期了。还有什么可以帮您？"

    def execute(self, ctx: FlowContext) -> None:
        slots = ctx.state.slots
        try:
            receipt = ctx.bank.create_installment(
                ctx.customer_id, chosen_tail(ctx), slots["target"], int(slots["terms"]), f"flow:{ctx.state.flow_id}",
                ctx.now, expected_principal=Decimal(slots[READ_BACK]) if READ_BACK in slots else None)
        except BankingRefusal as refusal:
            ctx.say(f"分期未成功：{refusal.message}。")
            ctx.outcome = "refused"
            ctx.step("refused", code=refusal.code)
        else:
            q = receipt.quote
            if q.target == "statement":
                now_due = f"本期账单剩余应还 {format_amount(receipt.statement_remaining or 0)}。"
            else:
                now_due = "这笔消费不再一次性计入账单。"
            ctx.say(f"分期成功：{q.description} {format_amount(q.principal)} 已分 {q.terms} 期，"
                    f"每期 {format_amount(q.per_term)}，首期计入 {day(q.first_statement)}的账单。\n{now_due}")
            ctx.outcome = "completed"
            ctx.step("executed", flow=self.name, plan=receipt.plan_id, replayed=receipt.replayed)
        ctx.state.end_flow()
