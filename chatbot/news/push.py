"""Pushing news to subscribers (`chatbot push run`, and the scheduler inside `chatbot serve`).

One run:

1. **Important items at once.** Every published item flagged important, published within
   `IMPORTANT_LOOKBACK`, goes to every active subscriber of its category who has not had it.
2. **Digests.** Each active subscriber whose digest is due (`digest_due`: daily once per bank
   day, thrice weekly on Monday/Wednesday/Friday, weekly once per calendar week; never before
   `DIGEST_FROM_HOUR` bank time) gets up to `DIGEST_SIZE` items of their categories published in
   the last `DIGEST_LOOKBACK` they have not had, ranked by `rank`: important first, then the
   categories they showed interest in (`interests`: news they listed or read in chat, 2 points a
   read, 1 a list; a wealth question counts for 理财产品), then newest.
3. **Product items by risk level.** A 理财产品 item that names a risk level (R1..R5, the
   highest one named counts) goes only to a customer whose assessment in force (the newest,
   not expired) is at least that level (C3 gets R1..R3); without one in force, only product
   items that name no level. This holds for important items too.

Never twice: each customer is handled in one write transaction that locks their subscription
row (SELECT … FOR UPDATE; SQLite's write lock does the same), then inserts one
`news_deliveries` row per item with INSERT … ON CONFLICT DO NOTHING and tells only the items it
inserted; the digest's `last_digest_at` is set in that transaction. A second worker waits on
the lock, then finds the items delivered and the digest not due. The message is recorded
through `chatbot.notify.deliver.record` (a `notices` row `source="news"`, the bot lines in the
customer's latest web history and WeChat followers' transcripts) in the same transaction; its
WeChat push follows the commit with the notification layer's leases.

Who is reached: the notification layer's targets, less WeChat followers whose latest follow
event in the audit log is `wechat.unsubscribe` (the WeChat channel records it). A customer
nobody can reach gets nothing recorded (their items stay untold, for a later digest).
Paused and cancelled subscriptions get nothing.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from chatbot.clock import BANK_TZ, Clock
from chatbot.handoff.events import EventBus
from chatbot.handoff.notices import message_event
from chatbot.news.catalogue import published, risk_level
from chatbot.notify import deliver
from chatbot.notify.deliver import Target, WeChatPusher
from chatbot.notify.events import PendingEvent
from chatbot.notify.job import NotifyJob
from chatbot.notify.texts import BANK, Wording
from chatbot.channels.wechat.templates import time_value
from chatbot.security.masking import mask_text
from chatbot.storage.db import Database
from chatbot.storage.locks import lock_conversation_in_transaction
from chatbot.storage.models import (
    AuditLog,
    ChatSession,
    NewsDelivery,
    NewsItem,
    NewsSubscription,
    RiskAssessment,
    TurnLog,
)

log = logging.getLogger(__name__)

DIGEST_SIZE = 5
DIGEST_LOOKBACK = timedelta(days=7)
IMPORTANT_LOOKBACK = timedelta(days=2)
INTEREST_LOOKBACK = timedelta(days=30)
DIGEST_FROM_HOUR = 8  # bank time
THRICE_WEEKLY_DAYS = (0, 2, 4)  # Monday, Wednesday, Friday
PRODUCTS = "理财产品"


class _Nothing(Exception):
    """Nothing to tell this customer now: the transaction is rolled back."""


@dataclass
class PushReport:
    items: int = 0  # news_deliveries written (items told)
    customers: set = field(default_factory=set)  # customers told something
    messages: int = 0  # digests and important messages recorded
    pushed: int = 0  # WeChat pushes completed (news or other notices owed)
    push_failed: int = 0
    errors: int = 0  # customers whose message could not be recorded (logged; tried again next run)

    def line(self) -> str:
        parts = [f"已推送资讯 {self.items} 条，共 {len(self.customers)} 位客户"]
        if self.pushed or self.push_failed:
            parts.append(f"微信推送成功 {self.pushed} 条、失败 {self.push_failed} 条")
        if self.errors:
            parts.append(f"未能记录 {self.errors} 位客户（见日志，下次运行重试）")
        return "，".join(parts)


def digest_due(sub: NewsSubscription, now: datetime) -> bool:
    local = now.astimezone(BANK_TZ)
    if sub.status != "active" or local.hour < DIGEST_FROM_HOUR:
        return False
    today = local.date()
    last = sub.last_digest_at.astimezone(BANK_TZ).date() if sub.last_digest_at is not None else None
    if last is not None and last >= today:
        return False
    if sub.frequency == "daily":
        return True
    if sub.frequency == "thrice_weekly":
        return today.weekday() in THRICE_WEEKLY_DAYS
    return last is None or last.isocalendar()[:2] != today.isocalendar()[:2]  # weekly


def customer_level(db: Session, customer_id: int, now: datetime) -> int | None:
    """The customer's risk level in force (C1..C5 as 1..5), or None."""
    newest = db.scalars(select(RiskAssessment).where(RiskAssessment.customer_id == customer_id)
                        .order_by(RiskAssessment.assessed_at.desc(), RiskAssessment.id.desc()).limit(1)).first()
    if newest is None or newest.expires_on < now.astimezone(BANK_TZ).date():
        return None
    return int(newest.level[1:])


