"""wealth.holdings: the customer's positions: cost, latest value, return (amount and %),
bought and maturity dates, and the totals. Names come from the knowledge graph."""
from __future__ import annotations

from decimal import Decimal

from chatbot.clock import BANK_TZ

from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.flows.wealth_common import day, views
from chatbot.dialogue.forms import Flow, flow
from chatbot.money import format_amount
from chatbot.wealth.catalogue import named

STATUS = {"holding": "持有中", "matured": "已到期", "redeemed": "已赎回"}


def _signed(amount: Decimal) -> str:
    return ("+" if amount > 0 else "") + format_amount(amount)


def holdings_text(ctx: FlowContext) -> str:
    catalogue = {v.code: v for v in views(ctx)}
    rows = [h for h in ctx.bank.wealth_holdings(ctx.customer_id) if h.status == "holding"]
    asked = named(list(catalogue.values()), ctx.text)
    if asked is not None:
        rows = [h for h in rows if h.product_code == asked.code] or rows
    if not rows:
        ctx.step("wealth_holdings", count=0)
        return "您目前没有持有中的理财产品。可以说“推荐理财”看看适合您的在售产品。"
    lines = [f"您持有 {len(rows)} 笔理财："]
    for i, h in enumerate(rows, 1):
        product = catalogue.get(h.product_code)
        name = product.name if product else h.product_code
        risk = f"（{product.risk_level}）" if product else ""
        if h.maturity_date:
            left = (h.maturity_date - ctx.today).days
            ends = f"到期日 {day(h.maturity_date)}（还有 {left} 天）" if left >= 0 else f"已于 {day(h.maturity_date)} 到期"
        else:
            ends = "无固定期限"
        lines.append(f"{i}. {name}{risk}\n"
                     f"   本金 {format_amount(h.principal)}，市值 {format_amount(h.value)}（{day(h.valued_on)}）\n"
                     f"   收益 {_signed(h.gain)}（{'+' if h.gain_rate > 0 else ''}{h.gain_rate}%），{ends}\n"
                     f"   购买于 {day(h.bought_at.astimezone(BANK_TZ).date())}，交易编号 {h.reference}")
    if len(rows) > 1:
        cost = sum((h.principal for h in rows), Decimal("0.00"))
        value = sum((h.value for h in rows), Decimal("0.00"))
        lines.append(f"合计：本金 {format_amount(cost)}，市值 {format_amount(value)}，收益 {_signed(value - cost)}。")
    lines.append("收益为按最新净值或估值计算的参考值，以到期或赎回时实际到账为准。")
    ctx.step("wealth_holdings", count=len(rows))
    return "\n".join(lines)


@flow
class WealthHoldingsFlow(Flow):
    name = "wealth.holdings"
    title = "查询理财持仓"

    def on_start(self, ctx: FlowContext) -> bool:
        ctx.say(holdings_text(ctx))
        ctx.outcome = "answered"
        ctx.state.end_flow()
        return False

    def execute(self, ctx: FlowContext) -> None:
        ctx.state.end_flow()
