"""One run of the notification job (`chatbot notify run`, and the scheduler inside `serve`).

    1. read the events nobody was told of (events.pending)
    2. record each in its own write transaction (deliver.record): notice row + transcript lines
    3. after each commit, announce the new lines on the event bus (open chat pages see them at once)
    4. push what WeChat followers are owed (deliver.claim_push / push_finished)

Running it again, or on several workers at once, tells nothing twice (docs/notifications.md).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from chatbot.clock import BANK_TZ, Clock
from chatbot.handoff.events import EventBus
from chatbot.handoff.notices import message_event
from chatbot.notify import deliver, events
from chatbot.notify.deliver import WeChatPusher
from chatbot.storage.db import Database
from chatbot.storage.models import CreditTerms
from chatbot.tools.sql_bank import SqlBank
from knowledge.kg.load import KnowledgeGraph

log = logging.getLogger(__name__)


@dataclass
class RunReport:
    sent: int = 0  # notices written to at least one channel of their customer in this run
    undeliverable: int = 0  # recorded, but the customer has no channel binding
    pushed: int = 0  # WeChat pushes completed
    push_failed: int = 0
    errors: int = 0  # events that could not be recorded (logged; tried again next run)
    upkeep: list[str] = field(default_factory=list)  # lines of the jobs run alongside (WeChat outbox)

    def line(self) -> str:
        parts = [f"已发送通知 {self.sent} 条"]
        if self.undeliverable:
            parts.append(f"无可用渠道 {self.undeliverable} 条")
        if self.pushed or self.push_failed:
            parts.append(f"微信推送成功 {self.pushed} 条、失败 {self.push_failed} 条")
        if self.errors:
            parts.append(f"未能记录 {self.errors} 条（见日志，下次运行重试）")
        return "，".join(parts + self.upkeep)


def product_names(graph: KnowledgeGraph) -> dict[str, str]:
    """Product names by node id (the notices name what a customer holds)."""
    return {node: data["name"] for node, data in graph.nodes(data=True) if data.get("type") == "product"}


class NotifyJob:
    def __init__(self, database: Database, clock: Clock, *, pusher: WeChatPusher | None = None,
                 bus: EventBus | None = None, lookback: timedelta = events.LOOKBACK,
                 push_lease: timedelta = deliver.PUSH_LEASE, names: Mapping[str, str] | None = None,
                 upkeep: Sequence[Callable[[], str | None]] = ()) -> None:
        self.database = database
        # Work that rides on this job's schedule (serve's scheduler, `chatbot notify run`): the
        # WeChat outbox's retries, expiring handoff tickets. Each returns its report line or None.
        self.upkeep = list(upkeep)
        self.names = dict(names or {})  # product names by code, for maturity reminders
        self._cycles_closed_on = None  # the bank day this job last closed card cycles
        self.clock = clock
        self.pusher = pusher
        self.bus = bus
        self.lookback = lookback
        self.push_lease = push_lease

    def run(self) -> RunReport:
        report = RunReport()
        self._close_card_cycles()
        with self.database.read() as db:
            found = events.pending(db, self.clock.now(), self.lookback, self.names)
        for event in found:
            self._tell(event, report)
        self._push_all(report)
        self._upkeep(report)
        if found or report.pushed or report.push_failed:
            log.info("notify: %s", report.line())
        return report

    def _upkeep(self, report: RunReport) -> None:
        for job in self.upkeep:
            try:
                line = job()
            except Exception:  # one job's trouble must not stop the others; tried again next run
                log.exception("notify: %s failed", getattr(job, "__name__", job))
                continue
            if line:
                report.upkeep.append(line)

    def _close_card_cycles(self) -> None:
        """Statements close when a card is read; a customer who never chats still gets the due
        reminder because the job closes the cycles that ended first (one short transaction each)."""
        now = self.clock.now()
        today = now.astimezone(BANK_TZ).date()
        if self._cycles_closed_on == today:  # cycles end at day boundaries: once a day is enough
            return
        with self.database.read() as db:
            accounts = db.scalars(select(CreditTerms.account_id).order_by(CreditTerms.account_id)).all()
        failed = False
        for account_id in accounts:
            try:
                with self.database.write() as db:
                    SqlBank(db).close_ended_cycles(account_id, now)
            except Exception:  # one card's trouble must not keep the others' notices back
                log.exception("notify: could not close the cycles of credit account %d", account_id)
                failed = True
        if not failed:  # else tried again at the next run
            self._cycles_closed_on = today

    def push_pending(self) -> RunReport:
        """Only the WeChat pushes owed (news digests recorded by chatbot/news/push.py use it)."""
        report = RunReport()
        self._push_all(report)
        return report

    def _tell(self, event: events.PendingEvent, report: RunReport) -> None:
        try:
            with self.database.write() as db:
                recorded = deliver.record(db, event, self.clock.now(), can_push=self.pusher is not None)
        except Exception:
            log.exception("notify: could not record %s of %s %d", event.event, event.source, event.subject_id)
            report.errors += 1
            return
        if recorded is None:
            return  # another run told it first
        if recorded.notice.status == "undeliverable":
            report.undeliverable += 1
            return
        report.sent += 1
        if self.bus is not None:
            try:
                self.bus.publish_all([message_event(session, line, None) for session, line in recorded.lines])
            except Exception:  # the line is stored; pages read it on their next poll
                log.exception("notify: live event for notice %d not published", recorded.notice.id)

    def _push_all(self, report: RunReport) -> None:
        if self.pusher is None:
            return
        tried: set[int] = set()
        while True:
            with self.database.read() as db:
                ids = [i for i in deliver.due_pushes(db, self.clock.now(), self.push_lease) if i not in tried]
            if not ids:
                return
            for notice_id in ids:
                tried.add(notice_id)
                with self.database.write() as db:
                    notice = deliver.claim_push(db, notice_id, self.clock.now(), self.push_lease)
                if notice is not None:
                    self._push(notice, report)

    def _push(self, notice, report: RunReport) -> None:
        failures = []
        for openid in notice.push_to:
            try:
                self.pusher.push(openid, notice.text, notice.template)
            except Exception as exc:  # WeChatApiError, or anything else: recorded on the notice
                failures.append(f"{openid}: {getattr(exc, 'message', None) or exc}")
        error = "; ".join(failures) or None
        with self.database.write() as db:
            deliver.push_finished(db, notice.id, self.clock.now(), error)
        if error:
            report.push_failed += 1
            log.warning("notify: WeChat push of notice %d failed: %s", notice.id, error)
        else:
            report.pushed += 1


def job_for_cli(settings, database: Database, clock: Clock):
    """The job as `chatbot notify run` builds it: its own WeChat client (sharing the workers'
    access token through Redis when configured) and event bus. Returns (job, close)."""
    from chatbot.channels.wechat.outbound import WeChatOutbound
    from chatbot.channels.wechat.setup import (build_api, build_outbox, database_recorder, failure_recorder,
                                               redis_client)
    from chatbot.channels.wechat.templates import TemplateNotifier
    from chatbot.channels.outbound import OutboundRegistry
    from chatbot.handoff.expiry import QueueExpiry
    from chatbot.handoff.wiring import make_bus

    closers = []
    pusher = None
    upkeep = []
    outbound = OutboundRegistry()  # handoff expiry notices to WeChat followers
    if settings.wechat_appid and settings.wechat_secret:
        client = redis_client(settings.redis_url)
        api = build_api(settings, client)
        closers.append(api.close)
        if client is not None:
            closers.append(client.close)
        on_failure = failure_recorder(database_recorder(database, clock))
        outbox = build_outbox(settings, database, clock, on_failure)
        pusher = WeChatPusher(WeChatOutbound(api, on_failure=on_failure, outbox=outbox),
                              TemplateNotifier.from_settings(api, settings, on_failure=on_failure, outbox=outbox))
        outbound.register("wechat", pusher.outbound)
        upkeep.append(lambda: outbox.run(api).line())
    bus = make_bus(settings.redis_url) if settings.redis_url else None
    if bus is not None:
        closers.append(bus.close)
    if settings.handoff_queue_minutes > 0:
        upkeep.append(QueueExpiry(database, clock, settings.handoff_queue_minutes, bus=bus, outbound=outbound).run)

    def close() -> None:
        for closer in closers:
            try:
                closer()
            except Exception:
                log.exception("notify: closing failed")

    names = product_names(KnowledgeGraph.load(settings.data_dir / "kg.yaml"))
    return NotifyJob(database, clock, pusher=pusher, bus=bus, names=names, upkeep=upkeep), close
