"""card.bill: the current statement (amount, minimum, due date, days left), unbilled spending and
the last purchases; "上期账单", a month by name ("10月账单") or counted back from this one
("上个月", "上上个月", "前两个月的账单") for an earlier statement, picked by its statement
date's month. "导出…账单" gives the download links of that statement's period instead.

The bill keeps its context (`state.context`, flow `card.bill`: the card, the statement and its
period), so right after it (`is_follow_up`, asked by the policy before the other follow-ups):
"导出" / "更多" continue with the statement's transactions, "那上个月的呢" is another statement,
and "分12期每个月还多少" is the card's installment (the statement just shown), not a loan.
"""
from __future__ import annotations

import calendar
import re
import uuid
from datetime import MAXYEAR, MINYEAR, date

from chatbot.dialogue import rich
from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.flows.credit_common import card_name, card_slot, chosen_tail, day, has_card
from chatbot.dialogue.flows import transactions
from chatbot.dialogue.flows.transactions import EXPORT, MORE, TransactionsFlow
from chatbot.dialogue.forms import FLOWS, Flow, flow
from chatbot.messages import choice
from chatbot.money import format_amount
from chatbot.nlu.entities.numbers import parse_number
from chatbot.tools.credit import StatementInfo

PREVIOUS = re.compile(r"上期|上一期|上次的?账单")
# A month counted back from this one: 2 for "上上个月" / "前两个月的账单", 1 for "上个月", 0 for "本月".
MONTHS_BACK = re.compile(r"(上上个?月|大上个?月|前两个?月|前2个月|上两个?月)|(上个?月)|(本月|这个月|当月)")
NEXT = re.compile(r"下个?月|下一?期|下次的?账单")
MONTH_SPAN = 31
# A month as named ("明年1月", "2027年一月", "13月"), not a day of it ("11月19日" is the date entity's).
NUMERAL = "零〇一二两三四五六七八九十"
MONTH = re.compile(rf"(?:(\d{{4}})年|(今年|去年|前年|明年|后年))?的?\s*(?<![\d{NUMERAL}])(\d{{1,2}}|[{NUMERAL}]{{1,3}})\s*月份?"
                   rf"(?!\s*[\d{NUMERAL}]+\s*[日号])")
YEARS = {"今年": 0, "去年": -1, "前年": -2, "明年": 1, "后年": 2}


def _named_month(ctx: FlowContext) -> tuple[int | None, int] | None:
    """(year or None when not said, month number as said) of a month the message names."""
    match = MONTH.search(ctx.text)
    if match is None:
        return None
    number = parse_number(match.group(3))
    if number is None or number != int(number):
        return None
    year = int(match.group(1)) if match.group(1) else (
        ctx.today.year + YEARS[match.group(2)] if match.group(2) else None)
    return year, int(number)


def _not_out_yet(ctx: FlowContext, what: str) -> str:
    card = ctx.bank.credit_card(ctx.customer_id, chosen_tail(ctx), ctx.now, recent=0)
    upcoming = card.next_statement_date
    return (f"{what}的账单还没有出：下一期账单 {upcoming.year}年{day(upcoming)}出账。"
            "目前可查询本期账单和未出账的消费，回复“账单”即可。")


def _whole_month(year: int, month: int) -> dict:
    return {"start": date(year, month, 1), "end": date(year, month, calendar.monthrange(year, month)[1])}


def _pick(ctx: FlowContext, statements: list[StatementInfo]) -> tuple[StatementInfo | None, str | None]:
    """(the statement asked for, None) or (None, why none matches)."""
    if not statements:
        return None, "这张卡还没有出过账单。"
    period = ctx.entity("date_range")
    back = MONTHS_BACK.search(ctx.text)
    if back is not None:  # by the statement date's month, as "10月账单" is
        month = ctx.today.month - (2 if back.group(1) else 1 if back.group(2) else 0)
        year = ctx.today.year + (month - 1) // 12
        period = _whole_month(year, (month - 1) % 12 + 1)
    elif PREVIOUS.search(ctx.text):
        if len(statements) > 1:
            return statements[1], None
        return None, "这张卡只出过一期账单。"
    named = _named_month(ctx)
    if named is not None and not 1 <= named[1] <= 12:
        return None, f"没有{named[1]}月这个月份，请告诉我要查哪个月的账单，例如“10月账单”。"
    if named is not None and named[0] is not None and not MINYEAR <= named[0] <= MAXYEAR:  # "0000年1月"
        return None, "没有这个年份的账单，请告诉我要查哪个月的账单，例如“10月账单”。"
    if back is None and named is not None and (named[0] is not None or named[1] > ctx.today.month):
        # "明年1月": the year as said (the date entity may drop it); "12月" said in November is
        # this year's coming statement, not last year's (which the date entity would pick).
        period = _whole_month(named[0] or ctx.today.year, named[1])
    elif back is None and NEXT.search(ctx.text) and period is None:
        return None, _not_out_yet(ctx, "下个月")
    if period and (period["end"] - period["start"]).days <= MONTH_SPAN:
        for statement in statements:
            if period["start"] <= statement.statement_date <= period["end"]:
                return statement, None
        label = f"{period['start'].year}年{period['start'].month}月"
        if period["start"] > statements[0].statement_date:  # a later month: its statement is not out yet
            return None, _not_out_yet(ctx, label)
        months = "、".join(f"{s.statement_date.year}年{s.statement_date.month}月" for s in statements[:6])
        return None, f"没有找到{label}的账单。可查询的账单：{months}。"
    return statements[0], None


