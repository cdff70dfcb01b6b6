"""account.transactions: details by date range, card and type, a page at a time, export.

Follow-ups work on the last query kept in the dialogue context: "更多" shows the next page,
"导出" gives expiring download links, and "那上个月的呢？" re-runs it for another period.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

from chatbot.dialogue import rich
from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.forms import Flow, flow
from chatbot.money import format_amount
from chatbot.tools.export import ExportRequest

PAGE_SIZE = 5
DEFAULT_DAYS = 30
EXPORT_MINUTES = 30
MORE = re.compile(r"^(更多|下一页|再来|还有吗|还有呢|继续|more|next)[。!.！?？]*$")
EXPORT = re.compile(r"导出|下载|excel|xlsx|csv|表格")
# txn_type entity -> (ledger kinds, direction)
TXN_FILTERS = {
    "income": ((), "income"), "expense": ((), "expense"), "salary": (("salary",), None),
    "transfer": (("transfer",), None), "cash": (("cash",), None), "repayment": (("repayment",), None),
    "fee": (("fee",), None), "interest": (("interest",), None),
}
TXN_NAMES = {"salary": "工资", "consumption": "消费", "transfer": "转账", "cash": "取现", "fee": "手续费",
             "interest": "利息", "repayment": "还款", "opening": "开户"}


def query_from(ctx: FlowContext, base: dict | None = None) -> dict:
    """The query this message asks for, on top of an earlier one for follow-ups."""
    query = dict(base or {})
    period = ctx.entity("date_range")
    if period:
        query["start"], query["end"] = period["start"].isoformat(), period["end"].isoformat()
    query.setdefault("start", (ctx.today - timedelta(days=DEFAULT_DAYS - 1)).isoformat())
    query.setdefault("end", ctx.today.isoformat())
    if ctx.entity("card_tail"):
        query["card_tail"] = ctx.entity("card_tail")
    if ctx.entity("txn_type"):
        query["txn_type"] = ctx.entity("txn_type")
    query["offset"] = 0
    return query


def show_page(ctx: FlowContext, query: dict) -> None:
    """One page of lines; the totals only on the first page (`更多` continues the list)."""
    kinds, direction = TXN_FILTERS.get(query.get("txn_type"), ((), None))
    page = ctx.bank.transactions(
        ctx.customer_id, start=date.fromisoformat(query["start"]), end=date.fromisoformat(query["end"]),
        card_tail=query.get("card_tail"), kinds=kinds, direction=direction,
        offset=query["offset"], limit=PAGE_SIZE)
    where = f"尾号{query['card_tail']}" if query.get("card_tail") else "全部账户"
    head = f"{query['start']} 至 {query['end']}，{where}"
    if page.total_count == 0:
        ctx.say(f"{head}没有符合条件的交易。")
    else:
        cards = {} if query.get("card_tail") else _card_names(ctx)
        lines = [_line(ctx, t, cards) for t in page.items]
        first, shown = query["offset"] + 1, query["offset"] + len(page.items)
        if query["offset"] == 0:
            summary = (f"{head}共 {page.total_count} 笔，收入 {format_amount(page.income)}，"
                       f"支出 {format_amount(page.expense)}。")
        else:
            summary = f"{head}，第 {first}–{shown} 笔（共 {page.total_count} 笔）："
        ctx.say(summary + "\n" + "\n".join(lines) + _footer(shown, page.total_count))
    query["offset"] += len(page.items)
    query["total"] = page.total_count
    ctx.step("transactions", start=query["start"], end=query["end"], offset=query["offset"], total=page.total_count)
    ctx.state.context = {"flow": TransactionsFlow.name, "slots": query}


def _card_names(ctx: FlowContext) -> dict[str, str]:
    """{card tail: "储蓄卡 **** 1234"} when the customer has more than one card, else {}
    (with one card every line is on it; the lines need not say so)."""
    named = {a.card_tail: f"{a.name} **** {a.card_tail}" for a in ctx.bank.accounts(ctx.customer_id, ctx.now) if a.card_tail}
    return named if len(named) > 1 else {}


def _line(ctx: FlowContext, txn, cards: dict[str, str]) -> str:
    """`10-25 储蓄卡 **** 1234 支出 2,961.47 元 信用卡还款`: date, card, direction, amount, what."""
    card = cards.get(txn.account_tail or "")
    direction = "收入" if txn.amount > 0 else "支出"
    parts = [f"{txn.at.astimezone(ctx.now.tzinfo):%m-%d}", card, direction, format_amount(abs(txn.amount)), _label(txn)]
    return " ".join(p for p in parts if p)


def _label(txn) -> str:
    return txn.counterparty or txn.description or TXN_NAMES.get(txn.kind, txn.kind)


def _footer(shown: int, total: int) -> str:
    more = f"\n已显示 {shown}/{total} 笔，回复“更多”查看下一页。" if shown < total else ""
    return more + "\n回复“导出”获取 Excel/CSV 明细。"


def export_links(ctx: FlowContext, query: dict, base_url: str) -> None:
    expires = ctx.now + timedelta(minutes=EXPORT_MINUTES)
    payload = {k: query.get(k) for k in ("start", "end", "card_tail", "txn_type")}
    payload["customer_id"] = ctx.customer_id
    # Sealed, single-use links: nothing internal is readable in them (chatbot/tools/export.py).
    links = {fmt: f"{base_url}/v1/exports/"
                  f"{ExportRequest.from_payload({**payload, 'format': fmt}).to_token(ctx.secret_key, expires)}"
             for fmt in ("xlsx", "csv")}
    ctx.say(rich.links(f"明细下载链接（{EXPORT_MINUTES} 分钟内有效，每个链接可下载一次，请勿转发他人）：",
                       [("Excel", links["xlsx"]), ("CSV", links["csv"])]))
    ctx.step("export_links", expires_at=expires.isoformat())


def is_follow_up(ctx: FlowContext) -> bool:
    """A short message that continues the last transaction query."""
    if ctx.state.context.get("flow") != TransactionsFlow.name:
        return False
    if MORE.match(ctx.text) or EXPORT.search(ctx.text):
        return True
    elliptical = re.search(r"(那|呢|的呢)", ctx.text) and len(ctx.text) <= 12
    return bool(elliptical and (ctx.entity("date_range") or ctx.entity("txn_type") or ctx.entity("card_tail")))


def follow_up(ctx: FlowContext, base_url: str) -> None:
    query = dict(ctx.state.context["slots"])
    if EXPORT.search(ctx.text):
        export_links(ctx, query, base_url)
    elif MORE.match(ctx.text):
        if query["offset"] >= query.get("total", 0):
            ctx.say("这些就是全部交易了。")
        else:
            show_page(ctx, query)
    else:
        keep = {k: v for k, v in query.items() if k in ("card_tail", "txn_type")}
        show_page(ctx, query_from(ctx, keep))
    ctx.outcome = "completed"


@flow
class TransactionsFlow(Flow):
    name = "account.transactions"
    title = "交易明细查询"

    def execute(self, ctx: FlowContext) -> None:
        show_page(ctx, query_from(ctx))  # keeps the query in the context for follow-ups
        ctx.outcome = "completed"
        ctx.state.end_flow(keep_context=False)
