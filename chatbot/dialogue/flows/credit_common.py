"""What the credit-card flows share: which card, its refusals, dates as people say them."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from chatbot.dialogue.context import FlowContext
from chatbot.dialogue.flows.cards import pick_card
from chatbot.dialogue.forms import Slot
from chatbot.nlu.entities.amount import MAX_INTEGER_DIGITS
from chatbot.nlu.entities.numbers import parse_number
from chatbot.security.masking import mask_card
from chatbot.tools.credit import CreditCardInfo

NO_CARD = "您名下没有信用卡。如需办理，可以说“申请信用卡”。"
BARE_TAIL = re.compile(r"(?:尾号)?(\d{4})(?:的?卡|那张卡?)?")
BARE_NUMBER = re.compile(r"^(?:还|就|调到|调高|提到|提高|提升|增加|加|再加|到)?\s*([\d.,]+|[零一二两三四五六七八九十百千万点]+)\s*(?:元|块钱?)?(?:吧)?[。.!！]*$")


def credit_cards(ctx: FlowContext) -> list[CreditCardInfo]:
    return ctx.bank.credit_cards(ctx.customer_id, ctx.now)


def chosen_tail(ctx: FlowContext) -> str:
    tail = ctx.state.slots.get("card_tail")
    return tail or credit_cards(ctx)[0].card_tail


def chosen_card(ctx: FlowContext, recent: int = 5) -> CreditCardInfo:
    return ctx.bank.credit_card(ctx.customer_id, chosen_tail(ctx), ctx.now, recent)


def card_name(tail: str) -> str:
    return f"信用卡 {mask_card(tail)}"


def _credit_accounts(ctx: FlowContext):
    return [a for a in ctx.bank.accounts(ctx.customer_id, ctx.now) if a.kind == "credit" and a.card_tail]


def _extract_card(ctx: FlowContext):
    tail = pick_card(ctx, _credit_accounts(ctx))
    if tail is None and ctx.state.asking == "card_tail":
        bare = BARE_TAIL.fullmatch(ctx.text)
        tail = bare.group(1) if bare else None
    return tail


def _validate_card(ctx: FlowContext, tail: str) -> str | None:
    cards = _credit_accounts(ctx)
    if any(a.card_tail == tail for a in cards):
        return None
    names = "、".join(card_name(a.card_tail) for a in cards)
    if any(a.card_tail == tail for a in ctx.bank.accounts(ctx.customer_id, ctx.now)):
        return f"尾号{tail}的卡不是信用卡，您的信用卡是 {names}，请问是哪一张？"
    return f"您名下没有尾号{tail}的卡，您的信用卡是 {names}，请问是哪一张？"


def card_slot() -> Slot:
    """Which credit card: asked only when the customer has several (a card tail always counts)."""
    return Slot("card_tail", lambda ctx: "您有多张信用卡：" + "、".join(card_name(a.card_tail) for a in
                                                                   _credit_accounts(ctx)) + "，请问是哪一张？",
                _extract_card, _validate_card,
                needed=lambda ctx: len(_credit_accounts(ctx)) > 1 or "card_tail" in ctx.state.slots,
                label="信用卡", words="信用卡|尾号")


def has_card(ctx: FlowContext) -> bool:
    """False (and said so, ending the flow) when the customer has no credit card."""
    if _credit_accounts(ctx):
        return True
    ctx.say(NO_CARD)
    ctx.outcome = "answered"
    ctx.step("refused", code="no_credit_card")
    ctx.state.end_flow(keep_context=False)
    return False


def stop(ctx: FlowContext, text: str, code: str) -> None:
    ctx.say(text)
    ctx.outcome = "refused"
    ctx.step("refused", code=code)
    ctx.state.end_flow(keep_context=False)


# As the amount extractor: longer runs are account or ID numbers, never a sum typed in a chat.
LARGEST_SUM = Decimal(10) ** MAX_INTEGER_DIGITS


def bare_number(ctx: FlowContext) -> Decimal | None:
    """A bare amount answering the flow's question ("3000", "两千")."""
    match = BARE_NUMBER.match(ctx.text)
    if not match:
        return None
    value = parse_number(match.group(1).replace(",", ""))
    try:
        value = Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None
    return value if value is not None and value < LARGEST_SUM else None  # "1" and 40 zeros: no sum


def day(d: date) -> str:
    return f"{d.month}月{d.day:02d}日"
