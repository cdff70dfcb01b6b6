"""The desk's rules that come from settings: service hours, when an agent counts as online,
the default capacity. `build_handoff` registers them with the database they serve; code that
only has the turn's session (the engine's call into `intake`) finds them through its bind.

Service hours are bank time (Asia/Shanghai): `CHATBOT_AGENT_HOURS=09:00-21:00`, or
`22:00-06:00` across midnight; the default `00:00-24:00` is always open (the demo and the
tests never depend on the time of day).
"""
from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy.orm import Session

from chatbot.clock import BANK_TZ

_HOURS = re.compile(r"^\s*([01]?\d|2[0-4]):([0-5]\d)\s*-\s*([01]?\d|2[0-4]):([0-5]\d)\s*$")
DAY = 24 * 60


@dataclass(frozen=True)
class ServiceHours:
    """Minutes after bank midnight when agents start and stop (stop may be 24:00)."""

    opens: int = 0
    closes: int = DAY

    @classmethod
    def parse(cls, text: str) -> "ServiceHours":
        """`09:00-21:00` -> ServiceHours(540, 1260); ValueError naming the expected form."""
        match = _HOURS.match(text or "")
        if not match:
            raise ValueError(f"service hours must look like 09:00-21:00, not {text!r}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        opens, closes = h1 * 60 + m1, h2 * 60 + m2
        if opens > DAY or closes > DAY or opens == closes or opens == DAY:
            raise ValueError(f"service hours must look like 09:00-21:00, not {text!r}")
        return cls(opens, closes)

    @property
    def always(self) -> bool:
        return self.opens == 0 and self.closes == DAY

    @property
    def label(self) -> str:
        return f"{_clock(self.opens)}–{_clock(self.closes)}"

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(BANK_TZ)
        minute = local.hour * 60 + local.minute
        if self.opens < self.closes:
            return self.opens <= minute < self.closes
        return minute >= self.opens or minute < self.closes  # across midnight

    def next_opening(self, at: datetime) -> datetime:
        """The next moment agents come on duty after `at` (timezone-aware, bank time)."""
        local = at.astimezone(BANK_TZ)
        opening = datetime.combine(local.date(), time(self.opens // 60, self.opens % 60), BANK_TZ)
        return opening if opening > local else opening + timedelta(days=1)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class DeskRules:
    hours: ServiceHours = field(default_factory=ServiceHours)
    # An open console stream refreshes its agent every 15 s; three missed beats: gone.
    stream_window: timedelta = timedelta(seconds=45)
    # An agent who used the console API this recently counts as online too.
    action_window: timedelta = timedelta(minutes=5)
    default_capacity: int = 3


DEFAULT_RULES = DeskRules()
_registered: "weakref.WeakKeyDictionary[object, DeskRules]" = weakref.WeakKeyDictionary()


def register(database, rules: DeskRules) -> None:
    """Rules for every session of this `chatbot.storage.db.Database` (keyed by its engine)."""
    _registered[database.engine] = rules


def rules_for(db: Session) -> DeskRules:
    """The rules registered for the database behind `db`, else the defaults."""
    return _registered.get(db.get_bind(), DEFAULT_RULES)
