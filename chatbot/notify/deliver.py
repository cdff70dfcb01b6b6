"""Telling one event: the notice row first, then the channels.

`record` runs in one write transaction: it inserts the `notices` row with
INSERT … ON CONFLICT DO NOTHING on the event's unique key (source, subject, event) and, only
if this transaction inserted it, writes the bot line into the transcript of every target
(the web customer's history, the WeChat follower's transcript that agents read). The line and
the row commit together or not at all, so a web customer sees each event exactly once, however
many workers run the job and however often. A second worker racing for the same event waits on
the unique key (PostgreSQL) or the write lock (SQLite) and then inserts nothing.

A notice recorded `undeliverable` (no binding then) is taken over by a later run once the
customer has bound a channel, as long as its event still counts (events.py: a stage not
older than the lookback, a statement still due and not past its due date): it was never
heard, so hearing it now is not hearing it twice. The takeover is a conditional UPDATE of
the status, so again only one worker wins.

Who hears it (one notice per event per customer): every WeChat follower bound to the customer
(normally one openid) and the web identity the customer used most recently; a customer without
a binding gets the row with status `undeliverable` and nothing else. Targets are locked like a
conversation (the lock a customer's turn takes), in a fixed order.

WeChat needs a push, which cannot be part of a transaction: after the commit the row's push is
`pending`; `claim_push` leases it to one worker (`push_claimed_at`), `push_finished` records
`sent` or `failed`. A worker that dies between claim and push leaves a lease that goes stale
and the next run takes the push over (at most `MAX_PUSH_ATTEMPTS` times).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from chatbot.channels.outbound import OutboundChannel
from chatbot.channels.wechat.templates import TemplateNotifier
from chatbot.notify.events import PendingEvent
from chatbot.storage import conversations
from chatbot.storage.locks import lock_conversation_in_transaction
from chatbot.storage.models import ChannelBinding, ChatMessage, ChatSession, Notice

log = logging.getLogger(__name__)

PUSH_LEASE = timedelta(minutes=5)  # longer than a push with the API client's retries takes
MAX_PUSH_ATTEMPTS = 3
NO_WECHAT_API = "未配置公众号接口（CHATBOT_WECHAT_APPID / CHATBOT_WECHAT_SECRET），未推送"


@dataclass(frozen=True)
class Target:
    channel: str
    user_id: str

    @property
    def label(self) -> str:
        return f"{self.channel}:{self.user_id}"


@dataclass
class Recorded:
    """A notice this transaction wrote, with its transcript lines (for live events)."""

    notice: Notice
    lines: list[tuple[ChatSession, ChatMessage]] = field(default_factory=list)


def targets(db: Session, customer_id: int) -> list[Target]:
    """Every WeChat binding of the customer and their most recently used web binding."""
    bindings = db.scalars(select(ChannelBinding).where(ChannelBinding.customer_id == customer_id)).all()
    chosen = [Target("wechat", b.user_id) for b in bindings if b.channel == "wechat"]
    web = [b for b in bindings if b.channel == "web"]
    if web:
        latest = max(web, key=lambda b: (b.last_used_at or b.bound_at, b.id))
        chosen.append(Target("web", latest.user_id))
    return sorted(chosen, key=lambda t: (t.channel, t.user_id))


def record(db: Session, event: PendingEvent, now: datetime, *, can_push: bool,
           reach: list[Target] | None = None) -> Recorded | None:
    """Claim the event and write its transcript lines; None when it was told already.

    `reach`: the targets to tell instead of `targets(...)` (news leaves out WeChat followers
    who unfollowed, chatbot/news/push.py)."""
    notice_id = db.execute(_insert_once(db, event, now)).scalar()
    reached = targets(db, event.customer_id) if reach is None else sorted(reach, key=lambda t: (t.channel, t.user_id))
    if notice_id is None:
        notice_id = _retake_undeliverable(db, event, now) if reached else None
        if notice_id is None:
            return None  # told already (or still nobody to tell)
    notice = db.get(Notice, notice_id)
    db.refresh(notice)
    recorded = Recorded(notice)
    for target in reached:
        lock_conversation_in_transaction(db, target.channel, target.user_id)
    for target in reached:
        session = _latest_session(db, target, event.customer_id, now)
        recorded.lines.append((session, conversations.add_message(db, session, "bot", event.wording.text, now)))
    db.flush()
    notice.status = "sent" if reached else "undeliverable"
    notice.delivered_to = [t.label for t in reached]
    openids = [t.user_id for t in reached if t.channel == "wechat"]
    if openids:
        notice.push_to = openids
        notice.push_status = "pending" if can_push else "failed"
        notice.push_error = None if can_push else NO_WECHAT_API
    return recorded


def _insert_once(db: Session, event: PendingEvent, now: datetime):
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    return (dialect.insert(Notice)
            .values(source=event.source, subject_id=event.subject_id, event=event.event,
                    customer_id=event.customer_id, text=event.wording.text, template=event.wording.template,
                    status="claimed", delivered_to=[], push_status=None, push_to=[], push_attempts=0,
                    event_at=event.at, created_at=now)
            .on_conflict_do_nothing(index_elements=["source", "subject_id", "event"])
            .returning(Notice.id))


def _retake_undeliverable(db: Session, event: PendingEvent, now: datetime) -> int | None:
    """A notice nobody could hear when it was recorded, for a customer who has bound a channel
    since: this transaction takes it over (with today's wording) if no other did first."""
    key = (Notice.source == event.source, Notice.subject_id == event.subject_id, Notice.event == event.event)
    notice_id = db.scalar(select(Notice.id).where(*key, Notice.status == "undeliverable"))
    if notice_id is None:
        return None
    taken = db.execute(update(Notice).where(Notice.id == notice_id, Notice.status == "undeliverable")
                       .values(status="claimed", text=event.wording.text, template=event.wording.template,
                               created_at=now))
    return notice_id if taken.rowcount else None


def _latest_session(db: Session, target: Target, customer_id: int, now: datetime) -> ChatSession:
    """The channel user's most recent chat session (open or not), or a new one."""
    session = db.scalars(select(ChatSession)
                         .where(ChatSession.channel == target.channel, ChatSession.user_id == target.user_id)
                         .order_by(ChatSession.id.desc()).limit(1)).first()
    if session is not None:
        return session
    session = ChatSession(channel=target.channel, user_id=target.user_id, customer_id=customer_id, mode="bot",
                          status="open", state={}, created_at=now, last_active_at=now)
    db.add(session)
    db.flush()
    return session


# --- WeChat pushes after the commit ---------------------------------------------------------------

class WeChatPusher:
    """A template message when the notice has a template kind whose id is configured
    (`CHATBOT_WECHAT_TEMPLATE_CARD_PROGRESS` / `_LOAN_PROGRESS`), else a customer-service message
    (accepted by WeChat within 48 hours of the follower's last message)."""

    def __init__(self, outbound: OutboundChannel | None, notifier: TemplateNotifier | None) -> None:
        self.outbound = outbound
        self.notifier = notifier

    @classmethod
    def of(cls, wiring) -> "WeChatPusher | None":
        """From `chatbot.channels.wechat.setup.WeChatWiring`; None when it cannot send."""
        if wiring is None or wiring.outbound is None:
            return None
        return cls(wiring.outbound, wiring.notifier)

    def push(self, openid: str, text: str, template: dict | None) -> str:
        """Send once; returns how (`template` or `message`); raises on failure."""
        kind = (template or {}).get("kind")
        if kind and self.notifier is not None and self.notifier.template_ids.get(kind):
            self.notifier.send(openid, kind, tuple(template["values"]))
            return "template"
        if self.outbound is None:
            raise RuntimeError(NO_WECHAT_API)
        self.outbound.deliver(openid, text)
        return "message"


def due_pushes(db: Session, now: datetime, lease: timedelta = PUSH_LEASE, limit: int = 100) -> list[int]:
    return list(db.scalars(select(Notice.id).where(Notice.push_status == "pending", _lease_free(now, lease))
                           .order_by(Notice.id).limit(limit)))


def _lease_free(now: datetime, lease: timedelta):
    return or_(Notice.push_claimed_at.is_(None), Notice.push_claimed_at < now - lease)


def claim_push(db: Session, notice_id: int, now: datetime, lease: timedelta = PUSH_LEASE) -> Notice | None:
    """Lease a pending push to this worker; None when another holds a fresh lease or it is done.

    A push already tried `MAX_PUSH_ATTEMPTS` times (each a worker that never came back) is
    given up as failed instead.
    """
    taken = db.execute(update(Notice)
                       .where(Notice.id == notice_id, Notice.push_status == "pending", _lease_free(now, lease))
                       .values(push_claimed_at=now, push_attempts=Notice.push_attempts + 1))
    if not taken.rowcount:
        return None
    notice = db.get(Notice, notice_id)
    db.refresh(notice)
    if notice.push_attempts > MAX_PUSH_ATTEMPTS:
        notice.push_status, notice.push_error = "failed", f"推送 {MAX_PUSH_ATTEMPTS} 次均未完成"
        log.error("notice %d: WeChat push given up after %d attempts", notice.id, MAX_PUSH_ATTEMPTS)
        return None
    return notice


def push_finished(db: Session, notice_id: int, now: datetime, error: str | None) -> None:
    values = {"push_status": "failed", "push_error": error} if error else {"push_status": "sent", "pushed_at": now}
    db.execute(update(Notice).where(Notice.id == notice_id, Notice.push_status == "pending").values(**values))
