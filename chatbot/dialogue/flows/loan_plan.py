"""The customer's own repayment plan (loan.repayment_plan about their loan: "我的贷款还剩多少",
"下期还多少", "还款计划"): the next payment, the principal still owed, the coming periods and
the full schedule as sealed, single-use download links (chatbot/tools/loan_export.py).
What-ifs ("借10万分36期每月还多少") are the calculator's (loan_calculator.py; policy.flow_for).
"""
from __future__ import annotations

from datetime import timedelta

from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.flows.loan_status import next_due
from chatbot.dialogue.forms import Flow, flow
from chatbot.money import format_amount
from chatbot.security.masking import mask_card
from chatbot.tools.lending import LoanInfo
from chatbot.tools.loan_export import ScheduleRequest

COMING = 3
LINK_MINUTES = 30


def schedule_links(ctx: FlowContext, loan: LoanInfo) -> str:
    expires = ctx.now + timedelta(minutes=LINK_MINUTES)
    links = {fmt: f"{ctx.public_base_url}/v1/exports/loan-schedule/"
                  f"{ScheduleRequest(ctx.customer_id, loan.reference, fmt).to_token(ctx.secret_key, expires)}"
             for fmt in ("xlsx", "csv")}
    ctx.step("export_links", loan=loan.reference, expires_at=expires.isoformat())
    return (f"完整还款计划下载（{LINK_MINUTES} 分钟内有效，每个链接可下载一次，请勿转发他人）：\n"
            f"Excel：{links['xlsx']}\nCSV：{links['csv']}")


def describe(ctx: FlowContext, loan: LoanInfo) -> str:
    head = (f"{loan.product_name}（贷款编号 {loan.reference}）：本金 {format_amount(loan.principal)}，"
            f"年化 {loan.annual_rate * 100:.2f}%，{loan.months} 期，{loan.method_name}\n"
            f"已还 {loan.paid_count} 期，剩余本金 {format_amount(loan.outstanding)}")
    period = loan.next_payment
    if period is None:
        return head + "\n" + next_due(loan)
    debit = f"，届时从储蓄卡 {mask_card(loan.repay_tail)} 自动扣款" if loan.repay_tail else ""
    lines = [head, f"下期：第 {period.number} 期，{period.due_date:%Y-%m-%d} 应还 {format_amount(period.payment)}"
                   f"（本金 {format_amount(period.principal)}，利息 {format_amount(period.interest)}）{debit}"]
    coming = [p for p in loan.periods if p.status != "paid"][1:COMING + 1]
    if coming:
        lines.append("之后几期：" + "；".join(f"{p.due_date:%Y-%m-%d} {format_amount(p.payment)}" for p in coming))
    return "\n".join(lines)


@flow
class MyLoanPlanFlow(Flow):
    name = "loan.my_plan"
    title = "还款计划查询"

    def execute(self, ctx: FlowContext) -> None:
        loans = [loan for loan in ctx.bank.loans(ctx.customer_id) if loan.status == "repaying"]
        if not loans:
            ctx.say("您名下暂无还款中的贷款。如需试算月供，可以告诉我金额和期限，如“借10万分36期每月还多少”。")
            ctx.outcome = "answered"
        else:
            ctx.say("\n\n".join([describe(ctx, loan) for loan in loans] + [schedule_links(ctx, loans[0])]))
            ctx.outcome = "completed"
        ctx.step("loan_plan", loans=[loan.reference for loan in loans])
        ctx.state.end_flow(keep_context=False)
