"""Queue place and estimated wait, told to the customer when queued and as the queue moves.

The estimate is position x (seconds a queue place took recently): the recent accepted
tickets' total wait divided by the total number of places they started behind. Without
history a place counts as one minute. Always at least one minute, rounded up.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy.orm import Session

from chatbot.handoff.events import AGENTS, Event, customer_key
from chatbot.storage import handoffs
from chatbot.storage.models import Handoff

DEFAULT_SECONDS_PER_PLACE = 60.0


@dataclass(frozen=True)
class QueueSpot:
    position: int
    wait_minutes: int

    def to_dict(self) -> dict:
        return {"position": self.position, "estimated_wait_minutes": self.wait_minutes}


def seconds_per_place(db: Session) -> float:
    waits = handoffs.recent_waits(db)
    places = sum(place for _, place in waits)
    if not waits or places == 0:
        return DEFAULT_SECONDS_PER_PLACE
    return max(1.0, sum(seconds for seconds, _ in waits) / places)


def estimate(position: int, per_place: float) -> int:
    return max(1, math.ceil(position * per_place / 60))


def spot(db: Session, ticket: Handoff) -> QueueSpot:
    """Where one queued ticket stands now."""
    position = handoffs.position(db, ticket)
    return QueueSpot(position, estimate(position, seconds_per_place(db)))


def position_events(db: Session) -> list[Event]:
    """One `position` event per waiting customer, plus one `queue` event for the consoles."""
    waiting = handoffs.queued(db)
    per_place = seconds_per_place(db)
    events = [Event("queue", (AGENTS,), None, {"queue_length": len(waiting)})]
    for place, ticket in enumerate(waiting, start=1):
        data = QueueSpot(place, estimate(place, per_place)).to_dict()
        events.append(Event("position", (customer_key(ticket.channel, ticket.user_id),), ticket.session_id, data))
    return events