def _current(ctx: FlowContext, tail: str) -> str:
    card = ctx.bank.credit_card(ctx.customer_id, tail, ctx.now, recent=5)
    s = card.statement
    lines = [f"{card_name(tail)} 本期账单（{day(s.statement_date)}出账）："]
    if s.remaining == 0:
        lines.append(_settled(card, s))
    else:
        minimum = f"最低还款 {format_amount(s.minimum_remaining)}" if s.minimum_remaining else "最低还款已还足"
        lines.append(f"本期应还 {format_amount(s.remaining)}，{minimum}")
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
    if card.recent and card.unbilled:
        lines.append(f"未出账消费 {format_amount(card.unbilled)}，最近几笔：")
        lines += [f"{p.at:%m-%d} {p.merchant} {format_amount(p.amount)}" + ("（已分期）" if p.installed else "")
                  for p in card.recent]
    elif card.recent:  # spent since the statement, but repaid early (or split): nothing of it is owed
        lines.append("暂无未出账待还款（本期出账后的消费已提前还款" + ("或分期" if card.installments_outstanding else "")
                     + "）。")
    else:
        lines.append("暂无未出账消费。")
    if card.overpaid:
        lines.append(f"溢缴款 {format_amount(card.overpaid)}（多还的款项，会先抵扣以后的消费）。")
    lines.append(f"可用额度 {format_amount(card.available)}。")
    hints = ["“还款”还信用卡"] if s.remaining else []
    hints += ["“分期”办理分期", "“导出”下载明细"]
    lines.append("可回复" + "、".join(hints) + "。")
    rows = [("本期应还", format_amount(s.remaining))]
    if s.remaining:
        rows += [("最低还款", format_amount(s.minimum_remaining)), ("到期还款日", day(s.due_date))]
    if card.unbilled:
        rows.append(("未出账消费", format_amount(card.unbilled)))
    rows.append(("可用额度", format_amount(card.available)))
    buttons = [choice("还款")] if s.remaining else []
    buttons += [choice("分期"), choice("导出")]
    return rich.card("\n".join(lines), f"{card_name(tail)} 本期账单", rows, buttons)


def _settled(card, s: StatementInfo) -> str:
    """Nothing left to pay on the statement: repaid, split into installments, or both."""
    if not s.installed:
        return f"账单金额 {format_amount(s.new_balance)}，" + ("已还清，无需还款。" if s.new_balance else "无需还款。")
    parts = [f"账单金额 {format_amount(s.new_balance)}"]
    if s.paid:
        parts.append(f"已还 {format_amount(s.paid)}")
    plan = next((p for p in card.plans if p.statement_id == s.id), None)
    split = f"其余 {format_amount(s.installed)}" if s.paid else ""
    if plan is not None:
        parts.append(f"{split}已分 {plan.terms} 期，每期 {format_amount(plan.principal_per_term + plan.fee_per_term)}"
                     f"（含手续费 {format_amount(plan.fee_per_term)}）计入以后的账单")
    else:
        parts.append(f"{split}已分期，按期计入以后的账单")
    return "，".join(parts) + "，本期无需再还款。"


def _past(s: StatementInfo, tail: str) -> str:
    head = (f"{card_name(tail)} {s.statement_date.year}年{day(s.statement_date)}账单"
            f"（{s.period_start:%m-%d} 至 {s.statement_date:%m-%d}）：\n"
            f"账单金额 {format_amount(s.new_balance)}，到期还款日 {day(s.due_date)}，")
    if s.remaining == 0:
        state = "已还清。" if s.new_balance else "无需还款。"
    else:
        state = f"未还 {format_amount(s.remaining)}，已计入之后的账单。"
    return head + state + "\n回复“导出”可下载该期明细。"


