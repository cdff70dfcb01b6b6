"""card.bill: the current statement (amount, minimum, due date, days left), unbilled spending and
the last purchases; "上期账单" or a month by name ("10月账单") for an earlier statement.

The statement's transactions are kept as the last transaction query (the context of
`account.transactions`), so "导出" gives the download links and "更多" lists them.
"""
from __future__ import annotations

import re

from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.flows.credit_common import card_name, card_slot, chosen_tail, day, has_card
from chatbot.dialogue.flows.transactions import TransactionsFlow
from chatbot.dialogue.forms import Flow, flow
from chatbot.money import format_amount
from chatbot.tools.credit import StatementInfo

PREVIOUS = re.compile(r"上期|上一期|上个?月的?账单|上次账单|上月")
MONTH_SPAN = 31


def _pick(ctx: FlowContext, statements: list[StatementInfo]) -> tuple[StatementInfo | None, str | None]:
    """(the statement asked for, None) or (None, why none matches)."""
    if not statements:
        return None, "这张卡还没有出过账单。"
    period = ctx.entity("date_range")
    if PREVIOUS.search(ctx.text):
        if len(statements) > 1:
            return statements[1], None
        return None, "这张卡只出过一期账单。"
    if period and (period["end"] - period["start"]).days <= MONTH_SPAN:
        for statement in statements:
            if period["start"] <= statement.statement_date <= period["end"]:
                return statement, None
        months = "、".join(f"{s.statement_date.year}年{s.statement_date.month}月" for s in statements[:6])
        return None, f"没有找到{period['start'].year}年{period['start'].month}月的账单。可查询的账单：{months}。"
    return statements[0], None


def _current(ctx: FlowContext, tail: str) -> str:
    card = ctx.bank.credit_card(ctx.customer_id, tail, ctx.now, recent=5)
    s = card.statement
    lines = [f"{card_name(tail)} 本期账单（{day(s.statement_date)}出账）："]
    if s.remaining == 0:
        lines.append(f"账单金额 {format_amount(s.new_balance)}，已还清，无需还款。")
    else:
        lines.append(f"本期应还 {format_amount(s.remaining)}，最低还款 {format_amount(s.minimum_remaining)}")
        left = (s.due_date - ctx.today).days
        if left >= 0:
            lines.append(f"到期还款日 {day(s.due_date)}，" + (f"还有 {left} 天" if left else "就是今天"))
        else:
            lines.append(f"到期还款日 {day(s.due_date)}，已逾期 {-left} 天，请尽快还款")
        done = []
        if s.paid:
            done.append(f"已还 {format_amount(s.paid)}")
        if s.installed:
            done.append(f"已分期 {format_amount(s.installed)}")
        if done:
            lines.append(f"（账单金额 {format_amount(s.new_balance)}，{'，'.join(done)}）")
    if card.installments_outstanding:
        lines.append(f"分期待还本金 {format_amount(card.installments_outstanding)}，按期计入以后的账单")
    if card.recent:
        lines.append(f"未出账消费 {format_amount(card.unbilled)}，最近几笔：")
        lines += [f"{p.at:%m-%d} {p.merchant} {format_amount(p.amount)}" + ("（已分期）" if p.installed else "")
                  for p in card.recent]
    else:
        lines.append("暂无未出账消费。")
    lines.append(f"可用额度 {format_amount(card.available)}。")
    hints = ["“还款”还信用卡"] if s.remaining else []
    hints += ["“分期”办理分期", "“导出”下载明细"]
    lines.append("可回复" + "、".join(hints) + "。")
    return "\n".join(lines)


def _past(s: StatementInfo, tail: str) -> str:
    head = (f"{card_name(tail)} {s.statement_date.year}年{day(s.statement_date)}账单"
            f"（{s.period_start:%m-%d} 至 {s.statement_date:%m-%d}）：\n"
            f"账单金额 {format_amount(s.new_balance)}，到期还款日 {day(s.due_date)}，")
    if s.remaining == 0:
        state = "已还清。" if s.new_balance else "无需还款。"
    else:
        state = f"未还 {format_amount(s.remaining)}，已计入之后的账单。"
    return head + state + "\n回复“导出”可下载该期明细。"


@flow
class CardBillFlow(Flow):
    name = "card.bill"
    title = "账单查询"
    slots = (card_slot(),)

    def on_start(self, ctx: FlowContext) -> bool:
        return has_card(ctx)

    def execute(self, ctx: FlowContext) -> None:
        tail = chosen_tail(ctx)
        statements = ctx.bank.card_statements(ctx.customer_id, tail, ctx.now)
        statement, missing = _pick(ctx, statements)
        ctx.state.end_flow(keep_context=False)
        if statement is None:
            ctx.say(missing)
            ctx.outcome = "answered"
            ctx.step("card_bill", card_tail=tail, found=False)
            return
        current = statement.id == statements[0].id
        ctx.say(_current(ctx, tail) if current else _past(statement, tail))
        end = ctx.today if current else statement.statement_date
        # The statement's transactions are the last query: "导出" / "更多" continue it.
        ctx.state.context = {"flow": TransactionsFlow.name, "slots": {
            "start": statement.period_start.isoformat(), "end": max(end, statement.period_start).isoformat(),
            "card_tail": tail, "offset": 0, "total": 1}}
        ctx.outcome = "completed"
        ctx.step("card_bill", card_tail=tail, statement=statement.statement_date.isoformat(), current=current)
