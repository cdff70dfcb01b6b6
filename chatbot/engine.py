"""The conversation engine: one way through for every channel.

    Engine.handle(channel, user_id, text, message_id)
      -> validate -> NLU parse (stateless, outside the lock)
      -> per-conversation lock (threads of this process)
      -> read the conversation (one statement on the driver's connection, storage/
         turn_driver.py; no write lock): replay a repeated message_id, or, when only the
         policy is involved (an open session with the bot, no rating asked, no binding
         lapsing), answer it in a read-only session
      -> one short write (PostgreSQL: one statement): store that answer if the session is
         still the one read (its version); otherwise (a write was needed, a person is
         involved, a new session, another worker got there first) the whole turn again in
         a write transaction under the lock:
         load session -> route -> save messages, session state and the turn log
      -> publish the turn's live events (after the commit) -> Reply

Most turns (questions, small talk, balances, a flow collecting its details) are of the
first kind: the write lock, which serializes every writer of a SQLite file, is held for a
few inserts instead of the whole understanding and answering (docs/architecture.md).

Routing by session mode: "bot" -> (a pending 1–5 rating, else) the dialogue policy, which
may ask for a person (`result.handoff`: the session is queued at once); "queued" / "agent"
-> the handoff desk (chatbot/handoff/intake.py): the bot stays out, the message goes to the
agent, and a queued customer can cancel the wait.

The engine knows nothing about HTTP, XML or terminals.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from chatbot.clock import Clock, SystemClock, bank_today
from chatbot.dialogue.turn import Policy, PolicyResult, TurnContext
from chatbot.dialogue.state import DialogueState
from chatbot.errors import Conflict, InvalidInput, Unauthorized
from chatbot.handoff import intake
from chatbot.handoff.events import Event, EventBus, LocalBus
from chatbot.messages import CHANNELS, InboundMessage, Reply, ReplyItem, Rich, SessionState
from chatbot.nlu.parser import Parser, ParseResult
from chatbot.security.masking import mask_customer_text, mask_entities, mask_text, mask_value
from chatbot.storage import conversations, turns
from chatbot.storage.db import Database, NeedsWriteTransaction
from chatbot.storage.locks import KeyedLocks, lock_conversation_in_transaction
from chatbot.storage.models import ChatSession, TurnLog

log = logging.getLogger(__name__)

MAX_USER_ID_LENGTH = 128
MAX_MESSAGE_ID_LENGTH = 128
BINDING_LAPSED = "为保障账户安全，您较长时间未操作，账户绑定已失效；办理账户业务前需重新验证身份。"
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
# Control characters, zero-width and other format characters, every kind of space.
_INVISIBLE_OR_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202f\u2060-\u206f\ufeff\s]")
_VISIBLE = re.compile(r"[^\s\u00ad\u200b-\u200f\u2028-\u202f\u2060-\u206f\ufeff\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class _Answered:
    """A turn answered from reads: what to store, as of when, and what to reply once stored."""

    turn: turns.AnsweredTurn
    now: datetime
    reply: Reply


class Engine:
    """Handles one customer message at a time per conversation; safe to share across threads."""

    def __init__(
        self,
        database: Database,
        parser: Parser,
        policy: Policy,
        *,
        clock: Clock | None = None,
        max_text_length: int = 500,
        session_idle: timedelta = timedelta(minutes=30),
        events: EventBus | None = None,
        digest_key: bytes = b"",
        web_binding_idle: timedelta | None = None,
    ) -> None:
        self.db = database
        self.parser = parser
        self.policy = policy
        self.clock = clock or SystemClock()
        self.max_text_length = max_text_length
        self.session_idle = session_idle
        self.events = events or LocalBus()
        self.digest_key = digest_key  # keys the digest that tells a retry from a reused id
        # Web bindings lapse when unused this long; WeChat's OpenID is WeChat's to vouch for.
        self.binding_idle = {"web": web_binding_idle} if web_binding_idle else {}
        self._locks = KeyedLocks()

    def handle(self, channel: str, user_id: str, text: str, message_id: str | None = None,
               address: str | None = None, *, claim_identity: bool = False) -> Reply:
        """Process one message and return the bot's replies (or the stored ones for a retry).

        `claim_identity` (web users without a token): the user id must be unseen, and is
        taken in the same transaction as the turn; a seen one raises Unauthorized.
        """
        message = self.validate(InboundMessage(channel, user_id, text, message_id, address))
        started = time.perf_counter()
        parse = self.parser.parse(message.text.strip(), bank_today(self.clock))
        with self._locks.hold(f"{channel}\x00{user_id}"):
            if not claim_identity and self.db.reads_beside_writes:
                answered = self._answer_from_reads(message, parse)
                if isinstance(answered, Reply):
                    return answered  # the stored answer of a repeated message id
                if answered is not None and self._store(answered, started):
                    return answered.reply
            with self.db.write() as db:
                # PostgreSQL: a turn stored from reads in another worker takes this lock too,
                # so it waits for this turn rather than slipping in between its read and write.
                lock_conversation_in_transaction(db, channel, user_id)
                reply, events = self._turn_under_lock(db, message, parse, started, claim_identity)
            # Committed: consoles and pages may now read what the events announce. Still
            # inside the conversation's mutex, so one conversation's events leave in order.
            self.events.publish_all(events)
        return reply

    def validate(self, message: InboundMessage) -> InboundMessage:
        """Refuse input no channel should send; raises InvalidInput with a clear code."""
        if message.channel not in CHANNELS:
            raise InvalidInput(f"未知渠道：{message.channel}", "invalid_channel")
        if not _is_identifier(message.user_id, MAX_USER_ID_LENGTH):
            raise InvalidInput(f"user_id 须为 1–{MAX_USER_ID_LENGTH} 个可见字符", "invalid_user_id")
        if message.message_id is not None and not _is_identifier(message.message_id, MAX_MESSAGE_ID_LENGTH):
            raise InvalidInput(f"message_id 须为 1–{MAX_MESSAGE_ID_LENGTH} 个可见字符", "invalid_message_id")
        if not message.text or not message.text.strip() or not _VISIBLE.search(message.text):
            raise InvalidInput("消息内容不能为空", "empty_text")
        if len(message.text) > self.max_text_length:
            raise InvalidInput(f"消息过长，请控制在 {self.max_text_length} 字以内", "text_too_long")
        if _UNSTORABLE.search(message.text):
            # NUL cannot be stored by PostgreSQL; a lone surrogate is not text at all.
            raise InvalidInput("消息包含无法识别的字符，请重新输入", "invalid_characters")
        return message

    def _answer_from_reads(self, message: InboundMessage, parse: ParseResult) -> Reply | _Answered | None:
        """The turn answered without the write lock (see the module docstring): a replay,
        an answer to store, or None when the turn must run under the lock."""
        now = self.clock.now()
        # The connection goes back before the policy, which may take one of its own: a turn
        # never holds one connection while it waits for another (or for the writer queue).
        with self.db.driver_connection() as connection:
            conversation = self.db.turns.read(connection, message.channel, message.user_id, message.message_id)
        if conversation.earlier is not None:
            return self._replay(conversation.earlier, message)
        if not conversation.answerable_without_lock(now, self.session_idle,
                                                    self.binding_idle.get(message.channel)):
            return None
        session = conversation.session
        with self.db.read_only() as db:
            ctx = TurnContext(parse, DialogueState.from_json(session.state), conversation.customer_id, now, db,
                              message.channel, message.user_id, session.id, message.address, read_only=True)
            try:
                result = self.policy.respond(ctx)
                db.flush()  # changes the policy left to the commit are writes too
            except NeedsWriteTransaction:
                return None
        if result.handoff is not None:
            return None  # queueing is a write
        replies = [_masked(reply) for reply in result.replies]
        texts = [str(reply) for reply in replies]
        said = mask_customer_text(message.text, parse)
        reply_state = SessionState("bot", parse.intent.name, result.state.active_flow)
        answered = turns.AnsweredTurn(
            conversation, message.channel, message.user_id, result.state.to_json(), said, texts,
            self._turn_fields(message, said, parse, result, list(map(_logged, replies)), reply_state))
        return _Answered(answered, now, Reply(session.id, tuple(map(ReplyItem.of, replies)), reply_state))

    def _store(self, answered: _Answered, started: float) -> bool:
        """Store a turn answered from reads; False when its session moved on meanwhile."""
        driver = self.db.turns
        prepared = driver.prepare(answered.turn, answered.now)  # before the writer queue
        with self.db.driver_connection(writing=True) as connection:
            return driver.store_prepared(connection, prepared, _elapsed_ms(started), self.clock.now())

    def _turn_under_lock(self, db, message: InboundMessage, parse: ParseResult, started: float,
                         claim_identity: bool) -> tuple[Reply, list[Event]]:
        """The whole turn inside the write transaction, holding the conversation's lock."""
        if claim_identity and not conversations.claim_identity(db, message.user_id, self.clock.now()):
            raise Unauthorized("该用户标识已在使用，请携带其用户令牌（Authorization: Bearer）",
                               "missing_user_token")
        if message.message_id is not None:
            earlier = conversations.find_turn(db, message.channel, message.user_id, message.message_id)
            if earlier is not None:
                return self._replay(earlier, message), []
        return self._run_turn(db, message, parse, started)

    def _run_turn(self, db, message: InboundMessage, parse: ParseResult,
                  started: float) -> tuple[Reply, list[Event]]:
        now = self.clock.now()
        session = conversations.open_session(db, message.channel, message.user_id, now, self.session_idle)
        said = conversations.add_message(db, session, "user", mask_customer_text(message.text, parse), now)
        # Bindings change inside a conversation (bind / unbind), so read them every turn.
        session.customer_id, lapsed = conversations.active_binding(
            db, message.channel, message.user_id, now, self.binding_idle.get(message.channel))
        if lapsed:
            session.state = {}  # a flow on the customer's money cannot go on unbound
        result, events = self._route(db, session, said, parse, message, now)
        if lapsed:
            result.replies = [BINDING_LAPSED, *result.replies]
            result.steps = [{"action": "binding_lapsed"}, *result.steps]
        replies = [_masked(reply) for reply in result.replies]
        texts = [str(reply) for reply in replies]
        for text in texts:
            conversations.add_message(db, session, "bot", text, now)
        session.customer_id = conversations.bound_customer_id(db, message.channel, message.user_id)
        session.last_active_at = now
        reply_state = SessionState(session.mode, parse.intent.name, result.state.active_flow)
        db.add(TurnLog(**self._turn_fields(message, said.text, parse, result, list(map(_logged, replies)), reply_state),
                       session_id=session.id, latency_ms=_elapsed_ms(started), created_at=self.clock.now()))
        db.flush()
        return Reply(session.id, tuple(map(ReplyItem.of, replies)), reply_state), events

    def _route(self, db, session: ChatSession, said, parse: ParseResult, message: InboundMessage,
               now) -> tuple[PolicyResult, list[Event]]:
        """The handoff desk while a person is involved; otherwise the policy (which may ask for one).

        Only the policy changes the dialogue state, so a flow that stalled before the
        handoff is still there, untouched, when the agent releases the customer to the bot.
        """
        state = DialogueState.from_json(session.state)
        desk = None
        if session.mode != "bot":
            desk = intake.customer_turn(db, session, said, parse.intent.name, parse.intent.confidence, now)
        if desk is None and session.mode == "bot":
            desk = intake.take_rating(db, session, said.text, now)
        if desk is not None:
            return PolicyResult(desk.replies, state, desk.outcome, [{"action": desk.outcome}]), desk.events
        ctx = TurnContext(parse, state, session.customer_id, now, db, message.channel, message.user_id,
                          session.id, message.address)
        result = self.policy.respond(ctx)
        session.state = result.state.to_json()
        if result.handoff is None:
            return result, []
        queued = intake.enqueue(db, session, result.handoff, now, announced=bool(result.replies))
        result.replies = [*result.replies, *queued.replies]
        result.steps = [*result.steps, {"action": "enqueue", "reason": result.handoff.reason,
                                        "priority": result.handoff.priority}]
        return result, queued.events

    def _turn_fields(self, message: InboundMessage, said_text: str, parse: ParseResult,
                     result: PolicyResult, replies: list[str | dict], state: SessionState) -> dict:
        """The turn-log row but for its session, latency and time (masked throughout)."""
        return dict(
            channel=message.channel, user_id=message.user_id,
            message_id=message.message_id, text_digest=self._digest(message),
            text=said_text,
            intent=parse.intent.name, confidence=parse.intent.confidence,
            entities=mask_entities([e.to_dict() for e in parse.entities]),
            outcome=result.outcome, steps=mask_value(result.steps), replies=replies,
            state=state.to_dict(), ranking=[score.to_dict() for score in parse.ranking[:3]],
        )

    def _digest(self, message: InboundMessage) -> str:
        return hmac.new(self.digest_key, message.text.encode(), hashlib.sha256).hexdigest()

    def _replay(self, turn: TurnLog, message: InboundMessage) -> Reply:
        """The stored answer of a retried message; a reused id with other text is refused."""
        if turn.text_digest is not None and not hmac.compare_digest(turn.text_digest, self._digest(message)):
            raise Conflict("message_id 已用于另一条消息，请为新消息生成新的 message_id", "message_id_reused")
        state = SessionState(**turn.state)
        items = tuple(map(ReplyItem.stored, turn.replies))
        return Reply(turn.session_id, items, state, replayed=True)


def _masked(reply: str) -> str:
    """A reply as it may leave: its text masked, and a rich reply's drawing too."""
    if isinstance(reply, Rich):
        return Rich(mask_text(reply), reply.kind, **mask_value(reply.data))
    return mask_text(reply)


def _logged(reply: str) -> str | dict:
    """A reply as the turn log keeps it for a replay: its text, or a rich reply's whole item."""
    return ReplyItem.of(reply).to_dict() if isinstance(reply, Rich) else str(reply)


def _elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _is_identifier(value: str | None, max_length: int) -> bool:
    """1..max_length characters, something visible, no control or invisible characters."""
    return bool(value) and len(value) <= max_length and not _INVISIBLE_OR_CONTROL.search(value) \
        and not _UNSTORABLE.search(value) and bool(_VISIBLE.search(value))
