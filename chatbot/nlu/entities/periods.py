"""Calendar arithmetic for date ranges (weeks start on Monday)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

DateRange = tuple[date, date]


def month_end(year: int, month: int) -> date:
    """The last day of ``year``-``month``."""
    return date(year, month, calendar.monthrange(year, month)[1])


def whole_month(year: int, month: int) -> DateRange:
    """First to last day of a month."""
    return date(year, month, 1), month_end(year, month)


def whole_year(year: int) -> DateRange:
    """1 January to 31 December."""
    return date(year, 1, 1), date(year, 12, 31)


def add_months(day: date, months: int) -> date:
    """Shift by whole months, clamping to the month's last day (Mar 31 - 1 month = Feb 28)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def last_days(today: date, days: int) -> DateRange:
    """The ``days`` days ending today, today included (近7天 = today-6 .. today)."""
    return today - timedelta(days=days - 1), today


def last_months(today: date, months: int) -> DateRange:
    """The ``months``-month window ending today.

    It starts the day after the same calendar day ``months`` months earlier,
    clamped to that month's end: from 2026-05-31, 最近三个月 is 2026-03-01 ..
    2026-05-31 (Feb 28 + 1 day); from 2026-01-05 it is 2025-10-06 .. 2026-01-05.
    """
    return add_months(today, -months) + timedelta(days=1), today


def month_in_past(today: date, month: int) -> int:
    """The year of the most recent ``month`` not in the future (this year or last)."""
    return today.year if month <= today.month else today.year - 1
