"""loan.status: each loan application's stage with the date of every stage and what comes
next (the product's review time from the knowledge graph); a disbursed one names its loan
with the next due date and amount; loans without an application in chat are listed too."""
from __future__ import annotations

import re

from chatbot.clock import BANK_TZ
from chatbot.dialogue.context import FlowContext, product_graph
from chatbot.dialogue.flows.card_status import stage_dates
from chatbot.dialogue.forms import Flow, flow
from chatbot.money import format_amount
from chatbot.tools.lending import OPEN_STAGES, ApplicationInfo, LoanInfo

SHOWN = 3
# "什么时候能放款", "多久放款", "啥时候到账": with an open loan application, asked about it.
WHEN_PAID_OUT = re.compile(r"(?:什么时候|啥时候|多久|几时|何时|多长时间|哪天|几天)(?:能|可以|才|会|才能)?"
                           r"(?:放款|放贷|下款|到账|批下来|批)")


def asks_when_paid_out(ctx: FlowContext) -> bool:
    """When will my loan be paid out, from a bound customer with an open loan application
    (unbound, or without one, the FAQ answers as for anyone)."""
    if ctx.customer_id is None or not WHEN_PAID_OUT.search(ctx.text):
        return False
    return any(app.stage in OPEN_STAGES["loan"] for app in ctx.bank.applications(ctx.customer_id, kind="loan"))


def next_due(loan: LoanInfo) -> str:
    period = loan.next_payment
    if period is None:
        return "已全部还清。"
    return (f"下期（第 {period.number}/{loan.months} 期）还款日 {period.due_date:%Y-%m-%d}，"
            f"应还 {format_amount(period.payment)}，剩余本金 {format_amount(loan.outstanding)}。")


def _review_time(ctx: FlowContext, code: str) -> str | None:
    graph = product_graph(ctx.graph)
    facts = graph.facts(code, "review_time") if code in graph else []
    return graph.nodes[facts[0]].get("text") if facts else None


def _next(ctx: FlowContext, app: ApplicationInfo, loans: dict[str, LoanInfo]) -> str:
    if app.stage in ("submitted", "reviewing"):
        review = _review_time(ctx, app.product_code)
        when = f"审批时间一般为：{review}。" if review else ""
        return f"{when}审批通过后即放款至您的储蓄卡，结果会通知您。"
    if app.stage == "approved":
        return "审批已通过，即将放款至您的储蓄卡。"
    if app.stage == "rejected":
        return f"原因：{app.decision_reason or '综合评估未通过'}。如有疑问可回复“人工”。"
    loan = loans.get(app.loan_reference or "")
    return f"贷款编号 {loan.reference}，{next_due(loan)}" if loan else "款项已发放。"


def _amount(app: ApplicationInfo) -> str:
    if app.amount is None:
        return ""
    return f"，{format_amount(app.amount)}" + (f"，{app.term_months} 期" if app.term_months else "")


@flow
class LoanStatusFlow(Flow):
    name = "loan.status"
    title = "贷款进度查询"

    def execute(self, ctx: FlowContext) -> None:
        apps = ctx.bank.applications(ctx.customer_id, kind="loan")
        loans = {loan.reference: loan for loan in ctx.bank.loans(ctx.customer_id)}
        blocks = [f"{a.product_name}申请（编号 {a.reference}{_amount(a)}）：{a.stage_name}\n{stage_dates(a)}\n"
                  f"{_next(ctx, a, loans)}" for a in apps[:SHOWN]]
        linked = {a.loan_reference for a in apps}
        blocks += [f"{loan.product_name}（贷款编号 {loan.reference}，{format_amount(loan.principal)}，"
                   f"{loan.disbursed_at.astimezone(BANK_TZ):%Y-%m-%d} 放款）：{next_due(loan)}"
                   for loan in loans.values() if loan.reference not in linked and loan.status == "repaying"]
        if not blocks:
            ctx.say("您名下暂无贷款申请或贷款。如需申请，请回复“申请贷款”。")
            ctx.outcome = "answered"
        else:
            more = f"\n另有 {len(apps) - SHOWN} 笔较早的申请未列出。" if len(apps) > SHOWN else ""
            ctx.say("\n\n".join(blocks) + more)
            ctx.outcome = "completed"
        ctx.step("application_status", kind="loan", count=len(apps))
        ctx.state.end_flow(keep_context=False)
