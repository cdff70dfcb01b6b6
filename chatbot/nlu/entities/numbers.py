"""Chinese, Arabic and mixed numerals to ``Decimal`` (never through float).

Handles the written forms (一千二百三十四, 1,200, 2.5), mixed ones (3万5, 1.5万,
2.5w, 3k) and the colloquial tail where a trailing digit continues the last
unit (一万二 = 12000, 两千五 = 2500, 三百五 = 350) unless a 零 intervenes
(一千零五 = 1005). cn2an reads these too, but it goes through float for
fractions and truncates ``1.5万``-style products with ``int()``, and money must
stay exact, so the conversion is done here; the tests check that both agree on
integers.
"""

from __future__ import annotations

import re
from decimal import Decimal

CN_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "三": 3, "叁": 3,
    "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7,
    "八": 8, "捌": 8, "九": 9, "玖": 9,
}  # fmt: skip
SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000, "k": 1000}
BIG_UNITS = {"万": 10_000, "w": 10_000, "亿": 100_000_000}

DIGIT_CHARS = "".join(CN_DIGITS)
UNIT_CHARS = "十拾百佰千仟万亿"
ARABIC = r"(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?"
# A numeral starts with a digit (or 十, as in 十万); "万一" and "千万别" are words.
NUMBER = (
    rf"(?:{ARABIC}|[{DIGIT_CHARS}十拾])"
    rf"(?:{ARABIC}|[{DIGIT_CHARS}{UNIT_CHARS}]|点(?=[{DIGIT_CHARS}\d]))*"
    r"(?:[kw](?![a-z]))?"
)
_TOKEN = re.compile(rf"{ARABIC}|点[{DIGIT_CHARS}\d]+|.", re.S)


class _Accumulator:
    """Running state of a left-to-right numeral read."""

    def __init__(self) -> None:
        self.total = Decimal(0)  # finished 万/亿 groups
        self.section = Decimal(0)  # the group being built (below 万)
        self.digit: Decimal | None = None  # a number waiting for its unit
        self.single = False  # that number was one digit (colloquial tail allowed)
        self.last_unit = 0  # the most recent unit, small or big (for the colloquial tail)
        self.last_big = 0
        self.zero = False

    def number(self, value: Decimal, single: bool) -> bool:
        if self.digit is not None:
            return False  # 五五, 3 5: a digit string, not a quantity
        self.digit, self.single = value, single
        return True

    def small_unit(self, unit: int) -> bool:
        if self.digit is None and unit != 10:
            return False
        self.section += (self.digit if self.digit is not None else 1) * unit
        self.digit, self.last_unit, self.zero = None, unit, False
        return True

    def big_unit(self, unit: int) -> bool:
        group = self.section + (self.digit or 0)
        if group == 0 and self.total == 0:
            return False
        if self.total and unit > self.last_big:
            self.total = (self.total + group) * unit  # 一万亿: the 万 group scales again
        else:
            self.total += group * unit
        self.section, self.digit, self.zero = Decimal(0), None, False
        self.last_unit = self.last_big = unit
        return True

    def result(self) -> Decimal:
        tail = self.digit or Decimal(0)
        if self.digit is not None and self.single and self.last_unit >= 10 and not self.zero:
            tail = self.digit * self.last_unit / 10
        return self.total + self.section + tail


def parse_number(text: str) -> Decimal | None:
    """Read a numeral like ``一万二``, ``3万5``, ``1,200`` or ``2.5w``; None if it is not one."""
    if not text:
        return None
    acc = _Accumulator()
    for token in _TOKEN.findall(text):
        if not _feed(acc, token):
            return None
    if acc.digit is None and acc.last_unit == 0:
        return None  # only 零
    return acc.result()


def _feed(acc: _Accumulator, token: str) -> bool:
    if token[0].isdigit():
        return acc.number(Decimal(token.replace(",", "")), single=len(token) == 1)
    if token.startswith("点"):
        return _fraction(acc, token[1:])
    if token in ("零", "〇"):
        acc.zero = True
        return True
    if token in CN_DIGITS:
        return acc.number(Decimal(CN_DIGITS[token]), single=True)
    if token in SMALL_UNITS:
        return acc.small_unit(SMALL_UNITS[token])
    if token in BIG_UNITS:
        return acc.big_unit(BIG_UNITS[token])
    return False


def _fraction(acc: _Accumulator, digits: str) -> bool:
    """``三点五``: the pending digit gains a decimal part, one digit per character."""
    if acc.digit is None and acc.zero:
        acc.digit = Decimal(0)  # 零点五
    if acc.digit is None or acc.digit != acc.digit.to_integral_value():
        return False
    values = [CN_DIGITS.get(c, int(c) if c.isdigit() else -1) for c in digits]
    if min(values) < 0:
        return False
    acc.digit += Decimal("0." + "".join(str(v) for v in values))
    acc.single = False
    return True


def parse_int(text: str) -> int | None:
    """Read a whole number (months, days, counts); None for fractions or non-numerals."""
    value = parse_number(text)
    if value is None or value != value.to_integral_value():
        return None
    return int(value)
