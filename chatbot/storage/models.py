"""SQLAlchemy 2 models. The same schema runs on SQLite and PostgreSQL (via Alembic).

Money columns are NUMERIC(18, 2) and map to `Decimal`; timestamps are timezone-aware UTC.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.sql import false
from sqlalchemy import event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Stable constraint names so Alembic migrations match on both databases.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(18, 2, asdecimal=True)
# SQLite has no BIGINT autoincrement; INTEGER PRIMARY KEY is its rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator):
    """Aware datetimes stored as UTC on both backends (SQLite would drop the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Customer(Base):
    """A bank customer. ID number and phone are encrypted under the data key and the customer
    is found by the keyed hash of the ID number (chatbot/security/data_keys.py): read and
    write them through chatbot/storage/customers.py (migration 0013)."""

    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    id_number_encrypted: Mapped[str] = mapped_column(Text)
    id_number_hash: Mapped[str] = mapped_column(String(64), unique=True)
    phone_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChannelBinding(Base):
    """A channel user (WeChat openid, web user id) linked to a bank customer."""

    __tablename__ = "channel_bindings"
    __table_args__ = (UniqueConstraint("channel", "user_id", name="uq_channel_bindings_user"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(128))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Web bindings lapse after inactivity (settings.web_binding_idle_minutes); WeChat's do not.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Account(Base):
    """A ledger account. Customer accounts have a customer; the bank's own (clearing) do not.

    `balance` is signed: a credit card or loan account owing money is negative.
    """

    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_no: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # savings | credit | loan | internal
    name: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    balance: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    credit_limit: Mapped[Decimal | None] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | frozen | closed
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Card(Base):
    __tablename__ = "cards"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    card_no: Mapped[str] = mapped_column(String(19), unique=True)
    tail: Mapped[str] = mapped_column(String(4), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # debit | credit
    tier: Mapped[str] = mapped_column(String(16), default="standard")
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | lost | inactive
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LedgerTransaction(Base):
    """One business event; its entries sum to zero (double entry)."""

    __tablename__ = "ledger_transactions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # opening | salary | consumption | transfer ...
    description: Mapped[str] = mapped_column(String(128))
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_entries_account_time", "account_id", "created_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    amount: Mapped[Decimal] = mapped_column(Money)  # + credit to the account, - debit
    balance_after: Mapped[Decimal] = mapped_column(Money)
    counterparty: Mapped[str | None] = mapped_column(String(64))
    memo: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Payee(Base):
    __tablename__ = "payees"
    __table_args__ = (UniqueConstraint("customer_id", "account_no", name="uq_payees_customer_account"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    account_no: Mapped[str] = mapped_column(String(32))
    bank_name: Mapped[str] = mapped_column(String(64))
    alias: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChatSession(Base):
    """One conversation of a channel user; `state` holds the dialogue state as JSON."""

    __tablename__ = "chat_sessions"
    __table_args__ = (Index("ix_chat_sessions_user", "channel", "user_id", "status"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(128))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    mode: Mapped[str] = mapped_column(String(16), default="bot")  # bot | queued | agent
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    state: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_active_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Bumped by every write of the row (see `_bump_session_version`): a turn answered outside
    # the write lock is stored only if the session is still at the version it read.
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


@event.listens_for(ChatSession, "before_update")
def _bump_session_version(_mapper, _connection, session: ChatSession) -> None:
    """Every ORM write of a session (the desk, agent edits, the engine's slow path) moves it on.

    Even one without a net change to its columns: a turn under the lock that leaves the row
    as it was still added to the conversation, and a turn computed beside it must see that."""
    session.version = (session.version or 0) + 1


class ChatMessage(Base):
    """A line of the transcript. Text is stored masked (no full card, ID or phone numbers)."""

    __tablename__ = "chat_messages"
    __table_args__ = (Index("ix_chat_messages_user", "channel", "user_id", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("chat_sessions.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(128))
    sender: Mapped[str] = mapped_column(String(8))  # user | bot | agent
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Who wrote an agent line (migration 0010; None for the customer, the bot and older lines).
    agent_id: Mapped[int | None] = mapped_column(BigId)


class TurnLog(Base):
    """What the bot understood and did for one user message; entities are masked.

    `(channel, user_id, message_id)` is unique so a repeated client message id is answered
    from `replies` instead of being processed again.
    """

    __tablename__ = "turn_log"
    __table_args__ = (
        UniqueConstraint("channel", "user_id", "message_id", name="uq_turn_log_message"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("chat_sessions.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[str | None] = mapped_column(String(128))
    # Keyed digest of the raw text: a reused message id with other text is refused (409).
    text_digest: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(64), index=True)
    confidence: Mapped[float | None]
    entities: Mapped[list] = mapped_column(JSON, default=list)
    outcome: Mapped[str] = mapped_column(String(32))
    steps: Mapped[list] = mapped_column(JSON, default=list)
    replies: Mapped[list] = mapped_column(JSON, default=list)
    state: Mapped[dict] = mapped_column(JSON, default=dict)
    # The model's three best intents, [{"name", "confidence"}...] (migration 0009; None before).
    ranking: Mapped[list | None] = mapped_column(JSON)
    latency_ms: Mapped[float]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AnswerFeedback(Base):
    """A customer's 有帮助吗 👍 / 👎 on a knowledge answer: one per answered turn, the last tap wins."""

    __tablename__ = "answer_feedback"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    turn_id: Mapped[int] = mapped_column(ForeignKey("turn_log.id"), unique=True)
    faq_id: Mapped[str] = mapped_column(String(64), index=True)
    helpful: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OneTimeCode(Base):
    """A step-up code; only its hash is stored."""

    __tablename__ = "one_time_codes"
    __table_args__ = (Index("ix_one_time_codes_subject", "subject", "purpose"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject: Mapped[str] = mapped_column(String(128))  # e.g. "customer:1" or "web:u1"
    purpose: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(128))
    # Keyed digest of the phone the code went to ("" for a decoy): never the number itself.
    phone_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Keyed digest of the exact operation the code was sent for (flow run + its summary):
    # a code confirms that operation only, not another of the same kind.
    operation: Mapped[str | None] = mapped_column(String(64))
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SmsMessage(Base):
    """Outbox of the SMS gateway; in the sandbox it is the inbox customers read."""

    __tablename__ = "sms_messages"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)  # keyed digest, not the number
    text: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StaffUser(Base):
    __tablename__ = "staff_users"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))  # agent | analyst | admin
    active: Mapped[bool] = mapped_column(default=True)
    # Demo logins of the sandbox: refused whenever the service runs outside the sandbox.
    sandbox: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Tokens carry the generation they were issued in; raising it (an admin's revoke) ends
    # every token of this user at once (chatbot/security/staff_auth.py).
    token_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class StaffTokenRevocation(Base):
    """One staff token ended before its time (`POST /v1/auth/logout`), by its random id;
    kept until the token would have expired anyway."""

    __tablename__ = "staff_token_revocations"
    token_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AuditLog(Base):
    """Who did what, append-only and hash-chained like the evidence chain (chatbot/storage/
    chain.py): `hash` covers `prev_hash` and the row's content; triggers refuse UPDATE and
    DELETE (migration 0013); `chatbot audit verify` walks the chain."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)  # one successor per row
    hash: Mapped[str] = mapped_column(String(64), unique=True)


# --- Human handoff (migration 0002) ----------------------------------------------------------


class Handoff(Base):
    """One wait for, and time with, a person; a chat session can have several in a row.

    status: queued -> active -> released | closed, or queued -> cancelled. At most one
    ticket of a session is queued or active (the desk checks it under the conversation lock).
    """

    __tablename__ = "handoffs"
    __table_args__ = (
        Index("ix_handoffs_queue", "status", "priority", "id"),
        Index("ix_handoffs_user", "channel", "user_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("chat_sessions.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(String(32))  # human_request | call_back | complaint | not_understood | flow_failed | fraud_risk
    priority: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    initial_position: Mapped[int] = mapped_column(Integer, default=1)
    transfers: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)  # queued at
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_pending: Mapped[bool] = mapped_column(default=False)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AgentProfile(Base):
    """Per-agent settings; an agent without a row has the service's default capacity."""

    __tablename__ = "agent_profiles"
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), primary_key=True)
    capacity: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CannedReply(Base):
    """A quick reply (快捷回复) agents insert into the composer; managed by admins."""

    __tablename__ = "canned_replies"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LoginAttempt(Base):
    """Staff login attempts, counted to slow down password guessing (per user and per address)."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username", "username", "created_at"),
        Index("ix_login_attempts_client", "client_ip", "created_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    client_ip: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- Trust (migration 0003) ----------------------------------------------------------------


class WebIdentity(Base):
    """A web chat user id that has been claimed: later calls must carry its `user_token`."""

    __tablename__ = "web_identities"
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RateEvent(Base):
    """One counted action (a code sent, an identity check) under a hashed key, for rate limits
    that every worker sees without Redis."""

    __tablename__ = "rate_events"
    __table_args__ = (Index("ix_rate_events_key", "key", "created_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UsedToken(Base):
    """Single-use tokens (export links) already spent; kept until they would have expired."""

    __tablename__ = "used_tokens"
    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SmsOutbox(Base):
    """A text message for the webhook SMS gateway: written in the turn's transaction, posted
    after the commit, deleted once delivered or too old to matter. Phone and text are sealed."""

    __tablename__ = "sms_outbox"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When a delivery may next be tried; claiming a row moves it ahead (a lease).
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class WeChatOutbox(Base):
    """A WeChat message whose delivery failed for a passing reason (no answer, 5xx, busy),
    retried with backoff (chatbot/channels/wechat/outbox.py): `kind` `text` (payload
    {"text"}, masked) or `template` (payload: the API body). Deleted once delivered; `failed`
    rows (given up) stay for operators."""

    __tablename__ = "wechat_outbox"
    __table_args__ = (Index("ix_wechat_outbox_status_next", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    openid: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When it may next be tried; claiming a row moves it ahead (a lease, one sender at a time).
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AgentPresence(Base):
    """When an agent was last seen: their console's event stream (refreshed while it is open)
    and their last action. Kept in the database so every worker counts the same agents online
    (docs/handoff.md, "Wait estimates")."""

    __tablename__ = "agent_presence"
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), primary_key=True)
    stream_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the agent chose on their console (migration 0010): online | busy | away; None is online.
    status: Mapped[str | None] = mapped_column(String(8))


class AgentNote(Base):
    """A note agents write for each other on a session: a private note, or the note that goes
    with a transfer (`to_staff_id`). Never shown to the customer: it is not a transcript line."""

    __tablename__ = "agent_notes"
    __table_args__ = (Index("ix_agent_notes_session", "session_id", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("chat_sessions.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("handoffs.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    to_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    kind: Mapped[str] = mapped_column(String(16))  # note | transfer
    text: Mapped[str] = mapped_column(Text)  # masked like every text agents write
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HandoffMessage(Base):
    """A ticket opened outside service hours: the customer leaves a message instead of waiting.

    status: awaiting (asked for the message) -> left (the next customer message is it). The
    ticket stays queued, after the live waits, until an agent accepts it.
    """

    __tablename__ = "handoff_messages"
    ticket_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="awaiting")
    message_id: Mapped[int | None] = mapped_column(ForeignKey("chat_messages.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reply_from: Mapped[datetime] = mapped_column(UTCDateTime)  # when agents are back on duty


# --- credit cards and loans (issue 16; docs/cards_and_loans.md) ----------------------------------

Rate = Numeric(9, 6, asdecimal=True)  # a fraction: 0.032 is 3.2 %


class CreditTerms(Base):
    """A credit-card account's cycle and limits; one row per `accounts` row of kind credit.

    A statement closes on `statement_day` (1..28) and is due `grace_days` later. A temporary
    limit replaces the permanent one until `temp_limit_until` (inclusive, bank calendar).
    """

    __tablename__ = "credit_terms"
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    statement_day: Mapped[int] = mapped_column(Integer)
    grace_days: Mapped[int] = mapped_column(Integer, default=20)
    min_payment_rate: Mapped[Decimal] = mapped_column(Rate, default=Decimal("0.10"))
    temp_limit: Mapped[Decimal | None] = mapped_column(Money)
    temp_limit_until: Mapped[date | None] = mapped_column(Date)
    overdue_count: Mapped[int] = mapped_column(Integer, default=0)  # late statements, last 24 months
    limit_raised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last permanent raise


class CardStatement(Base):
    """One closed billing cycle of a credit card: what was owed on the statement date.

    `paid` counts repayments made against it since, `installed` the part turned into an
    installment plan; what is still due is new_balance - paid - installed (never below 0).
    """

    __tablename__ = "card_statements"
    __table_args__ = (UniqueConstraint("account_id", "statement_date", name="uq_card_statements_cycle"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    statement_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    new_balance: Mapped[Decimal] = mapped_column(Money)
    minimum_payment: Mapped[Decimal] = mapped_column(Money)
    paid: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    installed: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InstallmentPlan(Base):
    """A statement or one purchase split into `terms` monthly parts with a fee per term."""

    __tablename__ = "installment_plans"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    statement_id: Mapped[int | None] = mapped_column(ForeignKey("card_statements.id"), unique=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    description: Mapped[str] = mapped_column(String(128))
    principal: Mapped[Decimal] = mapped_column(Money)
    terms: Mapped[int] = mapped_column(Integer)
    fee_rate: Mapped[Decimal] = mapped_column(Rate)  # per term, of the principal
    fee_per_term: Mapped[Decimal] = mapped_column(Money)
    principal_per_term: Mapped[Decimal] = mapped_column(Money)  # the last term takes the remainder
    terms_billed: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | finished
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Application(Base):
    """A card or loan application and the stage it is at (its history: application_events).

    card: submitted -> reviewing -> approved | rejected; approved -> producing -> mailed ->
    activated. loan: submitted -> reviewing -> approved | rejected; approved -> disbursed.
    `details` keeps what the form asked (employer, income, address, purpose; never an ID or
    phone number, which the customer row holds).
    """

    __tablename__ = "applications"
    __table_args__ = (Index("ix_applications_kind_stage", "kind", "stage"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reference: Mapped[str] = mapped_column(String(24), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # card | loan
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    product_code: Mapped[str] = mapped_column(String(32))
    product_name: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal | None] = mapped_column(Money)  # loans: the amount asked
    term_months: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))  # the card made for it
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApplicationEvent(Base):
    """One stage an application reached, when, and who moved it (customer, system, staff)."""

    __tablename__ = "application_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Loan(Base):
    """A disbursed loan: its ledger account (balance = -principal still owed) and terms."""

    __tablename__ = "loans"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reference: Mapped[str] = mapped_column(String(24), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), unique=True)
    repay_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))  # savings, auto-debited
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"), unique=True)
    product_code: Mapped[str] = mapped_column(String(32))
    product_name: Mapped[str] = mapped_column(String(64))
    principal: Mapped[Decimal] = mapped_column(Money)
    annual_rate: Mapped[Decimal] = mapped_column(Rate)
    months: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(24))  # equal_installment | equal_principal
    disbursed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="repaying")  # repaying | closed


class LoanPayment(Base):
    """One period of a loan's schedule (chatbot/tools/amortization.py computes them)."""

    __tablename__ = "loan_payments"
    __table_args__ = (UniqueConstraint("loan_id", "number", name="uq_loan_payments_period"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    payment: Mapped[Decimal] = mapped_column(Money)
    principal: Mapped[Decimal] = mapped_column(Money)
    interest: Mapped[Decimal] = mapped_column(Money)
    remaining: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(16), default="due")  # due | paid
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# --- notifications (issue 16; docs/notifications.md) ---------------------------------------------


class Notice(Base):
    """One notification of one event to the customer it concerns, written before anything is
    delivered: `(source, subject_id, event)` is unique, so an event is never told twice.

    source `application` (subject: applications.id, event: the stage reached) or `statement`
    (subject: card_statements.id, event `due_soon`). status: `sent` (the transcript lines were
    written in the same transaction) or `undeliverable` (no channel binding; taken over and
    delivered once the customer binds, while the event still counts). A WeChat push
    follows the commit: push_status `pending` -> `sent` | `failed` (None: nobody to push to);
    `push_claimed_at` leases a pending push to one worker, and a stale lease is taken over.
    `text` is masked; `template` holds the WeChat template kind and its values, if any.
    """

    __tablename__ = "notices"
    __table_args__ = (
        UniqueConstraint("source", "subject_id", "event", name="uq_notices_event"),
        Index("ix_notices_push", "push_status", "push_claimed_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(BigInteger)
    event: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    template: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))  # sent | undeliverable
    delivered_to: Mapped[list] = mapped_column(JSON, default=list)  # ["web:<user id>", "wechat:<openid>"]
    push_status: Mapped[str | None] = mapped_column(String(16))  # pending | sent | failed
    push_to: Mapped[list] = mapped_column(JSON, default=list)  # WeChat openids
    push_attempts: Mapped[int] = mapped_column(Integer, default=0)
    push_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    push_error: Mapped[str | None] = mapped_column(Text)
    event_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


# --- wealth products and financial news (issue 17) --------------------------------------------

class WealthProduct(Base):
    """What the bank sells of a wealth product of the knowledge graph (`code` = its node id).

    The graph keeps the product's facts (name, risk level, expected yield, minimum, redemption
    rule); this row keeps what only the sales system knows: the term in days (0: no fixed
    term), the step above the minimum, the latest net value, and whether it is on sale.
    """

    __tablename__ = "wealth_products"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    term_days: Mapped[int] = mapped_column(Integer)
    step_amount: Mapped[Decimal] = mapped_column(Money)
    nav: Mapped[Decimal | None] = mapped_column(Numeric(12, 4, asdecimal=True))
    status: Mapped[str] = mapped_column(String(16), default="on_sale")  # on_sale | paused | closed
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RiskAssessment(Base):
    """One completed questionnaire: the answers, the score and the level C1..C5 it gives,
    valid until `expires_on` (12 months). The newest one of a customer is the one in force."""

    __tablename__ = "risk_assessments"
    __table_args__ = (Index("ix_risk_assessments_customer_time", "customer_id", "assessed_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    answers: Mapped[dict] = mapped_column(JSON)
    score: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(2))  # C1 .. C5
    assessed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_on: Mapped[date] = mapped_column(Date)


class WealthHolding(Base):
    """A position in a wealth product, bought from a savings account."""

    __tablename__ = "wealth_holdings"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reference: Mapped[str] = mapped_column(String(24), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    product_code: Mapped[str] = mapped_column(ForeignKey("wealth_products.code"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))  # the savings account debited
    principal: Mapped[Decimal] = mapped_column(Money)  # what was paid
    units: Mapped[Decimal] = mapped_column(Numeric(18, 4, asdecimal=True))
    value: Mapped[Decimal] = mapped_column(Money)  # at the latest valuation
    valued_on: Mapped[date] = mapped_column(Date)
    maturity_date: Mapped[date | None] = mapped_column(Date)  # None: no fixed term
    status: Mapped[str] = mapped_column(String(16), default="holding")  # holding | matured | redeemed
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    bought_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EvidenceRecord(Base):
    """What the customer was shown and answered before a sale, kept append-only and chained:
    `hash` covers `prev_hash` and the canonical JSON of the record, so changing or removing
    any row breaks every later link (`chatbot evidence verify`)."""

    __tablename__ = "evidence_records"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # wealth_purchase | risk_assessment ...
    payload: Mapped[dict] = mapped_column(JSON)  # shown text and its hash, answers, product, amount
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)  # one successor per record
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NewsItem(Base):
    """A financial news item; `unpublished_at` set takes it out of lists and pushes."""

    __tablename__ = "news_items"
    __table_args__ = (Index("ix_news_items_category_time", "category", "published_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(128))
    summary: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(16))  # 宏观经济 | 金融政策 | 市场动态 | 行业分析 | 理财产品
    important: Mapped[bool] = mapped_column(default=False)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    unpublished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))


class NewsSubscription(Base):
    """A customer's news subscription: categories, frequency and whether it is on."""

    __tablename__ = "news_subscriptions"
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    categories: Mapped[list] = mapped_column(JSON)
    frequency: Mapped[str] = mapped_column(String(16))  # daily | thrice_weekly | weekly
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | paused | cancelled
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NewsDelivery(Base):
    """One news item told to one customer: unique, so no item reaches anyone twice even when
    two workers push at once (the row is inserted before anything is sent)."""

    __tablename__ = "news_deliveries"
    __table_args__ = (UniqueConstraint("customer_id", "news_id", name="uq_news_deliveries_item"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    news_id: Mapped[int] = mapped_column(ForeignKey("news_items.id"), index=True)
    reason: Mapped[str] = mapped_column(String(16))  # digest | important
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- Analysts (migration 0009) ----------------------------------------------------------------


class Annotation(Base):
    """An analyst's label for a phrasing customers used: the training overlay.

    One row per phrasing (`text_key`: training/annotations/keys.py, the sha256 of the text
    after a fixed normalisation: width, Traditional to Simplified, case, punctuation), the newest label
    wins. `label` is an intent name, "faq" (answered by the FAQ entry `faq_id`, created from
    the annotation) or "ignore" (noise: never trained, never shown again). `text` is masked,
    as the turn log stores it.
    """

    __tablename__ = "annotations"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    text_key: Mapped[str] = mapped_column(String(64), unique=True)
    text: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(64), index=True)
    faq_id: Mapped[str | None] = mapped_column(String(64))
    turn_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    source: Mapped[str] = mapped_column(String(16))  # "import" (a file) or "page" (/admin)
    annotated_by: Mapped[str] = mapped_column(String(128))
    annotated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ServingWorker(Base):
    """A serving process and the intent model version it answers with (seen every few seconds),
    so `GET /v1/admin/models` can show that a promotion reached every worker of every host."""

    __tablename__ = "serving_workers"
    worker_id: Mapped[str] = mapped_column(String(128), primary_key=True)  # host:pid:start
    host: Mapped[str] = mapped_column(String(128))
    pid: Mapped[int] = mapped_column(Integer)
    model_version: Mapped[str | None] = mapped_column(String(64))
    # The data keys (ids, comma-separated) the worker can read: `chatbot keys rotate` waits
    # until every live worker knows the new one.
    data_keys: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