def suitable(item: NewsItem, level: int | None) -> bool:
    if item.category != PRODUCTS:
        return True
    named = risk_level(item)
    return named is None or (level is not None and named <= level)


def interests(db: Session, customer_id: int, now: datetime) -> Counter:
    """Categories the customer showed interest in lately: news listed (1) or read (2) in chat,
    a wealth question (1 for 理财产品)."""
    rows = db.execute(select(TurnLog.intent, TurnLog.steps)
                      .join(ChatSession, ChatSession.id == TurnLog.session_id)
                      .where(ChatSession.customer_id == customer_id, TurnLog.created_at >= now - INTEREST_LOOKBACK)
                      .order_by(TurnLog.id.desc()).limit(500)).all()
    score: Counter = Counter()
    for intent, steps in rows:
        if intent and intent.startswith("wealth."):
            score[PRODUCTS] += 1
        for step in steps or ():
            if step.get("action") == "news_read" and step.get("category"):
                score[step["category"]] += 2
            elif step.get("action") == "news_listed":
                for category in step.get("categories") or ():
                    score[category] += 1
    return score


def rank(items: list[NewsItem], score: Counter) -> list[NewsItem]:
    return sorted(items, key=lambda i: (not i.important, -score[i.category], -i.published_at.timestamp(), -i.id))


def unfollowed(db: Session, openids: list[str]) -> set[str]:
    """WeChat followers whose latest follow event is an unsubscribe."""
    if not openids:
        return set()
    rows = db.execute(select(AuditLog.target, AuditLog.action)
                      .where(AuditLog.action.in_(("wechat.subscribe", "wechat.unsubscribe")),
                             AuditLog.target.in_(openids)).order_by(AuditLog.id)).all()
    last = {target: action for target, action in rows}
    return {openid for openid, action in last.items() if action == "wechat.unsubscribe"}


def reachable(db: Session, customer_id: int) -> list[Target]:
    found = deliver.targets(db, customer_id)
    gone = unfollowed(db, [t.user_id for t in found if t.channel == "wechat"])
    return [t for t in found if not (t.channel == "wechat" and t.user_id in gone)]


def _untold(customer_id: int):
    return ~exists().where(NewsDelivery.customer_id == customer_id, NewsDelivery.news_id == NewsItem.id)


def _candidates(db: Session, sub: NewsSubscription, now: datetime, reason: str) -> list[NewsItem]:
    query = select(NewsItem).where(*published(now), NewsItem.category.in_(list(sub.categories or [])),
                                   _untold(sub.customer_id))
    if reason == "important":
        query = query.where(NewsItem.important.is_(True), NewsItem.published_at >= now - IMPORTANT_LOOKBACK)
    else:
        query = query.where(NewsItem.published_at >= now - DIGEST_LOOKBACK)
    level = customer_level(db, sub.customer_id, now)
    return [item for item in db.scalars(query) if suitable(item, level)]


def _insert_delivery(db: Session, customer_id: int, news_id: int, reason: str, now: datetime):
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    return (dialect.insert(NewsDelivery)
            .values(customer_id=customer_id, news_id=news_id, reason=reason, sent_at=now)
            .on_conflict_do_nothing(index_elements=["customer_id", "news_id"])
            .returning(NewsDelivery.id))


