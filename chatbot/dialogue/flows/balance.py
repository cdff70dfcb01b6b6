"""account.balance: balances of all accounts, or of one card or account type; what is still owed
on loans."""
from __future__ import annotations

from decimal import Decimal

from chatbot.dialogue import rich
from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.flows.cards import card_label
from chatbot.dialogue.flows.loan_status import next_due
from chatbot.dialogue.forms import Flow, flow
from chatbot.money import format_amount
from chatbot.tools.banking import AccountInfo


def describe(account: AccountInfo) -> str:
    status = "（已挂失冻结）" if account.status == "frozen" or account.card_status == "lost" else ""
    if account.kind == "credit":
        used = format_amount(max(-account.balance, Decimal("0")))
        return (f"{card_label(account)}{status}：可用额度 {format_amount(account.available)}，"
                f"已用 {used}（总额度 {format_amount(account.credit_limit)}）")
    return f"{card_label(account)}{status}：可用余额 {format_amount(account.available)}"


def balance_card(lines: list[str], accounts: list[AccountInfo], loans: int):
    """The balances as a card: one row per account (and a row saying how many loans follow in
    the text when there are loans; their lines are long, so they stay plain)."""
    if loans:
        return "\n".join(lines)  # rows would not say the loans' next payments
    rows = [(card_label(a), (f"可用额度 {format_amount(a.available)}" if a.kind == "credit"
                             else format_amount(a.available))
             + ("（已冻结）" if a.status == "frozen" or a.card_status == "lost" else "")) for a in accounts]
    return rich.card("\n".join(lines), "账户余额", rows)


def loan_lines(ctx: FlowContext) -> list[str]:
    """Each loan in repayment: what is still owed and the next payment."""
    return [f"{loan.product_name}（{loan.reference}）：{next_due(loan)}"
            for loan in ctx.bank.loans(ctx.customer_id) if loan.status == "repaying"]


@flow
class BalanceFlow(Flow):
    name = "account.balance"
    title = "余额查询"

    def execute(self, ctx: FlowContext) -> None:
        accounts = ctx.bank.accounts(ctx.customer_id, ctx.now)
        tail = ctx.entity("card_tail")
        # "信用卡额度还剩多少" (card.limit) is a balance question about the credit card.
        kind = ctx.entity("account_type") or ("credit" if ctx.intent == "card.limit" and not tail else None)
        chosen = [a for a in accounts if (not tail or a.card_tail == tail) and (not kind or a.kind == kind)]
        # "贷款余额": what is still owed on each loan; "所有账户余额" lists the loans too.
        loans = loan_lines(ctx) if kind == "loan" or (kind is None and not tail) else []
        if kind == "loan":
            ctx.say("\n".join(loans) if loans else "您名下没有在还的贷款。")
            ctx.outcome = "completed" if loans else "answered"
        elif not chosen:
            wanted = f"尾号 {tail} 的卡" if tail else "这类账户"
            ctx.say(f"您名下没有{wanted}。您的账户有：" + "、".join(card_label(a) for a in accounts) + "。")
            ctx.outcome = "answered"
        else:
            ctx.say(balance_card([describe(a) for a in chosen] + loans, chosen, len(loans)))
            ctx.outcome = "completed"
        ctx.step("balance", accounts=[a.card_tail for a in chosen])
        ctx.state.slots = {"card_tail": tail, "account_type": kind}
        ctx.state.end_flow()
