"""The outbox of WeChat deliveries: a message WeChat could not take now is sent again later.

    a push fails (no answer, HTTP 5xx, 系统繁忙, a rate limit) after the API client's retries
        -> `WeChatOutbox.queue`: a `wechat_outbox` row, first retry after
           CHATBOT_WECHAT_OUTBOX_BACKOFF_SECONDS
    `WeChatOutbox.run` (the notification job: every `chatbot serve` worker's scheduler and
    `chatbot notify run`)
        -> each due row claimed by one sender (a lease), sent, then deleted; a failure waits
           twice as long as the last (capped at CHATBOT_WECHAT_OUTBOX_MAX_BACKOFF_SECONDS), and
           after CHATBOT_WECHAT_OUTBOX_MAX_ATTEMPTS attempts the row is given up: status
           `failed`, an error in the log, `wechat.delivery_failed` in the audit log, counted in
           GET /v1/admin/metrics (`wechat_outbox`) and in the job's report line.

A refusal (45015 outside the 48-hour window, an unknown openid, a bad template) would be
refused again: it is not queued but logged, recorded and raised as before. A sender that dies
after WeChat took a message but before the row is deleted leaves a lease that goes stale: that
message is sent again (at least once, never twice while senders live).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from chatbot.channels.wechat.errors import WeChatApiError
from chatbot.clock import Clock
from chatbot.storage import wechat_outbox as store
from chatbot.storage.db import Database

log = logging.getLogger(__name__)

# No answer at all (None), 系统繁忙, and quotas that refill: worth trying again later.
TRANSIENT_ERRCODES = frozenset({None, -1, 45009, 45011, 45047})
LEASE = timedelta(minutes=5)  # longer than one send with the API client's own retries

GiveUpHook = Callable[[str, str, str], None]  # (openid, what was not delivered, reason)


def queueable(exc: Exception) -> bool:
    """A failure that may pass: the API was unreachable, busy or over a refilling quota."""
    return isinstance(exc, WeChatApiError) and exc.errcode in TRANSIENT_ERRCODES


@dataclass(frozen=True)
class OutboxPolicy:
    """Backoff: `backoff_seconds` after the first failure, doubling, at most `max_backoff_seconds`;
    given up after `max_attempts` attempts in all (the first, failed delivery included)."""

    backoff_seconds: float = 30.0
    max_backoff_seconds: float = 3600.0
    max_attempts: int = 8

    @classmethod
    def from_settings(cls, settings) -> "OutboxPolicy":
        return cls(settings.wechat_outbox_backoff_seconds, settings.wechat_outbox_max_backoff_seconds,
                   settings.wechat_outbox_max_attempts)

    def delay(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed attempt."""
        seconds = self.backoff_seconds * (2 ** max(0, min(attempts - 1, 30)))
        return timedelta(seconds=min(seconds, self.max_backoff_seconds))


@dataclass
class OutboxReport:
    delivered: int = 0
    retrying: int = 0  # failed again, rescheduled
    gave_up: int = 0

    def line(self) -> str | None:
        if not (self.delivered or self.retrying or self.gave_up):
            return None
        line = f"微信重发成功 {self.delivered} 条、待再试 {self.retrying} 条"
        return line + (f"、放弃 {self.gave_up} 条" if self.gave_up else "")


class WeChatOutbox:
    """Queues failed deliveries and sends them again; one per process, shared by its senders."""

    def __init__(self, database: Database, clock: Clock, policy: OutboxPolicy = OutboxPolicy(), *,
                 on_give_up: GiveUpHook | None = None, lease: timedelta = LEASE) -> None:
        self.database = database
        self.clock = clock
        self.policy = policy
        self.on_give_up = on_give_up
        self.lease = lease

    def queue(self, openid: str, kind: str, payload: dict, error: str) -> int:
        """Keep a message whose first delivery just failed; returns the row id."""
        now = self.clock.now()
        with self.database.write() as db:
            row_id = store.enqueue(db, openid, kind, payload, error, now, now + self.policy.delay(1)).id
        log.warning("WeChat %s message to %s queued for a retry (outbox %d): %s", kind, openid, row_id, error)
        return row_id

    def run(self, api, limit: int = 100) -> OutboxReport:
        """Try every due row once (rows due again meanwhile wait for the next run)."""
        report = OutboxReport()
        with self.database.read() as db:
            ids = store.due(db, self.clock.now(), limit)
        for row_id in ids:
            with self.database.write() as db:
                claimed = store.claim(db, row_id, self.clock.now(), self.lease)
            if claimed is not None:
                self._attempt(api, claimed, report)
        if report.line():
            log.info("wechat outbox: %s", report.line())
        return report

    def counts(self) -> dict:
        with self.database.read() as db:
            return store.counts(db, self.clock.now())

    def _attempt(self, api, row: store.Claimed, report: OutboxReport) -> None:
        left = dict(row.payload)
        try:
            left = _send(api, row, left)
        except Exception as exc:  # WeChatApiError, or anything else: the row says why
            self._failed(row, left, exc, report)
            return
        with self.database.write() as db:
            store.delivered(db, row.id)
        report.delivered += 1

    def _failed(self, row: store.Claimed, left: dict, exc: Exception, report: OutboxReport) -> None:
        error = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        now = self.clock.now()
        if queueable(exc) and row.attempts < self.policy.max_attempts:
            with self.database.write() as db:
                store.retry_later(db, row.id, now + self.policy.delay(row.attempts), error, left)
            report.retrying += 1
            log.warning("WeChat outbox %d to %s failed (attempt %d of %d), next in %s: %s", row.id, row.openid,
                        row.attempts, self.policy.max_attempts, self.policy.delay(row.attempts), error)
            return
        with self.database.write() as db:
            store.give_up(db, row.id, now, error)
        report.gave_up += 1
        log.error("WeChat outbox %d to %s given up after %d attempts: %s", row.id, row.openid, row.attempts, error)
        if self.on_give_up is not None:
            try:
                self.on_give_up(row.openid, describe(row.kind, left), f"重试 {row.attempts} 次后放弃：{error}")
            except Exception:
                log.exception("could not record the given-up WeChat delivery %d", row.id)


def _send(api, row: store.Claimed, left: dict) -> dict:
    """Send what is left of the row; on failure the raised error's `left` is what remains."""
    if row.kind == "template":
        api.send_template(left["body"])
        return {}
    if row.kind == "news":
        api.send_news(row.openid, left["article"])
        return {}
    from chatbot.channels.wechat.outbound import split_text

    parts = split_text(left["text"])
    for index, part in enumerate(parts):
        try:
            api.send_text(row.openid, part)
        except Exception:
            left["text"] = "\n".join(parts[index:])  # parts already delivered are not sent again
            raise
    return {}


def describe(kind: str, payload: dict) -> str:
    if kind == "template":
        data = (payload.get("body") or {}).get("data") or {}
        return " / ".join(str(v.get("value", "")) for v in data.values())
    return payload.get("text", "")
