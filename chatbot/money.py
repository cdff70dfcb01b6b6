"""How amounts of money are written for people: `52,380.50 元` and bank-slip capitals.

Both functions take `Decimal` (or `int`) and refuse floats and sub-cent values: an amount
that cannot be written exactly in fen is a bug upstream, not something to round away.
"""
from __future__ import annotations

from decimal import Decimal

import cn2an

from chatbot.errors import InvalidInput

CENT = Decimal("0.01")
# Capitals are written up to 万亿 (10^16 yuan), far beyond any amount the bank handles.
_CAPITAL_LIMIT = Decimal("10000000000000000")


def to_cents(amount: Decimal | int) -> Decimal:
    """`amount` as a Decimal with exactly two places; raises InvalidInput otherwise."""
    if isinstance(amount, bool) or not isinstance(amount, (Decimal, int)):
        raise TypeError(f"money must be Decimal or int, not {type(amount).__name__}")
    value = Decimal(amount)
    if not value.is_finite() or value != value.quantize(CENT):
        raise InvalidInput("金额最多两位小数", "invalid_amount")
    return +value.quantize(CENT)  # unary plus turns -0.00 into 0.00


def format_amount(amount: Decimal | int) -> str:
    """`Decimal("52380.5")` -> `"52,380.50 元"`; negative amounts keep their minus sign."""
    return f"{to_cents(amount):,.2f} 元"


def to_capital(amount: Decimal | int) -> str:
    """Bank-slip capital numerals: `Decimal("1234.56")` -> `"壹仟贰佰叁拾肆元伍角陆分"`.

    Follows 《正确填写票据和结算凭证的基本规定》: 壹拾 for a leading ten (壹拾万元整),
    one 零 for a run of zeros inside the number (壹仟零伍元整), 整 after 元 only, and
    元零X分 when the jiao digit is zero (壹元零伍分).
    """
    value = to_cents(amount)
    if abs(value) >= _CAPITAL_LIMIT:
        raise InvalidInput("金额超出大写金额的范围", "invalid_amount")
    # cn2an's "rmb" mode is exact for decimal *strings* (it only goes through float when given
    # a float), so it gets the Decimal's own digits; tests pin every convention above.
    return cn2an.an2cn(format(value, "f"), "rmb")
