"""Past conversations for the console's search (read-only; masking happens in the caller).

A past conversation is an ended handoff ticket (released, closed or cancelled). The query is
bounded by the ticket's end time (`ix_handoffs_ended_at`, a window of at most a few months),
and every other filter narrows that range; words are `LIKE '%word%'` over the stored (masked)
transcript of each candidate session, through `ix_chat_messages_session_id`, inside an EXISTS.
No table is read whole and nothing is filtered in Python.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from chatbot.storage.models import ChatMessage, ChatSession, Customer, Handoff, StaffUser

ENDED = ("released", "closed", "cancelled")


@dataclass(frozen=True)
class Filters:
    """Validated filters (chatbot/handoff/history.py builds them); None means any."""

    start: datetime  # ended at or after (UTC)
    end: datetime  # ended before (UTC)
    words: tuple[str, ...] = ()
    customer: str | None = None  # a masked name (张*) or a user id
    channel: str | None = None
    status: str | None = None
    reason: str | None = None
    rating: int | None = None
    agent_id: int | None = None
    only_agent_id: int | None = None  # an agent sees the sessions they served (and may open) only


@dataclass(frozen=True)
class Row:
    ticket: Handoff
    session: ChatSession
    customer_name: str | None
    agent_name: str | None


def like_pattern(word: str) -> str:
    """`%word%` with LIKE's own characters taken literally (escape character backslash)."""
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search(db: Session, f: Filters, limit: int, offset: int) -> list[Row]:
    """Ended tickets matching every filter, newest end first; `limit` rows from `offset`."""
    agent = aliased(StaffUser)
    stmt = (
        select(Handoff, ChatSession, Customer.name, agent.display_name)
        .join(ChatSession, ChatSession.id == Handoff.session_id)
        .outerjoin(Customer, Customer.id == ChatSession.customer_id)
        .outerjoin(agent, agent.id == Handoff.agent_id)
        .where(*_conditions(f))
        .order_by(Handoff.ended_at.desc(), Handoff.id.desc())
        .limit(limit).offset(offset)
    )
    return [Row(t, s, name, agent_name) for t, s, name, agent_name in db.execute(stmt).all()]


def _conditions(f: Filters) -> list[ColumnElement]:
    where: list[ColumnElement] = [Handoff.ended_at >= f.start, Handoff.ended_at < f.end,
                                  Handoff.status.in_([f.status] if f.status else ENDED)]
    for column, value in ((Handoff.channel, f.channel), (Handoff.reason, f.reason),
                          (Handoff.rating, f.rating), (Handoff.agent_id, f.agent_id)):
        if value is not None:
            where.append(column == value)
    if f.only_agent_id is not None:
        later = aliased(Handoff)
        newest = select(func.max(later.id)).where(later.session_id == Handoff.session_id).scalar_subquery()
        where += [Handoff.agent_id == f.only_agent_id, Handoff.id == newest]  # what the view lets them open
    if f.customer:
        where.append(_customer(f.customer))
    for word in f.words:
        where.append(exists().where(ChatMessage.session_id == Handoff.session_id,
                                    ChatMessage.text.like(like_pattern(word), escape="\\")))
    return where


def _customer(value: str) -> ColumnElement:
    """张* matches the customers the console shows as 张* (first character, same length);
    anything else is a channel user id, exactly."""
    if value.endswith("*") and not value.startswith("*"):
        first = value[0]
        masked = and_(Customer.name.like(like_pattern(first)[1:], escape="\\"),
                      func.length(Customer.name) == len(value))
        return or_(masked, Handoff.user_id == value)
    return Handoff.user_id == value


def first_match(db: Session, session_id: int, words: Sequence[str]) -> ChatMessage | None:
    """The first line of a session holding a word (the first word found), else its last customer line."""
    for word in words:
        line = db.scalars(select(ChatMessage).where(
            ChatMessage.session_id == session_id, ChatMessage.text.like(like_pattern(word), escape="\\"))
            .order_by(ChatMessage.id).limit(1)).first()
        if line is not None:
            return line
    return db.scalars(select(ChatMessage).where(ChatMessage.session_id == session_id,
                                                ChatMessage.sender == "user")
                      .order_by(ChatMessage.id.desc()).limit(1)).first()
