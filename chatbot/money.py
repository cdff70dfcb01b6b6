"""How amounts of money are written for people: `52,380.50 元` and bank-slip capitals.

Both functions take `Decimal` (or `int`) and refuse floats and sub-cent values: an amount
that cannot be written exactly in fen is a bug upstream, not something to round away.
"""
from __future__ import annotations

from decimal import Decimal

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
    # Written from the Decimal's own digits (never a float). This is what cn2an's "rmb" mode
    # wrote, but for one slip of cn2an's (tests/test_money.py compares them); cn2an is not
    # imported: with its text-cleaning dependency it took ~0.5 s of every worker's start.
    cents = int(abs(value) * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    text = _capital_integer(yuan) + "元" if yuan or not (jiao or fen) else ""
    if not (jiao or fen):
        text += "整"
    elif jiao:
        text += _DIGITS[jiao] + "角" + (_DIGITS[fen] + "分" if fen else "")
    else:
        text += ("零" if yuan else "") + _DIGITS[fen] + "分"
    return ("负" if value < 0 else "") + text


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("", "拾", "佰", "仟")


def _capital_integer(number: int) -> str:
    """Capitals of a whole number below 10^16: 仟佰拾 within a group of four digits, 万 and 亿
    after a group (above 亿 the groups read 万亿: 壹万零壹亿), 壹拾 written out, one 零 for
    each run of zeros between two written digits unless a 万 or 亿 stands there."""
    if number == 0:
        return "零"
    digits = str(number)
    parts: list[str] = []
    zero = False  # zeros seen since the last written digit
    for i, char in enumerate(digits):
        position = len(digits) - 1 - i  # power of ten
        digit = int(char)
        if digit:
            if zero:
                parts.append("零")
            parts.append(_DIGITS[digit] + _PLACES[position % 4])
            zero = False
        elif parts:
            zero = True
        if position in (4, 12) and digits[max(0, i - 3):i + 1].strip("0"):
            parts.append("万")  # the group ending here has a digit
            zero = False  # its trailing zeros are read by 万 (壹拾万壹仟)
        elif position == 8 and digits[max(0, i - 7):i + 1].strip("0"):
            parts.append("亿")  # 亿 ends everything above it, 万亿 included
            zero = False
    return "".join(parts)
