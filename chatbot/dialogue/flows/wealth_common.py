"""What the wealth flows share: the catalogue (graph facts + sales table), the customer's
assessment in force, the suitability verdict, and dates as people read them."""
from __future__ import annotations

from datetime import date

from chatbot.dialogue import offers
from chatbot.dialogue.context import FlowContext, product_graph
from chatbot.wealth import questionnaire as q
from chatbot.wealth.catalogue import WealthProductView, products
from chatbot.tools.wealth import AssessmentInfo

DISCLAIMER = "业绩比较基准不代表实际收益，理财非存款，产品有风险，投资须谨慎。"
TAKE_ASSESSMENT = "需要现在开始风险测评吗？"


def graph(ctx: FlowContext):
    return product_graph(ctx.graph)


def views(ctx: FlowContext) -> list[WealthProductView]:
    """Every product of the graph the sales table knows (paused and closed included)."""
    rows = {offer.code: offer for offer in ctx.bank.wealth_offers()}
    return products(graph(ctx), rows)


def view(ctx: FlowContext, code: str) -> WealthProductView | None:
    return next((v for v in views(ctx) if v.code == code), None)


def assessment(ctx: FlowContext) -> AssessmentInfo | None:
    return ctx.bank.risk_assessment(ctx.customer_id) if ctx.customer_id is not None else None


def valid_level(ctx: FlowContext) -> str | None:
    """The customer's level when an assessment is in force today, else None."""
    current = assessment(ctx)
    return current.level if current is not None and current.valid_on(ctx.today) else None


def day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def level_line(info: AssessmentInfo) -> str:
    return f"{q.describe(info.level)}，可购买 {q.may_buy_text(info.level)}"


def no_valid_assessment(ctx: FlowContext, info: AssessmentInfo | None, what: str) -> None:
    """Why `what` cannot go on without an assessment in force, and the offer to take one now."""
    if info is None:
        reason = f"{what}前需要先完成风险测评（共 10 题，约 2 分钟），以确认适合您的产品风险等级。"
    else:
        reason = (f"您的风险测评（{q.describe(info.level)}）已于 {day(info.expires_on)} 过期，"
                  f"有效期为 12 个月，需要重新测评后才能{what}。")
    ctx.say(reason)
    ctx.outcome = "refused"
    ctx.step("refused", code="no_assessment" if info is None else "assessment_expired")
    ctx.state.end_flow(keep_context=False)
    offers.make(ctx, "flow", TAKE_ASSESSMENT, "wealth.risk_assessment")
