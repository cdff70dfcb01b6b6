"""Time as an injectable dependency so tests can pin "now" and "today"."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Protocol
from zoneinfo import ZoneInfo

BANK_TZ = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time, timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FixedClock:
    """A clock that only moves when told to (tests)."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at

    def advance(self, **kwargs) -> None:
        from datetime import timedelta

        self._at += timedelta(**kwargs)


def bank_today(clock: Clock) -> date:
    """The calendar date at the bank (China time), which is what 今天/上个月 mean."""
    return clock.now().astimezone(BANK_TZ).date()
