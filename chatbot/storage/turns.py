"""A turn's reads and writes in as few plain SQL statements as it takes (SQLAlchemy Core).

The engine answers most turns from what it reads (chatbot/engine.py): `read_conversation`
loads everything the turn needs about the conversation in one statement, outside
the write lock; `store_turn` writes the answer in one short transaction, and only if the
session is still the one that was read (its `version` is unchanged; every writer of a
session moves it on), otherwise the engine redoes the turn under the lock.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, exists, insert, literal, select, true, update
from sqlalchemy.engine import Connection

from chatbot.storage.models import ChannelBinding, ChatMessage, ChatSession, Handoff, TurnLog

_SESSIONS, _MESSAGES, _TURNS = ChatSession.__table__, ChatMessage.__table__, TurnLog.__table__
_BINDINGS = ChannelBinding.__table__

# Built once with bound parameters: SQLAlchemy then compiles each statement once per process.
_OPEN_SESSION = (
    select(_SESSIONS.c.id, _SESSIONS.c.mode, _SESSIONS.c.state, _SESSIONS.c.last_active_at,
           _SESSIONS.c.version,
           exists().where(Handoff.session_id == _SESSIONS.c.id, Handoff.rating_pending.is_(True))
           .label("rating_pending"))
    .where(_SESSIONS.c.channel == bindparam("channel"), _SESSIONS.c.user_id == bindparam("user_id"),
           _SESSIONS.c.status == "open")
    .order_by(_SESSIONS.c.id.desc()).limit(1)
).subquery("open_session")
# One row whatever exists: the open session, the binding and the earlier turn side by side
# (one round trip to PostgreSQL instead of three).
_CONVERSATION = select(
    _OPEN_SESSION.c.id, _OPEN_SESSION.c.mode, _OPEN_SESSION.c.state, _OPEN_SESSION.c.last_active_at,
    _OPEN_SESSION.c.version, _OPEN_SESSION.c.rating_pending,
    _BINDINGS.c.customer_id, _BINDINGS.c.bound_at, _BINDINGS.c.last_used_at,
    _TURNS.c.session_id.label("earlier_session_id"), _TURNS.c.text_digest.label("earlier_digest"),
    _TURNS.c.replies.label("earlier_replies"), _TURNS.c.state.label("earlier_state"),
).select_from(
    select(literal(1).label("one")).subquery("one")
    .outerjoin(_OPEN_SESSION, true())
    .outerjoin(_BINDINGS, and_(_BINDINGS.c.channel == bindparam("channel"),
                               _BINDINGS.c.user_id == bindparam("user_id")))
    .outerjoin(_TURNS, and_(_TURNS.c.channel == bindparam("channel"), _TURNS.c.user_id == bindparam("user_id"),
                            _TURNS.c.message_id == bindparam("message_id")))
)
_MOVE_SESSION_ON = (
    update(_SESSIONS)
    .where(_SESSIONS.c.id == bindparam("read_id"), _SESSIONS.c.version == bindparam("read_version"),
           _SESSIONS.c.mode == "bot", _SESSIONS.c.status == "open")
    .values(state=bindparam("new_state"), last_active_at=bindparam("now"),
            customer_id=bindparam("new_customer_id"), version=_SESSIONS.c.version + 1)
)
_TOUCH_BINDING = update(_BINDINGS).where(
    _BINDINGS.c.channel == bindparam("b_channel"), _BINDINGS.c.user_id == bindparam("b_user_id"),
).values(last_used_at=bindparam("now"))
_ADD_MESSAGES = insert(_MESSAGES)
_ADD_TURN = insert(_TURNS)

@dataclass(frozen=True)
class OpenSession:
    id: int
    mode: str
    state: dict
    last_active_at: datetime
    version: int
    rating_pending: bool


@dataclass(frozen=True)
class Binding:
    customer_id: int
    bound_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class EarlierTurn:
    """The stored turn of a repeated message id (what a replay answers with)."""

    session_id: int
    text_digest: str | None
    replies: list
    state: dict


@dataclass(frozen=True)
class Conversation:
    """What one channel user's conversation looks like before a turn."""

    session: OpenSession | None
    binding: Binding | None
    earlier: EarlierTurn | None

    @property
    def customer_id(self) -> int | None:
        return self.binding.customer_id if self.binding is not None else None

    def answerable_without_lock(self, now: datetime, idle: timedelta, binding_idle: timedelta | None) -> bool:
        """True when the turn needs nothing but the policy: an open session with the bot,
        not gone idle, no rating asked, and a binding that has not lapsed."""
        session = self.session
        if session is None or session.mode != "bot" or session.rating_pending:
            return False
        if now - session.last_active_at > idle:
            return False  # a new session begins
        if self.binding is not None and binding_idle is not None:
            last_used = self.binding.last_used_at or self.binding.bound_at
            if now - last_used > binding_idle:
                return False  # the binding lapses, which is a write
        return True


def read_conversation(connection: Connection, channel: str, user_id: str, message_id: str | None) -> Conversation:
    row = connection.execute(_CONVERSATION, {"channel": channel, "user_id": user_id,
                                             "message_id": message_id}).one()
    session = binding = earlier = None
    if row.id is not None:
        session = OpenSession(row.id, row.mode, row.state, row.last_active_at, row.version,
                              bool(row.rating_pending))
    if row.customer_id is not None:
        binding = Binding(row.customer_id, row.bound_at, row.last_used_at)
    if row.earlier_session_id is not None:
        earlier = EarlierTurn(row.earlier_session_id, row.earlier_digest, row.earlier_replies, row.earlier_state)
    return Conversation(session, binding, earlier)


@dataclass(frozen=True)
class AnsweredTurn:
    """A turn answered from a read conversation, to be stored as one unit."""

    conversation: Conversation
    channel: str
    user_id: str
    state: dict  # the dialogue state after the turn
    user_text: str  # masked
    replies: list[str]  # masked
    turn_log: dict  # the turn_log row but for session_id, latency_ms and created_at


def store_turn(connection: Connection, turn: AnsweredTurn, now: datetime, latency_ms: float) -> bool:
    """Write the turn if its session is unchanged since it was read; False (nothing written)
    otherwise. Runs inside the caller's write transaction."""
    session = turn.conversation.session
    moved_on = connection.execute(_MOVE_SESSION_ON, {
        "read_id": session.id, "read_version": session.version, "new_state": turn.state, "now": now,
        "new_customer_id": turn.conversation.customer_id}).rowcount
    if moved_on != 1:
        return False
    line = {"session_id": session.id, "channel": turn.channel, "user_id": turn.user_id, "created_at": now}
    connection.execute(_ADD_MESSAGES, [
        {**line, "sender": "user", "text": turn.user_text},
        *({**line, "sender": "bot", "text": text} for text in turn.replies),
    ])
    if turn.conversation.binding is not None:
        connection.execute(_TOUCH_BINDING, {"b_channel": turn.channel, "b_user_id": turn.user_id, "now": now})
    connection.execute(_ADD_TURN, {**turn.turn_log, "session_id": session.id, "latency_ms": latency_ms,
                                   "created_at": now})
    return True
