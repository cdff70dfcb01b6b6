"""``date_range``: ``{"start": date, "end": date}`` relative to ``today``.

Rules (weeks start on Monday; both ends inclusive):

- 今天 / 昨天 / 前天 / 大前天: that single day.
- 本周, 本月, 今年 (and 这周, 这个月, ...): from the period's first day up to
  today, because the future holds no transactions to ask about.
- 上周, 上个月, 去年, 前年: the whole previous period.
- 近N天 / 最近一周 / 近N周: the N days (7N) ending today, today included.
- 最近N个月 / 近半年 / 近一年 / N个月内: see :func:`periods.last_months`: from the
  day after the same calendar day N months ago (clamped to month end) to today.
- 3月 / 3月份 without a year: the most recent March not in the future (this
  year, or last year if March is still to come); 今年3月 / 2026年3月 / 去年3月:
  that whole month, as stated.
- 2026年 / 2026年度: the whole year.
- 3月1日, 2026-03-01: that day; 3月1日到3月15日, 2026-03-01至2026-03-15, 3月1日-15日:
  the range. A range without a year is put in the most recent year in which
  it has started.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta

from chatbot.nlu.entities import periods as cal
from chatbot.nlu.entities.base import FrozenDict
from chatbot.nlu.entities.numbers import parse_int
from chatbot.nlu.entities.registry import Context, Span, extractor

Resolver = Callable[[re.Match[str], date], "tuple[date, date] | None"]

_CN = "零一二两三四五六七八九十"
_NUM = rf"(?:\d{{1,3}}|[{_CN}]{{1,3}})"
_YEAR = r"(?:19|20)\d{2}"
_MONTH = r"(?:1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])"
_DAY = r"(?:[12]\d|3[01]|0?[1-9]|三十一?|[一二]?十[一二三四五六七八九]?|[一二三四五六七八九])"
_REL_YEAR = {"今年": 0, "去年": 1, "前年": 2}
_DATE = rf"(?:{_YEAR}[-/.]{_MONTH}[-/.]{_DAY}(?!\d)|(?:{_YEAR}年|今年|去年|前年)?{_MONTH}月{_DAY}[日号]?)"
_DATE_PARTS = re.compile(
    rf"(?:(?P<y>{_YEAR})[-/.年]|(?P<rel>今年|去年|前年))?(?:(?P<m>{_MONTH})[-/.月])?(?P<d>{_DAY})[日号]?"
)
_NOT_A_WEEKDAY = r"(?![一二三四五六日天末1-7])"

_RULES: list[tuple[re.Pattern[str], Resolver]] = []


def _rule(pattern: str) -> Callable[[Resolver], Resolver]:
    """Register a resolver for the text ``pattern`` matches."""

    def add(resolver: Resolver) -> Resolver:
        _RULES.append((re.compile(pattern), resolver))
        return resolver

    return add


@extractor("date_range", priority=70)
def extract_date_range(ctx: Context) -> Iterator[Span]:
    """Yield every date expression; overlap resolution keeps the longest."""
    for pattern, resolve in _RULES:
        for match in pattern.finditer(ctx.text):
            try:
                found = resolve(match, ctx.today)
            except ValueError:  # 2月30日 and the like
                continue
            if found and found[0] <= found[1]:
                yield Span(match.start(), match.end(), FrozenDict(start=found[0], end=found[1]))


@_rule(r"今天|今日|当天|昨天|昨日|大前天|前天")
def _day(match: re.Match[str], today: date) -> cal.DateRange:
    back = {"昨": 1, "前": 2, "大": 3}.get(match.group()[0], 0)
    return today - timedelta(days=back), today - timedelta(days=back)


@_rule(rf"(?:(?P<this>本|这个?)|上个?)(?:周|星期|礼拜){_NOT_A_WEEKDAY}")
def _week(match: re.Match[str], today: date) -> cal.DateRange:
    monday = cal.week_start(today)
    if match["this"]:
        return monday, today
    return monday - timedelta(days=7), monday - timedelta(days=1)


@_rule(r"(?:本|这个?|当)月份?|上个?月(?!份?\d)")
def _month_relative(match: re.Match[str], today: date) -> cal.DateRange:
    if match.group().startswith("上"):
        previous = cal.add_months(today.replace(day=1), -1)
        return cal.whole_month(previous.year, previous.month)
    return today.replace(day=1), today


@_rule(rf"(?:最近|近|过去)(?P<n>{_NUM}|半)(?P<u>个月|个?星期|个?礼拜|周|天|日|年|月)"
       rf"|(?P<n2>{_NUM}|半)(?P<u2>个月|天|周|年)(?:以内|内|以来)")  # fmt: skip
def _rolling(match: re.Match[str], today: date) -> cal.DateRange | None:
    amount, unit = match["n"] or match["n2"], match["u"] or match["u2"]
    if amount == "半":
        return cal.last_months(today, 6) if unit == "年" else cal.last_days(today, 15)
    n = parse_int(amount)
    if not n:
        return None
    if unit in ("天", "日"):
        return cal.last_days(today, n)
    if unit in ("年", "个月", "月"):
        return cal.last_months(today, n * 12 if unit == "年" else n)
    return cal.last_days(today, 7 * n)


@_rule(r"今年|去年|前年|(?<!\d)(?P<y>(?:19|20)\d{2})年度?")
def _year(match: re.Match[str], today: date) -> cal.DateRange:
    if match["y"]:
        return cal.whole_year(int(match["y"]))
    if match.group() == "今年":
        return date(today.year, 1, 1), today
    return cal.whole_year(today.year - (1 if match.group() == "去年" else 2))


@_rule(rf"(?<![\d\-/.])(?:(?P<y>{_YEAR})年|(?P<rel>今年|去年|前年))?(?P<m>{_MONTH})月份?"
       rf"|(?<!\d)(?P<y2>{_YEAR})[-/](?P<m2>{_MONTH})(?![-/.\d])")  # fmt: skip
def _month(match: re.Match[str], today: date) -> cal.DateRange | None:
    month = parse_int(match["m"] or match["m2"])
    if not month or month > 12:
        return None
    year_text = match["y"] or match["y2"]
    if year_text:
        return cal.whole_month(int(year_text), month)
    relative = _REL_YEAR.get(match["rel"] or "")
    year = today.year - relative if relative is not None else cal.month_in_past(today, month)
    return cal.whole_month(year, month)


@_rule(rf"(?<![\d\-/.])(?P<a>{_DATE})(?:\s?(?:到|至|~|-|—)\s?(?P<b>{_DATE}|{_DAY}[日号]))?")
def _dates(match: re.Match[str], today: date) -> cal.DateRange | None:
    first = _DATE_PARTS.fullmatch(match["a"])
    start = _date_of(first, None, today)
    if start is None:
        return None
    if not match["b"]:
        return start, start
    end = _date_of(_DATE_PARTS.fullmatch(match["b"]), start, today)
    if end is not None and end < start and not (first["y"] or first["rel"]):
        end = end.replace(year=end.year + 1)  # 12月20日到1月5日 crosses New Year
    return (start, end) if end is not None else None


def _date_of(parts: re.Match[str] | None, anchor: date | None, today: date) -> date | None:
    """A date from its parts; missing year/month come from ``anchor`` or ``today``."""
    if parts is None:
        return None
    day, month = parse_int(parts["d"]), parse_int(parts["m"]) if parts["m"] else None
    if anchor is not None:
        year = int(parts["y"]) if parts["y"] else anchor.year
        return date(year, month or anchor.month, day)
    if month is None:
        return None
    if parts["y"]:
        return date(int(parts["y"]), month, day)
    if parts["rel"]:
        return date(today.year - _REL_YEAR[parts["rel"]], month, day)
    guess = date(today.year, month, day)
    return guess if guess <= today else date(today.year - 1, month, day)
