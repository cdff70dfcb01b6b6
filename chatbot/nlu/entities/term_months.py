"""``term_months``: a loan, deposit or installment term in months (int).

36期 / 分二十四期 / 十二期 -> the count; 6个月 -> 6; 三年 / 5年期 -> years x 12;
半年 -> 6; 一年半 -> 18. Not a year of the calendar (2024年: four digits never
match), not a time point (三年前), not an ordinal (第3期), not the period of a rate
(我一个月挣六千, 每年收入20万, 一个月还多少); 最近三个月 is a date range and wins the overlap.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from chatbot.nlu.entities.numbers import parse_int
from chatbot.nlu.entities.registry import Context, Span, extractor

# Longer than this is not a term anyone borrows or saves for (50 years).
MAX_TERM_MONTHS = 600

_TERM = re.compile(
    r"(?<![\d.第])(?P<n>\d{1,3}|[零一二两三四五六七八九十百]{1,4}|半)"
    r"(?P<unit>个月期|个月|年期|年|期)(?P<half>半)?"
    r"(?!前|后|以前|以后|底|初|度|级|代)"
)
# "我一个月挣六千", "每年收入20万", "一个月还多少": a rate's period, not a term.
_PER_PERIOD_BEFORE = re.compile(r"每$")
_PER_PERIOD_AFTER = re.compile(r"(?:能|可以|大概|大约)?(?:挣|赚|收入|工资|薪|到手|花|开销|开支)")
# "一个月还多少" asks per month; "分12个月还多少" names the term.
_PER_MONTH_PAYMENT = re.compile(r"(?<!分)(?:一|1)个月(?=还多少|还款多少|供多少|要还)")


@extractor("term_months", priority=50)
def extract_term_months(ctx: Context) -> Iterator[Span]:
    """Yield terms converted to months."""
    for match in _TERM.finditer(ctx.text):
        if (_PER_PERIOD_BEFORE.search(ctx.text, 0, match.start()) or _PER_PERIOD_AFTER.match(ctx.text, match.end())
                or _PER_MONTH_PAYMENT.match(ctx.text, match.start())):
            continue
        months = _months(match)
        if months and months <= MAX_TERM_MONTHS:
            yield Span(match.start(), match.end(), months)


def _months(match: re.Match[str]) -> int | None:
    unit, amount = match["unit"], match["n"]
    if amount == "半":
        return 6 if unit.startswith("年") and not match["half"] else None
    n = parse_int(amount)
    if not n:
        return None
    if unit.startswith("年"):
        return n * 12 + (6 if match["half"] else 0)
    return None if match["half"] else n