def _query(statement: StatementInfo, tail: str) -> dict:
    """The statement's transactions as a transaction query: its period, on its card."""
    return {"start": statement.period_start.isoformat(), "end": statement.statement_date.isoformat(),
            "card_tail": tail, "offset": 0, "total": 1}


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
        if EXPORT.search(ctx.text):  # "导出本期账单", "把上个月账单导出来": that statement's period
            ctx.say(f"{card_name(tail)} {statement.statement_date.year}年{day(statement.statement_date)}账单"
                    f"（{statement.period_start:%m-%d} 至 {statement.statement_date:%m-%d}）的明细。")
            transactions.export_links(ctx, _query(statement, tail), ctx.public_base_url)
        else:
            ctx.say(_current(ctx, tail) if current else _past(statement, tail))
        # Kept for what follows right after (is_follow_up): "导出", "更多", "那上个月的呢", "分12期…".
        ctx.state.context = {"flow": self.name, "slots": {
            **_query(statement, tail), "statement": statement.statement_date.isoformat(), "current": current}}
        ctx.outcome = "completed"
        ctx.step("card_bill", card_tail=tail, statement=statement.statement_date.isoformat(), current=current)


# --- right after a bill ----------------------------------------------------------------------------
STATEMENT_WORDS = re.compile(r"账单|本期|上期")
ELLIPTICAL = re.compile(r"那|呢")
# "分12期每个月还多少", "分6期呢": an installment what-if (no amount, no loan named).
TERMS_WHAT_IF = re.compile(r"(?:\d{1,2}|[一二两三六十]+[二四]?)\s*期")  # not "前两个月": months are no terms
LOAN_WORDS = re.compile(r"贷|借")


def names_statement(ctx: FlowContext) -> bool:
    """The message says which statement ("上个月", "10月", "上期", "本期账单")."""
    return bool(MONTHS_BACK.search(ctx.text) or PREVIOUS.search(ctx.text) or NEXT.search(ctx.text)
                or _named_month(ctx) or ctx.entity("date_range") or STATEMENT_WORDS.search(ctx.text))


def installment_what_if(ctx: FlowContext) -> bool:
    """"分12期每个月还多少" about the card: terms without an amount or a loan named."""
    return bool(TERMS_WHAT_IF.search(ctx.text) and ctx.entity("amount") is None and not LOAN_WORDS.search(ctx.text))


def is_follow_up(ctx: FlowContext) -> bool:
    """Right after a bill: an export, more lines, another statement said short ("那上个月的呢"),
    or an installment what-if. Any time: a statement to export ("把上个月账单导出来"), even right
    after a transaction list (whose own "导出" would export that list)."""
    if EXPORT.search(ctx.text) and "账单" in ctx.text:
        return True
    if ctx.state.context.get("flow") != CardBillFlow.name:
        return False
    if MORE.match(ctx.text) or EXPORT.search(ctx.text) or installment_what_if(ctx):
        return True
    return bool(ELLIPTICAL.search(ctx.text) and len(ctx.text) <= 12
                and (names_statement(ctx) or ctx.entity("txn_type") or ctx.entity("card_tail")))


def _start(ctx: FlowContext, name: str, slots: dict) -> None:
    ctx.state.start_flow(name, uuid.uuid4().hex)
    ctx.state.slots.update(slots)
    ctx.step("flow_started", flow=name, follow_up=True)
    flow_ = FLOWS[name]
    if flow_.on_start(ctx):
        flow_.advance(ctx)


def follow_up(ctx: FlowContext, base_url: str) -> None:
    last = ctx.state.context.get("slots", {}) if ctx.state.context.get("flow") == CardBillFlow.name else {}
    card = {"card_tail": last["card_tail"]} if last.get("card_tail") else {}
    if last and installment_what_if(ctx):
        # The card's installment, explicitly: the statement just shown when it can still be split
        # (else the flow offers what can), the terms said; its read-back is the quote.
        ctx.step("card_installment_what_if", statement=last.get("statement"))
        current = last.get("current") and any(
            t == "statement" for t, _, _ in ctx.bank.installment_targets(ctx.customer_id, last["card_tail"], ctx.now))
        _start(ctx, "card.installment", {**card, **({"target": "statement"} if current else {})})
    elif not last or names_statement(ctx):
        _start(ctx, CardBillFlow.name, card)  # which statement, and the export if asked: the flow reads it
    else:  # "导出", "更多", "那消费的呢": the statement's transactions
        ctx.state.context = {"flow": TransactionsFlow.name, "slots": {
            k: last[k] for k in ("start", "end", "card_tail", "offset", "total")}}
        transactions.follow_up(ctx, base_url)
