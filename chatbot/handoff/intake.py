"""The customer's side of a handoff, run by the engine inside the turn's transaction.

    enqueue          the policy asked for a person: open a ticket, tell place and wait
                     (outside service hours: ask for a message instead)
    customer_turn    the session is queued or with an agent: the bot stays out; a message
                     asked for outside service hours is kept for the agents
    take_rating      the first message after a close may be the 1–5 rating

Each returns a `DeskTurn` (replies, outcome label, events) or None when the bot should
answer as usual. The engine publishes the events after its transaction commits.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from chatbot.dialogue import own_money
from chatbot.dialogue.turn import HandoffRequest
from chatbot.handoff import queue, texts
from chatbot.handoff.events import AGENTS, Event
from chatbot.handoff.notices import message_event, mode_event
from chatbot.handoff.rules import rules_for
from chatbot.storage import handoffs
from chatbot.storage.models import ChatMessage, ChatSession, Handoff, HandoffMessage

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

    Outside service hours (`CHATBOT_AGENT_HOURS`) the ticket is a message instead: the
    customer is told when agents are back and their next message is kept for them.
    `announced`: the policy's own reply already says a person is coming (no second apology).
    """
    rules = rules_for(db)
    ticket = handoffs.open_ticket(db, session.id)  # only a message left earlier can be open here
    note = handoffs.message_of(db, ticket.id) if ticket is not None else None
    if note is not None and not rules.hours.is_open(now):
        note.status = "awaiting"  # the next message adds to the one left
        session.mode = "queued"
        return DeskTurn([texts.message_again(note.reply_from, now)], "message_requested",
                        [mode_event(session, reason=ticket.reason, message=True)])
    if note is not None:  # back in service hours before an agent took the message: wait live
        db.delete(note)
    if ticket is None:
        ticket = Handoff(session_id=session.id, channel=session.channel, user_id=session.user_id,
                         reason=request.reason, priority=request.priority, status="queued",
                         initial_position=1, transfers=0, rating_pending=False, created_at=now)
        db.add(ticket)
    db.flush()
    session.mode = "queued"
    if not rules.hours.is_open(now):
        reply_from = rules.hours.next_opening(now)
        db.add(HandoffMessage(ticket_id=ticket.id, status="awaiting", created_at=now, reply_from=reply_from))
        db.flush()
        text = texts.after_hours(request.reason, rules.hours.label, reply_from, now, announced)
        return DeskTurn([text], "message_requested", [
            mode_event(session, reason=request.reason, message=True, reply_from=reply_from.isoformat()),
            Event("queue", (AGENTS,), session.id, {})])
    staff = queue.staffing(db, now)
    spot = queue.spot(db, ticket, now, staff)
    ticket.initial_position = spot.position
    events = [mode_event(session, reason=request.reason, **spot.to_dict()),
              *queue.position_events(db, now, moved=ticket, staff=staff)]
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
        note = handoffs.message_of(db, ticket.id)
        if texts.is_cancel(message.text, confident_intent):
            if note is not None and note.message_id is not None:  # keep what was left; stop adding
                note.status = "left"
                session.mode = "bot"
                return DeskTurn([texts.message_cancelled()], "message_kept", [mode_event(session, message=True)])
            return _cancel(db, session, ticket, now, texts.message_cancelled() if note else texts.cancelled())
        if note is not None:
            return _take_message(db, session, ticket, note, message, now)
        spot = queue.spot(db, ticket, now)
        # Consoles refresh the waiting customer's last words in the queue list.
        lost = own_money.lost_card(message.text)
        return DeskTurn([texts.still_queued(spot.position, spot.wait_minutes, lost_card=lost)], "queued",
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


def _take_message(db: Session, session: ChatSession, ticket: Handoff, note: HandoffMessage,
                  message: ChatMessage, now: datetime) -> DeskTurn:
    """The message asked for outside service hours: kept (it is in the transcript), shown in
    the console's queue as a message; the customer goes back to the bot meanwhile."""
    db.flush()  # the message's id
    note.status, note.message_id, note.left_at = "left", message.id, now
    session.mode = "bot"
    events = [mode_event(session, message=True, left=True), Event("queue", (AGENTS,), session.id, {})]
    return DeskTurn([texts.message_taken(note.reply_from, now)], "message_left", events)


def _cancel(db: Session, session: ChatSession, ticket: Handoff, now: datetime, text: str) -> DeskTurn:
    ticket.status, ticket.ended_at = "cancelled", now
    session.mode = "bot"
    db.flush()
    events = [mode_event(session, cancelled=True), *queue.position_events(db, now, moved=ticket)]
    return DeskTurn([text], "handoff_cancelled", events)
