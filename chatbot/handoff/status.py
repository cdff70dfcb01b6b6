"""Where a customer stands with the desk, for a page that (re)loads: queued, with an agent, rating."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from chatbot.handoff import queue
from chatbot.storage import conversations, handoffs
from chatbot.storage import staff as staff_store


def customer_status(db: Session, channel: str, user_id: str, now: datetime) -> dict:
    """{"mode", "position", "estimated_wait_minutes", "agents_online", "agent", "rating_pending",
    "message"} of the open session; `estimated_wait_minutes` is null while nobody is online;
    `message` ({"status": "awaiting"|"left", "reply_from"}) for a message left outside service hours."""
    status = {"mode": "bot", "position": None, "estimated_wait_minutes": None, "agents_online": None,
              "agent": None, "rating_pending": False, "message": None}
    session = conversations.current_session(db, channel, user_id)
    if session is None:
        return status
    status["mode"] = session.mode
    ticket = handoffs.open_ticket(db, session.id)
    note = handoffs.message_of(db, ticket.id) if ticket is not None else None
    if note is not None and ticket.status == "queued":
        status["message"] = {"status": note.status, "reply_from": note.reply_from.isoformat()}
    elif ticket is not None and ticket.status == "queued":
        status.update(queue.spot(db, ticket, now).to_dict())
    elif ticket is not None and ticket.agent_id is not None:
        agent = staff_store.by_id(db, ticket.agent_id)
        status["agent"] = agent.display_name if agent else None
    status["rating_pending"] = handoffs.pending_rating(db, session.id) is not None
    return status
