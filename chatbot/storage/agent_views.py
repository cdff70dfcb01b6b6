"""Read-only queries behind the agent's view of a session (masking happens in the caller)."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chatbot.storage.models import (
    Account,
    Card,
    ChatMessage,
    ChatSession,
    Customer,
    Handoff,
    TurnLog,
)


def transcript(db: Session, session_id: int, limit: int = 300) -> Sequence[ChatMessage]:
    """The last `limit` messages of a session, oldest first."""
    rows = db.scalars(
        select(ChatMessage).where(ChatMessage.session_id == session_id)
        .order_by(ChatMessage.id.desc()).limit(limit)
    ).all()
    return list(reversed(rows))


def session_turns(db: Session, session_id: int, limit: int = 20) -> Sequence[TurnLog]:
    """The latest turn-log rows of a session, newest first."""
    return db.scalars(
        select(TurnLog).where(TurnLog.session_id == session_id).order_by(TurnLog.id.desc()).limit(limit)
    ).all()


def user_turns(db: Session, channel: str, user_id: str, limit: int = 60) -> Sequence[TurnLog]:
    """The latest turns of a channel user across sessions, newest first."""
    return db.scalars(
        select(TurnLog).where(TurnLog.channel == channel, TurnLog.user_id == user_id)
        .order_by(TurnLog.id.desc()).limit(limit)
    ).all()


def customer(db: Session, customer_id: int) -> Customer | None:
    return db.get(Customer, customer_id)


def customer_accounts(db: Session, customer_id: int) -> list[tuple[Account, Card | None]]:
    """A customer's accounts with their card (if any), in opening order."""
    rows = db.execute(
        select(Account, Card).outerjoin(Card, Card.account_id == Account.id)
        .where(Account.customer_id == customer_id).order_by(Account.id)
    ).all()
    return [(account, card) for account, card in rows]


def earlier_sessions(db: Session, channel: str, user_id: str, customer_id: int | None,
                     exclude: int, limit: int = 10) -> Sequence[ChatSession]:
    """Other sessions of the same channel user, or of the same bound customer, newest first."""
    who = (ChatSession.channel == channel) & (ChatSession.user_id == user_id)
    if customer_id is not None:
        who = who | (ChatSession.customer_id == customer_id)
    return db.scalars(
        select(ChatSession).where(who, ChatSession.id != exclude).order_by(ChatSession.id.desc()).limit(limit)
    ).all()


def message_counts(db: Session, session_ids: list[int]) -> dict[int, int]:
    if not session_ids:
        return {}
    rows = db.execute(
        select(ChatMessage.session_id, func.count()).where(ChatMessage.session_id.in_(session_ids))
        .group_by(ChatMessage.session_id)
    ).all()
    return {sid: count for sid, count in rows}


def customer_message_count(db: Session, session_id: int) -> int:
    """How many lines of a session the customer wrote (the console counts unread ones from it)."""
    return int(db.scalar(select(func.count()).select_from(ChatMessage).where(
        ChatMessage.session_id == session_id, ChatMessage.sender == "user")) or 0)


def tickets_of_sessions(db: Session, session_ids: list[int]) -> Sequence[Handoff]:
    if not session_ids:
        return []
    return db.scalars(select(Handoff).where(Handoff.session_id.in_(session_ids)).order_by(Handoff.id)).all()
