"""Queries for handoff tickets: the queue, an agent's sessions, a session's open ticket.

The queue order is priority (higher first), then arrival (lower id first); messages left
outside service hours (a `handoff_messages` row beside a queued ticket) come after the live
waits, by arrival, and take no place among them. Callers hold
the conversation lock (`lock_conversation_in_transaction`) before changing a ticket, and
`lock_agent` before counting an agent's load to accept one more session.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from chatbot.storage.locks import lock_conversation_in_transaction
from chatbot.storage.models import AgentProfile, ChatSession, Handoff, HandoffMessage, StaffUser

OPEN_STATUSES = ("queued", "active")


def lock_agent(db: Session, staff_id: int) -> None:
    """Serialize capacity checks of one agent across processes (PostgreSQL advisory lock).

    Reuses the conversation lock's key space with a channel name no customer can have.
    """
    lock_conversation_in_transaction(db, "staff", str(staff_id))


def open_ticket(db: Session, session_id: int) -> Handoff | None:
    """The queued or active ticket of a chat session, if any."""
    return db.scalars(
        select(Handoff)
        .where(Handoff.session_id == session_id, Handoff.status.in_(OPEN_STATUSES))
        .order_by(Handoff.id.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    ).first()


def latest_ticket(db: Session, session_id: int) -> Handoff | None:
    return db.scalars(
        select(Handoff).where(Handoff.session_id == session_id).order_by(Handoff.id.desc()).limit(1)
    ).first()


def pending_rating(db: Session, session_id: int) -> Handoff | None:
    """The closed ticket of a session whose customer has been asked for a rating."""
    return db.scalars(
        select(Handoff).where(Handoff.session_id == session_id, Handoff.rating_pending.is_(True))
        .order_by(Handoff.id.desc()).limit(1)
    ).first()


def _is_message():
    return exists().where(HandoffMessage.ticket_id == Handoff.id)


def queued(db: Session) -> Sequence[Handoff]:
    """Every customer waiting live, in service order (messages left are not among them)."""
    return db.scalars(
        select(Handoff).where(Handoff.status == "queued", ~_is_message())
        .order_by(Handoff.priority.desc(), Handoff.id)
    ).all()


def queued_messages(db: Session) -> list[tuple[Handoff, HandoffMessage]]:
    """Queued tickets that are messages left outside service hours, oldest first."""
    rows = db.execute(
        select(Handoff, HandoffMessage).join(HandoffMessage, HandoffMessage.ticket_id == Handoff.id)
        .where(Handoff.status == "queued").order_by(Handoff.id)
    ).all()
    return [(ticket, message) for ticket, message in rows]


def message_of(db: Session, ticket_id: int) -> HandoffMessage | None:
    """The message row of a ticket opened outside service hours, if it is one."""
    return db.get(HandoffMessage, ticket_id, populate_existing=True)


def _behind(ticket: Handoff):
    """Tickets the queue order puts after `ticket`: lower priority, or the same and later."""
    return (Handoff.priority < ticket.priority) | ((Handoff.priority == ticket.priority) & (Handoff.id > ticket.id))


def queued_from(db: Session, ticket: Handoff) -> Sequence[Handoff]:
    """The live queued tickets from `ticket` on (itself while queued, then those after it),
    in service order."""
    return db.scalars(
        select(Handoff).where(Handoff.status == "queued", ~_is_message(),
                              _behind(ticket) | (Handoff.id == ticket.id))
        .order_by(Handoff.priority.desc(), Handoff.id)
    ).all()


def queue_length(db: Session) -> int:
    """Customers waiting live."""
    return int(db.scalar(
        select(func.count()).select_from(Handoff).where(Handoff.status == "queued", ~_is_message())) or 0)


def position(db: Session, ticket: Handoff) -> int:
    """1-based place of a live queued ticket: tickets of higher priority, or same priority and earlier."""
    ahead = db.scalar(
        select(func.count()).select_from(Handoff).where(
            Handoff.status == "queued", ~_is_message(),
            (Handoff.priority > ticket.priority)
            | ((Handoff.priority == ticket.priority) & (Handoff.id < ticket.id)),
        )
    )
    return int(ahead or 0) + 1


def active_for_agent(db: Session, staff_id: int) -> Sequence[Handoff]:
    return db.scalars(
        select(Handoff).where(Handoff.status == "active", Handoff.agent_id == staff_id).order_by(Handoff.id)
    ).all()


def agent_load(db: Session, staff_id: int) -> int:
    return int(db.scalar(
        select(func.count()).select_from(Handoff).where(Handoff.status == "active", Handoff.agent_id == staff_id)
    ) or 0)


def agent_capacity(db: Session, staff_id: int, default: int) -> int:
    profile = db.get(AgentProfile, staff_id)
    return profile.capacity if profile is not None else default


def set_agent_capacity(db: Session, staff_id: int, capacity: int, now: datetime) -> None:
    profile = db.get(AgentProfile, staff_id)
    if profile is None:
        db.add(AgentProfile(staff_id=staff_id, capacity=capacity, updated_at=now))
    else:
        profile.capacity, profile.updated_at = capacity, now


def resume_session(db: Session, session: ChatSession) -> None:
    """Make `session` the customer's open one again (an agent took a message they left hours
    ago, after the session went idle): newer open sessions of the same user are closed, so the
    customer's next message reaches the agent."""
    for newer in db.scalars(select(ChatSession).where(
            ChatSession.channel == session.channel, ChatSession.user_id == session.user_id,
            ChatSession.status == "open", ChatSession.id > session.id)):
        newer.status = "closed"
    session.status = "open"


def recent_handle_seconds(db: Session, limit: int = 50) -> list[float]:
    """How long agents spent on the latest finished tickets (accepted -> released/closed)."""
    rows = db.execute(
        select(Handoff.accepted_at, Handoff.ended_at)
        .where(Handoff.accepted_at.is_not(None), Handoff.ended_at.is_not(None),
               Handoff.status.in_(("released", "closed")))
        .order_by(Handoff.ended_at.desc()).limit(limit)
    ).all()
    return [max(0.0, (ended - accepted).total_seconds()) for accepted, ended in rows]


def tickets_between(db: Session, start: datetime, end: datetime) -> Sequence[Handoff]:
    """Tickets created in [start, end), for metrics."""
    return db.scalars(
        select(Handoff).where(Handoff.created_at >= start, Handoff.created_at < end).order_by(Handoff.id)
    ).all()


def staff_by_id(db: Session, ids: set[int]) -> dict[int, StaffUser]:
    if not ids:
        return {}
    return {s.id: s for s in db.scalars(select(StaffUser).where(StaffUser.id.in_(ids)))}
