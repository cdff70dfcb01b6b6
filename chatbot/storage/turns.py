"""A turn's read and store: the statements (SQLAlchemy Core) and what they carry.

The engine answers most turns from what it reads (chatbot/engine.py): `CONVERSATION` loads
everything the turn needs about the conversation in one statement, outside the write lock;
the store writes the answer in one short transaction, and only if the session is still the
one that was read (its `version` is unchanged; every writer of a session moves it on),
otherwise the engine redoes the turn under the lock. chatbot/storage/turn_driver.py runs
these statements on the driver's connection.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, exists, insert, literal, select, true, update

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
CONVERSATION = select(
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
MOVE_SESSION_ON = (
    update(_SESSIONS)
    .where(_SESSIONS.c.id == bindparam("read_id"), _SESSIONS.c.version == bindparam("read_version"),
           _SESSIONS.c.mode == "bot", _SESSIONS.c.status == "open")
    .values(state=bindparam("new_state"), last_active_at=bindparam("now"),
            customer_id=bindparam("new_customer_id"), version=_SESSIONS.c.version + 1)
)
TOUCH_BINDING = update(_BINDINGS).where(
    _BINDINGS.c.channel == bindparam("b_channel"), _BINDINGS.c.user_id == bindparam("b_user_id"),
).values(last_used_at=bindparam("now"))
ADD_MESSAGES = insert(_MESSAGES)
ADD_TURN = insert(_TURNS)

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


def conversation_of(session_id, mode, state, last_active_at, version, rating_pending,
                    customer_id, bound_at, last_used_at,
                    earlier_session_id, earlier_digest, earlier_replies, earlier_state) -> Conversation:
    """The Conversation of one row of `CONVERSATION` (its columns in order, values converted)."""
    session = binding = earlier = None
    if session_id is not None:
        session = OpenSession(session_id, mode, state, last_active_at, version, bool(rating_pending))
    if customer_id is not None:
        binding = Binding(customer_id, bound_at, last_used_at)
    if earlier_session_id is not None:
        earlier = EarlierTurn(earlier_session_id, earlier_digest, earlier_replies, earlier_state)
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
