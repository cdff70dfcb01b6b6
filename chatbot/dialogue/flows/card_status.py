"""card.application_status: each card application's stage with the date of every stage
reached and what comes next (the review time from the knowledge graph where it has one)."""
from __future__ import annotations

from chatbot.clock import BANK_TZ
from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.flows.lending_products import card_products
from chatbot.dialogue.forms import Flow, flow
from chatbot.money import format_amount
from chatbot.tools.lending import ApplicationInfo

SHOWN = 3


def stage_dates(app: ApplicationInfo) -> str:
    """"已提交 11-21 → 审核中 11-22": every stage reached with its (bank) date."""
    return " → ".join(f"{e.name} {e.at.astimezone(BANK_TZ):%m-%d}" for e in app.events)


def _next(ctx: FlowContext, app: ApplicationInfo) -> str:
    product = card_products(ctx.graph).get(app.product_code)
    review = product.terms.review_time if product else None
    if app.stage in ("submitted", "reviewing"):
        return (f"审核一般需要 {review}（自提交之日起），结果会通知您。" if review
                else "审核结果会尽快通知您。")
    if app.stage == "approved":
        limit = f"核定额度 {format_amount(app.credit_limit)}，" if app.credit_limit else ""
        return f"{limit}卡片即将进入制作，制作完成后邮寄到您的通讯地址。"
    if app.stage == "producing":
        return "卡片正在制作，制作完成后邮寄到您的通讯地址。"
    if app.stage == "mailed":
        return f"卡片（尾号{app.card_tail}）已寄出，收到后回复“激活信用卡”即可激活。"
    if app.stage == "rejected":
        return f"原因：{app.decision_reason or '综合评估未通过'}。如有疑问可回复“人工”。"
    return "卡片已激活，可以正常使用。"


@flow
class CardStatusFlow(Flow):
    name = "card.application_status"
    title = "信用卡申请进度查询"

    def execute(self, ctx: FlowContext) -> None:
        apps = ctx.bank.applications(ctx.customer_id, kind="card")
        if not apps:
            ctx.say("您名下暂无信用卡申请记录。如需办卡，请回复“申请信用卡”。")
            ctx.outcome = "answered"
        else:
            blocks = [f"{a.product_name}申请（编号 {a.reference}）：{a.stage_name}\n{stage_dates(a)}\n{_next(ctx, a)}"
                      for a in apps[:SHOWN]]
            more = f"\n另有 {len(apps) - SHOWN} 笔较早的申请未列出。" if len(apps) > SHOWN else ""
            ctx.say("\n\n".join(blocks) + more)
            ctx.outcome = "completed"
        ctx.step("application_status", kind="card", count=len(apps))
        ctx.state.end_flow(keep_context=False)
