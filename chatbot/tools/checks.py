"""The checks every SQL tool makes on what it is asked: refusals, amounts, idempotency keys."""
from __future__ import annotations

from decimal import Decimal

from chatbot.errors import InvalidInput
from chatbot.money import to_cents
from chatbot.tools.banking import BankingRefusal


def refuse(code: str, message: str) -> BankingRefusal:
    return BankingRefusal(message, code)


def positive_amount(amount: Decimal, label: str = "金额") -> Decimal:
    """A positive amount in whole fen, or the invalid_amount refusal naming `label`."""
    try:
        value = to_cents(amount)
    except (TypeError, InvalidInput):
        raise refuse("invalid_amount", "金额格式不正确，最多保留两位小数") from None
    if value <= 0:
        raise refuse("invalid_amount", f"{label}必须大于 0")
    return value


def checked_key(key: str) -> str:
    if not key or len(key) > 128:
        raise InvalidInput("幂等键必须是 1 到 128 个字符", "invalid_idempotency_key")
    return key
