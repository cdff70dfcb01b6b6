"""Choosing one of the customer's cards from what they said ("尾号1234", "信用卡", "第二张")."""
from __future__ import annotations

import re

from chatbot.dialogue.context import FlowContext
from chatbot.tools.banking import AccountInfo

ORDINALS = {"第一": 0, "第1": 0, "第二": 1, "第2": 1, "第三": 2, "第3": 2}
KIND_NAMES = {"savings": "储蓄卡", "credit": "信用卡"}


def card_label(account: AccountInfo) -> str:
    return f"{KIND_NAMES.get(account.kind, account.name)} **** {account.card_tail}"


def list_labels(accounts: list[AccountInfo]) -> str:
    return "、".join(card_label(a) for a in accounts)


def pick_card(ctx: FlowContext, candidates: list[AccountInfo]) -> str | None:
    """The tail of the card the message points at among `candidates`, or None."""
    tail = ctx.entity("card_tail")
    if tail:
        return tail
    kind = ctx.entity("account_type")
    matching = [a for a in candidates if kind and a.kind == kind]
    if len(matching) == 1:
        return matching[0].card_tail
    for word, index in ORDINALS.items():
        if re.search(word + "[张个]?", ctx.text) and index < len(candidates):
            return candidates[index].card_tail
    return None


def card_accounts(ctx: FlowContext) -> list[AccountInfo]:
    return [a for a in ctx.bank.accounts(ctx.customer_id, ctx.now) if a.card_tail]
