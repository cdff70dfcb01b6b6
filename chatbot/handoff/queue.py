"""Queue place and estimated wait, told to the customer when queued and as the queue moves.

The estimate comes from who is on duty now (docs/handoff.md, "Wait estimates"):

* agents online: their console's event stream is open, or they used the console within the
  last few minutes (`chatbot/handoff/presence.py`; kept in the database, so every worker
  counts the same agents), and their status is online: an agent who set 忙碌 (busy) or
  离开 (away) on the console takes nobody new, so is not counted;
* their free capacity: a customer whose place is within the free slots is taken as soon as
  an agent looks (one minute);
* beyond that, a slot frees every (recent handling time / slots online): the average time
  agents spent on their latest 50 finished tickets (five minutes without history).

With nobody online there is no estimate (`wait_minutes` None) and the customer is told so.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from chatbot.handoff.events import AGENTS, Event, customer_key
from chatbot.handoff.rules import DeskRules, rules_for
from chatbot.storage import handoffs
from chatbot.storage import presence as presence_store
from chatbot.storage.models import Handoff

DEFAULT_HANDLE_SECONDS = 300.0


@dataclass(frozen=True)
class Staffing:
    """Who is on duty now: agents online, their free slots and all their slots, and how long
    a customer has recently kept an agent busy."""

    online: int
    free: int
    slots: int
    handle_seconds: float

    def wait_minutes(self, position: int) -> int | None:
        if self.online == 0:
            return None
        if position <= self.free:
            return 1
        seconds = (position - self.free) * self.handle_seconds / max(1, self.slots)
        return max(1, math.ceil(seconds / 60))


@dataclass(frozen=True)
class QueueSpot:
    position: int
    wait_minutes: int | None  # None: nobody is online to estimate from
    agents_online: int

    def to_dict(self) -> dict:
        return {"position": self.position, "estimated_wait_minutes": self.wait_minutes,
                "agents_online": self.agents_online}


def online_agents(db: Session, now: datetime, rules: DeskRules | None = None) -> set[int]:
    """Agents taking customers now: connected, with their status set to online (not busy or away)."""
    rules = rules or rules_for(db)
    return presence_store.online_ids(db, now - rules.stream_window, now - rules.action_window)


def agent_statuses(db: Session, now: datetime, rules: DeskRules | None = None) -> dict[int, str]:
    """Connected agents and the status each chose (online / busy / away); others are offline."""
    rules = rules or rules_for(db)
    return presence_store.connected(db, now - rules.stream_window, now - rules.action_window)


def staffing(db: Session, now: datetime) -> Staffing:
    rules = rules_for(db)
    online = online_agents(db, now, rules)
    slots = free = 0
    for staff_id in online:
        capacity = handoffs.agent_capacity(db, staff_id, rules.default_capacity)
        slots += capacity
        free += max(0, capacity - handoffs.agent_load(db, staff_id))
    handled = handoffs.recent_handle_seconds(db)
    handle = sum(handled) / len(handled) if handled else DEFAULT_HANDLE_SECONDS
    return Staffing(len(online), free, slots, max(30.0, handle))


def spot(db: Session, ticket: Handoff, now: datetime, staff: Staffing | None = None) -> QueueSpot:
    """Where one live queued ticket stands now."""
    position = handoffs.position(db, ticket)
    staff = staff or staffing(db, now)
    return QueueSpot(position, staff.wait_minutes(position), staff.online)


def position_events(db: Session, now: datetime, moved: Handoff | None = None,
                    staff: Staffing | None = None) -> list[Event]:
    """One `queue` event for the consoles, plus a `position` event for each customer waiting
    live whose place is new: `moved` (the ticket that just joined the queue) and those behind
    it, or those behind a ticket that just left; every one without `moved` (e.g. when an
    agent took someone: fewer free agents change every estimate).

    A customer joining at the end of the queue, the usual case, moves nobody else: no need
    to read the whole queue for that (it was read on every request for a person).
    """
    if moved is None:
        changed, length = handoffs.queued(db), None
    else:
        changed, length = handoffs.queued_from(db, moved), handoffs.queue_length(db)
    length = len(changed) if length is None else length
    events = [Event("queue", (AGENTS,), None, {"queue_length": length})]
    if changed:
        staff = staff or staffing(db, now)
        for place, ticket in enumerate(changed, start=length - len(changed) + 1):
            data = QueueSpot(place, staff.wait_minutes(place), staff.online).to_dict()
            events.append(Event("position", (customer_key(ticket.channel, ticket.user_id),), ticket.session_id,
                                data))
    return events
