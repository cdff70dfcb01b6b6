"""card.repay: repay a credit card from one of the customer's savings cards.

The amount is "full" (the current statement's remaining due), "minimum" (what is left of the
minimum payment) or a stated sum up to everything repayable now (statement + unbilled). The
read-back gives the amount in capitals; "确认" repays at once. No SMS code: DESIGN.md's
high-risk list (transfer, loss report, activation, applications, wealth purchase) leaves it
out, and the money only moves between the customer's own accounts at this bank, so a
hijacked chat cannot send it anywhere. The flow run's id is the idempotency key: a retried
"确认" never pays twice (SqlCreditCards.repay_card).
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.flows.cards import pick_card
from chatbot.dialogue.flows.credit_common import (BARE_TAIL, bare_number, card_name, card_slot, chosen_card,
                                                  chosen_tail, day, has_card, stop)
from chatbot.dialogue.forms import Flow, Slot, flow
from chatbot.money import format_amount, to_capital
from chatbot.security.masking import mask_card
from chatbot.tools.banking import BankingRefusal

CENT = Decimal("0.01")
FULL = re.compile(r"全额|全部|全还|还清|结清|都还|还完|全款|一次性还|本期应还|账单金额|所有")
MINIMUM = re.compile(r"最低|最少")
QUESTION = re.compile(r"怎么|怎样|如何|什么|为什么|吗|呢|多少|[?？]")
READ_BACK = "_amount_read_back"
KINDS = {"full": "全额还款", "minimum": "最低还款"}


def _savings(ctx: FlowContext):
    return [a for a in ctx.bank.accounts(ctx.customer_id, ctx.now) if a.kind == "savings" and a.card_tail]


def _from_tail(ctx: FlowContext) -> str:
    return ctx.state.slots.get("from_tail") or _usable_savings(ctx)[0].card_tail


def _usable_savings(ctx: FlowContext):
    savings = _savings(ctx)
    usable = [a for a in savings if a.status == "active" and a.card_status == "active"]
    return usable or savings


def _extract_amount(ctx: FlowContext):
    if QUESTION.search(ctx.text):
        return None  # "最低还款额是怎么算的": a question to answer, not the answer
    if MINIMUM.search(ctx.text):
        return "minimum"
    amount = ctx.entity("amount")
    if amount is None and ctx.state.asking == "amount":
        amount = bare_number(ctx)
    if amount is not None:
        return str(amount)
    if FULL.search(ctx.text):
        return "full"
    return None


def resolve(ctx: FlowContext, value: str) -> Decimal:
    """The sum a slot value stands for now (full / minimum of the current statement)."""
    if value in KINDS:
        statement = chosen_card(ctx, recent=0).statement
        if statement is None:
            return Decimal("0.00")
        return statement.remaining if value == "full" else statement.minimum_remaining
    return Decimal(value)


def _validate_amount(ctx: FlowContext, value: str) -> str | None:
    try:
        amount = resolve(ctx, value)
    except (InvalidOperation, ValueError):
        return "金额格式不正确，请重新输入。"
    if not amount.is_finite() or amount != amount.quantize(CENT):
        return "还款金额最多到分（两位小数），请重新输入。"
    if amount <= 0:
        card = chosen_card(ctx, recent=0)
        if value in KINDS:
            what = "本期账单已还清" if value == "full" else "本期最低还款已还足"
            return (f"{what}。未出账消费等共 {format_amount(card.repayable)} 可提前还款，"
                    "如需还款请告诉我金额。")
        return "还款金额须大于 0，请重新输入。"
    try:
        ctx.bank.check_repayment(ctx.customer_id, chosen_tail(ctx), _from_tail(ctx), amount, ctx.now)
    except BankingRefusal as refusal:
        others = [a.card_tail for a in _savings(ctx) if a.card_tail != _from_tail(ctx)]
        if refusal.code == "insufficient_funds" and others:
            return f"{refusal.message}，请重新输入金额，或说“用尾号{others[0]}的卡”换一张储蓄卡。"
        return f"{refusal.message}，请重新输入金额。"
    return None


def _prompt(ctx: FlowContext) -> str:
    card = chosen_card(ctx, recent=0)
    s = card.statement
    if s is None or s.remaining == 0:
        return (f"{card_name(card.card_tail)} 本期账单已还清，未出账消费等共 {format_amount(card.repayable)}。"
                "如需提前还款，请告诉我金额。")
    return (f"{card_name(card.card_tail)} 本期应还 {format_amount(s.remaining)}，最低还款 "
            f"{format_amount(s.minimum_remaining)}（到期还款日 {day(s.due_date)}）。\n"
            "请问还多少？可回复“全额”“最低”或具体金额。")


def _extract_from(ctx: FlowContext):
    savings = _savings(ctx)
    tail = pick_card(ctx, savings)
    if tail is None and ctx.state.asking == "from_tail":
        bare = BARE_TAIL.fullmatch(ctx.text)
        tail = bare.group(1) if bare else None
    if tail is not None and tail == ctx.state.slots.get("card_tail"):
        return None  # the credit card being repaid, not the paying card
    if tail is not None and any(a.card_tail == tail and a.kind == "credit"
                                for a in ctx.bank.accounts(ctx.customer_id, ctx.now)):
        return None
    return tail


def _validate_from(ctx: FlowContext, tail: str) -> str | None:
    savings = _savings(ctx)
    others = " 或 ".join(mask_card(a.card_tail) for a in _usable_savings(ctx))
    account = next((a for a in savings if a.card_tail == tail), None)
    if account is None:
        return f"您名下没有尾号{tail}的储蓄卡，请使用储蓄卡 {others} 还款。"
    if account.status != "active" or account.card_status != "active":
        return f"储蓄卡 {mask_card(tail)} 已挂失或冻结，不能用于还款，请使用储蓄卡 {others}。"
    return None


@flow
class CardRepayFlow(Flow):
    name = "card.repay"
    title = "信用卡还款"
    confirm = True
    slots = (
        card_slot(),
        Slot("from_tail", "请问用哪张储蓄卡还款？请说卡号尾号。", _extract_from, _validate_from,
             needed=lambda ctx: len(_savings(ctx)) > 1 or "from_tail" in ctx.state.slots,
             label="付款卡", words="付款卡|扣款卡|储蓄卡|用.{0,4}卡", correctable=True),
        Slot("amount", _prompt, _extract_amount, _validate_amount, phrase="还{}", label="金额",
             words="金额|钱|数额", reads_bare=True),
    )

    def on_start(self, ctx: FlowContext) -> bool:
        if not has_card(ctx):
            return False
        if not _savings(ctx):
            stop(ctx, "您名下没有可用于还款的储蓄卡，可通过网点柜台或他行转账还款。", "no_savings")
            return False
        if len(ctx.bank.credit_cards(ctx.customer_id, ctx.now)) > 1 and not ctx.entity("card_tail"):
            return True  # which card is asked first
        card = chosen_card(ctx, recent=0)
        if card.frozen:
            stop(ctx, f"{card_name(card.card_tail)} 已挂失或冻结，暂不能在线还款。如卡片已找回，可回复“解挂”"
                      "解除挂失后再还款；也可到网点柜台还款。", "card_frozen")
            return False
        if all(a.status != "active" or a.card_status != "active" for a in _savings(ctx)):
            stop(ctx, "您的储蓄卡已挂失或冻结，暂不能用于还款。如卡片已找回，可回复“解挂”后再还款；"
                      "也可到网点柜台还款。", "card_frozen")
            return False
        if card.repayable <= 0:
            stop(ctx, f"{card_name(card.card_tail)} 目前没有需要还的款项，无需还款。", "nothing_owed")
            return False
        return True

    def summary(self, ctx: FlowContext) -> str:
        value = ctx.state.slots["amount"]
        amount = resolve(ctx, value)
        ctx.state.slots[READ_BACK] = str(amount)  # what "确认" agrees to, whatever happens after
        kind = f"（{KINDS[value]}）" if value in KINDS else ""
        return ("好的，请核对还款信息：\n"
                f"还款卡：{card_name(chosen_tail(ctx))}\n"
                f"付款卡：储蓄卡 {mask_card(_from_tail(ctx))}\n"
                f"金额：{format_amount(amount)}（{to_capital(amount)}）{kind}\n"
                "确认还款请回复“确认”，如需修改请直接告诉我。")

    def cancelled(self, ctx: FlowContext) -> str:
        return "好的，先不还款了。请留意到期还款日，以免逾期。还有什么可以帮您？"

    def execute(self, ctx: FlowContext) -> None:
        amount = Decimal(ctx.state.slots.get(READ_BACK) or resolve(ctx, ctx.state.slots["amount"]))
        tail, from_tail = chosen_tail(ctx), _from_tail(ctx)
        try:
            receipt = ctx.bank.repay_card(ctx.customer_id, tail, from_tail, amount,
                                          f"flow:{ctx.state.flow_id}", ctx.now)
        except BankingRefusal as refusal:
            ctx.say(f"还款未成功：{refusal.message}。")
            ctx.outcome = "refused"
            ctx.step("refused", code=refusal.code)
        else:
            if receipt.statement_remaining == 0:
                due = "本期账单已还清。"
            elif receipt.minimum_remaining == 0:
                due = f"本期还需还 {format_amount(receipt.statement_remaining)}，最低还款已还足。"
            else:
                due = (f"本期还需还 {format_amount(receipt.statement_remaining)}，"
                       f"其中最低还款还差 {format_amount(receipt.minimum_remaining)}。")
            ctx.say(f"还款成功：已从储蓄卡 {mask_card(from_tail)} 向{card_name(tail)} 还款 {format_amount(amount)}。\n"
                    f"{due}信用卡尚欠 {format_amount(receipt.owed)}（含未出账消费和分期）。\n"
                    f"储蓄卡余额 {format_amount(receipt.balance_after)}，流水号 {receipt.reference}。")
            ctx.outcome = "completed"
            ctx.step("executed", flow=self.name, reference=receipt.reference, replayed=receipt.replayed)
        ctx.state.end_flow()
