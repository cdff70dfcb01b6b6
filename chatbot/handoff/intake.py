"""The customer's side of a handoff, run by the engine inside the turn's transaction.

    enqueue          the policy asked for a person: open a ticket, tell place and wait
    customer_turn    the session is queued or with an agent: the bot stays out
    take_rating      the first message after a close may be the 1–5 rating

Each returns a `DeskTurn` (replies, outcome label, events) or None when the bot should
answer as usual. The engine publishes the events after its transaction commits.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from chatbot.dialogue.turn import HandoffRequest
from chatbot.handoff import queue, texts
from chatbot.handoff.events import AGENTS, Event
from chatbot.handoff.notices import message_event, mode_event
from chatbot.storage import handoffs
from chatbot.storage.models import ChatMessage, ChatSession, Handoff

# Below this the classifier's "cancel" is a guess; plain words like 取消 always count.
CANCEL_CONFIDENCE = 0.6


@dataclass
class DeskTurn:
    replies: list[str]
    outcome: str
    events: list[Event] = field(default_factory=list)


def enqueue(db: Session, session: ChatSession, request: HandoffRequest, now: datetime,
            announced: bool = False) -> DeskTurn:
    """Put the session in the queue (priority, then arrival) and tell the customer where they stand.

    `announced`: the policy's own reply already says a person is coming (no second apology).
    """
    ticket = Handoff(session_id=session.id, channel=session.channel, user_id=session.user_id,
                     reason=request.reason, priority=request.priority, status="queued",
                     initial_position=1, transfers=0, rating_pending=False, created_at=now)
    db.add(ticket)
    db.flush()
    spot = queue.spot(db, ticket)
    ticket.initial_position = spot.position
    session.mode = "queued"
    events = [mode_event(session, reason=request.reason, **spot.to_dict()), *queue.position_events(db)]
    text = texts.queued(request.reason, spot.position, spot.wait_minutes, announced)
    return DeskTurn([text], "handed_off", events)


def customer_turn(db: Session, session: ChatSession, message: ChatMessage, intent: str | None,
                  confidence: float, now: datetime) -> DeskTurn | None:
    """Route a message of a queued or agent session; None if the session has no open ticket."""
    ticket = handoffs.open_ticket(db, session.id)
    if ticket is None:
        session.mode = "bot"  # a stale mode (no ticket behind it) must not trap the customer
        return None
    if ticket.status == "queued":
        confident_intent = intent if confidence >= CANCEL_CONFIDENCE else None
        if texts.is_cancel(message.text, confident_intent):
            return _cancel(db, session, ticket, now)
        spot = queue.spot(db, ticket)
        # Consoles refresh the waiting customer's last words in the queue list.
        return DeskTurn([texts.still_queued(spot.position, spot.wait_minutes)], "queued",
                        [Event("queue", (AGENTS,), session.id, {})])
    db.flush()  # the message needs its id for the console
    return DeskTurn([], "forwarded_to_agent", [message_event(session, message, ticket.agent_id)])


def take_rating(db: Session, session: ChatSession, text: str, now: datetime) -> DeskTurn | None:
    """The customer's answer to the rating question; any other message ends the question."""
    ticket = handoffs.pending_rating(db, session.id)
    if ticket is None:
        return None
    ticket.rating_pending = False
    rating = texts.parse_rating(text)
    if rating is None:
        return None
    ticket.rating, ticket.rated_at = rating, now
    return DeskTurn([texts.thanks_for_rating(rating)], "rated",
                    [Event("rating", (AGENTS,), session.id, {"rating": rating, "ticket_id": ticket.id})])


def _cancel(db: Session, session: ChatSession, ticket: Handoff, now: datetime) -> DeskTurn:
    ticket.status, ticket.ended_at = "cancelled", now
    session.mode = "bot"
    db.flush()
    events = [mode_event(session, cancelled=True), *queue.position_events(db)]
    return DeskTurn([texts.cancelled()], "handoff_cancelled", events)
