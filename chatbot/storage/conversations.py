"""Queries for chat sessions, transcript messages and the turn log."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from chatbot.storage.models import ChannelBinding, ChatMessage, ChatSession, TurnLog, WebIdentity


def open_session(db: Session, channel: str, user_id: str, now: datetime, idle: timedelta) -> ChatSession:
    """The user's open session, or a new one if none is open or the last went idle.

    A session that waits for or talks to a person never expires by idleness: the
    customer is still in the queue.
    """
    current = db.scalars(
        select(ChatSession)
        .where(ChatSession.channel == channel, ChatSession.user_id == user_id, ChatSession.status == "open")
        .order_by(ChatSession.id.desc())
        .limit(1)
    ).first()
    if current is not None:
        if current.mode != "bot" or now - current.last_active_at <= idle:
            return current
        current.status = "closed"
    session = ChatSession(
        channel=channel, user_id=user_id, customer_id=bound_customer_id(db, channel, user_id),
        mode="bot", status="open", state={}, created_at=now, last_active_at=now,
    )
    db.add(session)
    db.flush()
    return session


def bound_customer_id(db: Session, channel: str, user_id: str) -> int | None:
    return db.scalar(
        select(ChannelBinding.customer_id).where(
            ChannelBinding.channel == channel, ChannelBinding.user_id == user_id
        )
    )


def active_binding(db: Session, channel: str, user_id: str, now: datetime,
                   idle: timedelta | None) -> tuple[int | None, bool]:
    """The bound customer, touched as used now; with `idle`, a binding unused for longer
    lapses (it is deleted and `(None, True)` returned, so the customer must bind again)."""
    binding = db.scalars(select(ChannelBinding).where(
        ChannelBinding.channel == channel, ChannelBinding.user_id == user_id)).first()
    if binding is None:
        return None, False
    last_used = binding.last_used_at or binding.bound_at
    if idle is not None and now - last_used > idle:
        db.execute(delete(ChannelBinding).where(ChannelBinding.id == binding.id))
        return None, True
    binding.last_used_at = now
    return binding.customer_id, False


def claim_identity(db: Session, user_id: str, now: datetime) -> bool:
    """Record a web user id as taken; False when it was taken already (the caller holds
    the conversation's lock, so two first messages of one id cannot both claim it)."""
    if db.get(WebIdentity, user_id) is not None:
        return False
    db.add(WebIdentity(user_id=user_id, created_at=now))
    db.flush()
    return True


def find_turn(db: Session, channel: str, user_id: str, message_id: str) -> TurnLog | None:
    return db.scalars(
        select(TurnLog).where(
            TurnLog.channel == channel, TurnLog.user_id == user_id, TurnLog.message_id == message_id
        )
    ).first()


def add_message(db: Session, session: ChatSession, sender: str, text: str, now: datetime,
                agent_id: int | None = None) -> ChatMessage:
    """A transcript line; `agent_id` names the agent who wrote an agent line."""
    message = ChatMessage(
        session_id=session.id, channel=session.channel, user_id=session.user_id,
        sender=sender, text=text, created_at=now, agent_id=agent_id,
    )
    db.add(message)
    return message


def history(db: Session, channel: str, user_id: str, after: int = 0, limit: int = 200) -> Sequence[ChatMessage]:
    """Messages of one channel user with id greater than `after`, oldest first."""
    return db.scalars(
        select(ChatMessage)
        .where(ChatMessage.channel == channel, ChatMessage.user_id == user_id, ChatMessage.id > after)
        .order_by(ChatMessage.id)
        .limit(limit)
    ).all()


def current_session(db: Session, channel: str, user_id: str) -> ChatSession | None:
    """The user's latest open session, without opening one (status pages, the agent desk)."""
    return db.scalars(
        select(ChatSession)
        .where(ChatSession.channel == channel, ChatSession.user_id == user_id, ChatSession.status == "open")
        .order_by(ChatSession.id.desc())
        .limit(1)
    ).first()


def unanswered(db: Session, since: datetime, limit: int = 200) -> Sequence[TurnLog]:
    """Knowledge questions the bot could not answer (newest first), for analysts to add."""
    return db.scalars(
        select(TurnLog)
        .where(TurnLog.outcome == "faq_not_found", TurnLog.created_at >= since)
        .order_by(TurnLog.id.desc())
        .limit(limit)
    ).all()