def wording(items: list[NewsItem], reason: str, now: datetime) -> Wording:
    if reason == "important":
        first = items[0]
        lines = [f"{BANK}重要资讯：{first.title}", first.summary]
        lines += [f"另：{item.title}" for item in items[1:]]
        lines.append("回复“最新资讯”查看全文，回复“暂停推送”可暂停。")
        note = "重要资讯"
    else:
        lines = [f"{BANK}今日财经资讯（{len(items)}条）："]
        lines += [f"{n}. 【{item.category}】{item.title}（{_day(item.published_at)}）" for n, item in enumerate(items, 1)]
        lines.append("回复“最新资讯”查看全文，回复“暂停推送”可暂停。")
        note = f"共{len(items)}条资讯，回复最新资讯查看"
    template = {"kind": "news", "values": [mask_text(items[0].title), time_value(now), note]}
    return Wording(mask_text("\n".join(lines)), template)


def _day(at: datetime) -> str:
    local = at.astimezone(BANK_TZ)
    return f"{local.month}月{local.day}日"


class NewsPushJob:
    def __init__(self, database: Database, clock: Clock, *, pusher: WeChatPusher | None = None,
                 bus: EventBus | None = None) -> None:
        self.database = database
        self.clock = clock
        self.pusher = pusher
        self.bus = bus

    def run(self, reasons: tuple[str, ...] = ("important", "digest")) -> PushReport:
        """One run; `reasons=("important",)` only tells important items (an admin's publication)."""
        report = PushReport()
        with self.database.read() as db:
            customers = list(db.scalars(select(NewsSubscription.customer_id)
                                        .where(NewsSubscription.status == "active")
                                        .order_by(NewsSubscription.customer_id)))
        for customer_id in customers:
            for reason in reasons:
                self._tell(customer_id, reason, report)
        if self.pusher is not None:
            pushes = NotifyJob(self.database, self.clock, pusher=self.pusher).push_pending()
            report.pushed, report.push_failed = pushes.pushed, pushes.push_failed
        if report.items or report.pushed or report.push_failed or report.errors:
            log.info("news push: %s", report.line())
        return report

    def _tell(self, customer_id: int, reason: str, report: PushReport) -> None:
        try:
            with self.database.write() as db:
                told, recorded = self._record(db, customer_id, reason, self.clock.now())
        except _Nothing:
            return
        except Exception:
            log.exception("news push: could not record the %s of customer %d", reason, customer_id)
            report.errors += 1
            return
        report.items += told
        report.messages += 1
        report.customers.add(customer_id)
        if self.bus is not None and recorded is not None:
            try:
                self.bus.publish_all([message_event(session, line, None) for session, line in recorded.lines])
            except Exception:  # the line is stored; pages read it on their next poll
                log.exception("news push: live event for customer %d not published", customer_id)

    def _record(self, db: Session, customer_id: int, reason: str, now: datetime):
        reach = reachable(db, customer_id)
        if not reach:
            raise _Nothing
        # The conversations first, then the subscription row: the order a customer's own turn
        # ("暂停推送") takes them in, so the two never wait on each other in a cycle.
        for target in sorted(reach, key=lambda t: (t.channel, t.user_id)):
            lock_conversation_in_transaction(db, target.channel, target.user_id)
        sub = db.get(NewsSubscription, customer_id, with_for_update=True, populate_existing=True)
        if sub is None or sub.status != "active" or (reason == "digest" and not digest_due(sub, now)):
            raise _Nothing
        chosen = _candidates(db, sub, now, reason)
        if reason == "digest":
            chosen = rank(chosen, interests(db, customer_id, now))[:DIGEST_SIZE]
        else:
            chosen.sort(key=lambda i: (-i.published_at.timestamp(), -i.id))
        told: list[tuple[int, NewsItem]] = []
        for item in chosen:
            delivery_id = db.execute(_insert_delivery(db, customer_id, item.id, reason, now)).scalar()
            if delivery_id is not None:
                told.append((delivery_id, item))
        if not told:
            raise _Nothing
        if reason == "digest":
            sub.last_digest_at = now
        items = [item for _, item in told]
        event = PendingEvent("news", customer_id, f"{reason[0]}{min(d for d, _ in told)}", customer_id, now,
                             wording(items, reason, now))
        recorded = deliver.record(db, event, now, can_push=self.pusher is not None, reach=reach)
        if recorded is None:  # cannot happen: the event key holds a delivery id only this transaction has
            raise _Nothing
        return len(told), recorded


def job_for_cli(settings, database: Database, clock: Clock):
    """The job as `chatbot push run` builds it (the notification job's WeChat client and bus)."""
    from chatbot.notify.job import job_for_cli as notify_job_for_cli

    notify_job, close = notify_job_for_cli(settings, database, clock)
    return NewsPushJob(database, clock, pusher=notify_job.pusher, bus=notify_job.bus), close
