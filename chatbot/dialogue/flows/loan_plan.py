"""The customer's own repayment plan (loan.repayment_plan about their loan: "我的贷款还剩多少",
"下期还多少", "还款计划"): the next payment, the principal still owed, the coming periods and
the full schedule as sealed, single-use download links (chatbot/tools/loan_export.py).
What-ifs ("借10万分36期每月还多少") are the calculator's (loan_calculator.py; policy.flow_for).

A prepayment what-if ("如果我提前还两万，月供变多少") is about the customer's own loan, so it is
this flow's (binding first): the new 等额本息 payment on the remaining principal less the sum
over the remaining periods, at the loan's rate, and the shorter term if the payment is kept,
said to be an estimate (chatbot.tools.amortization.prepayment). Never a new loan.
"""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from chatbot.dialogue import rich
from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.flows.lending_common import NUMBER
from chatbot.dialogue.flows.loan_calculator import PREPAY
from chatbot.dialogue.flows.loan_status import next_due
from chatbot.dialogue.forms import Flow, flow
from chatbot.money import format_amount
from chatbot.security.masking import mask_card
from chatbot.nlu.entities.numbers import parse_number
from chatbot.tools.amortization import prepayment
from chatbot.tools.lending import LoanInfo
from chatbot.tools.loan_export import ScheduleRequest

COMING = 3
PREPAID = re.compile(rf"提前(?:还款?|归还|偿还)(?:了|掉)?\s*({NUMBER})")
HOW_TO_PREPAY = ("如需办理提前还款，请在示例银行手机银行“贷款—提前还款”或贷款经办网点提交申请，"
                 "在约定日期从还款卡扣款。")
LINK_MINUTES = 30


def schedule_links(ctx: FlowContext, loan: LoanInfo) -> str:
    expires = ctx.now + timedelta(minutes=LINK_MINUTES)
    links = {fmt: f"{ctx.public_base_url}/v1/exports/loan-schedule/"
                  f"{ScheduleRequest(ctx.customer_id, loan.reference, fmt).to_token(ctx.secret_key, expires)}"
             for fmt in ("xlsx", "csv")}
    ctx.step("export_links", loan=loan.reference, expires_at=expires.isoformat())
    return rich.links(f"完整还款计划下载（{LINK_MINUTES} 分钟内有效，每个链接可下载一次，请勿转发他人）：",
                      [("Excel", links["xlsx"]), ("CSV", links["csv"])])


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
        prepaid = prepaid_amount(ctx)
        if prepaid is not None and loans:
            ctx.say("\n\n".join(prepayment_estimate(loan, prepaid) for loan in loans) + "\n" + HOW_TO_PREPAY)
            ctx.outcome = "answered"
            ctx.step("prepayment_estimate", loans=[loan.reference for loan in loans], prepaid=str(prepaid))
            ctx.state.end_flow(keep_context=False)
            return
        if not loans:
            ctx.say("您名下暂无还款中的贷款。如需试算月供，可以告诉我金额和期限，如“借10万分36期每月还多少”。")
            ctx.outcome = "answered"
        else:
            ctx.say("\n\n".join(describe(ctx, loan) for loan in loans))
            ctx.say(schedule_links(ctx, loans[0]))
            ctx.outcome = "completed"
        ctx.step("loan_plan", loans=[loan.reference for loan in loans])
        ctx.state.end_flow(keep_context=False)


def prepaid_amount(ctx: FlowContext) -> Decimal | None:
    """The sum of a prepayment what-if ("如果我提前还两万，月供变多少"), else None."""
    if not PREPAY.search(ctx.text):
        return None
    amount = ctx.entity("amount")
    if amount is None and (match := PREPAID.search(ctx.text.replace(" ", ""))):
        amount = parse_number(match.group(1))
    amount = Decimal(str(amount)) if amount is not None else None
    return amount if amount is not None and amount > 0 else None


def prepayment_estimate(loan: LoanInfo, prepaid: Decimal) -> str:
    head = f"{loan.product_name}（贷款编号 {loan.reference}）"
    left = [p for p in loan.periods if p.status != "paid"]
    if not left:
        return f"{head}已全部还清。"
    if prepaid >= loan.outstanding:
        return (f"{head}剩余本金 {format_amount(loan.outstanding)}，提前还 {format_amount(prepaid)} "
                f"即可一次性结清（另计当期利息，以银行办理结果为准）。")
    estimate = prepayment(loan.outstanding, loan.annual_rate, len(left), prepaid.quantize(Decimal("0.01")),
                          left[0].payment)
    shorter = estimate.months - estimate.months_if_kept
    kept = (f"月供不变（约 {format_amount(estimate.current_payment)}）：约 {estimate.months_if_kept} 期还清，"
            f"缩短 {shorter} 期。" if shorter > 0 else "")
    return (f"{head}提前还款估算：剩余本金 {format_amount(loan.outstanding)}，剩余 {estimate.months} 期，"
            f"年化 {loan.annual_rate * 100:.2f}%。\n"
            f"提前还 {format_amount(prepaid)}后，剩余本金 {format_amount(estimate.remaining)}：\n"
            f"期限不变：每月约 {format_amount(estimate.new_payment)}（按等额本息估算）。\n"
            + (kept + "\n" if kept else "")
            + "以上为估算，实际以银行办理提前还款后的还款计划为准。")
