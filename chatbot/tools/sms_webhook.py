"""The real SMS gateway: an HTTP webhook of the bank's SMS service, fed from an outbox.

`CHATBOT_SMS_GATEWAY=webhook` with `CHATBOT_SMS_WEBHOOK_URL` and `CHATBOT_SMS_WEBHOOK_TOKEN`.

Nothing is posted inside a turn's transaction: `OutboxSms.send` writes a (sealed) row of
`sms_outbox` in the turn's session and asks for delivery once that session commits
(SQLAlchemy's `after_commit` event; a rolled-back turn sends nothing). A background thread
then posts each due row:

    POST <url>
    Authorization: Bearer <token>
    Idempotency-Key: <key>
    {"phone": "13800138000", "text": "【示例银行】验证码 …", "key": "<key>"}

A 2xx answer deletes the row; anything else (or no answer within the timeout) tries again
with backoff, at most `MAX_ATTEMPTS` times and never after `MAX_AGE` (a code is dead after
5 minutes). Rows left by a stopped process are picked up by the next poll of any worker.
"""
from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime, timedelta

import httpx
from sqlalchemy import event
from sqlalchemy.orm import Session

from chatbot.clock import Clock, SystemClock
from chatbot.storage import outbox
from chatbot.storage.db import Database
from chatbot.tools.sms import SandboxGateways, SmsGateways

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
MAX_AGE = timedelta(minutes=5)
LEASE = timedelta(seconds=60)
POLL_SECONDS = 30.0
_KICK_REGISTERED = "chatbot.sms_outbox_kick"


class OutboxSms:
    """The gateway of one turn: queues messages in that turn's transaction."""

    def __init__(self, db: Session, gateways: WebhookGateways) -> None:
        self.db = db
        self.gateways = gateways

    def send(self, phone: str, text: str, now: datetime) -> None:
        outbox.enqueue(self.db, self.gateways.secret_key, uuid.uuid4().hex, phone, text, now)
        if not self.db.info.get(_KICK_REGISTERED):
            self.db.info[_KICK_REGISTERED] = True
            event.listen(self.db, "after_commit", self._committed, once=True)

    def _committed(self, session: Session) -> None:
        self.gateways.kick()


class WebhookGateways:
    """`SmsGateways` of the webhook; owns the delivery thread (started on the first kick)."""

    def __init__(self, database: Database, secret_key: str, url: str, token: str, *,
                 clock: Clock | None = None, timeout: float = 5.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.database = database
        self.secret_key = secret_key
        self.url = url
        self.clock = clock or SystemClock()
        self._client = httpx.Client(timeout=timeout, transport=transport,
                                    headers={"Authorization": f"Bearer {token}"})
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def gateway(self, db: Session) -> OutboxSms:
        return OutboxSms(db, self)

    def kick(self) -> None:
        """Deliver soon (called after a commit that queued messages); never blocks."""
        self._ensure_thread()
        self._wake.set()

    def deliver_pending(self) -> int:
        """Post every due message once; returns how many were delivered."""
        now = self.clock.now()
        with self.database.write() as db:
            dropped = outbox.drop_stale(db, now - MAX_AGE, MAX_ATTEMPTS)
        if dropped:
            log.warning("SMS outbox: %d message(s) given up (too old or too many failed attempts)", dropped)
        sent, tried = 0, set()
        while True:
            with self.database.read() as db:
                ids = [i for i in outbox.due(db, self.clock.now()) if i not in tried]
            if not ids:
                return sent
            for row_id in ids:
                tried.add(row_id)
                with self.database.write() as db:
                    message = outbox.claim(db, self.secret_key, row_id, self.clock.now(), LEASE)
                if message is not None:
                    sent += self._deliver(message)

    def _deliver(self, message: outbox.QueuedSms) -> int:
        try:
            response = self._client.post(self.url, json={"phone": message.phone, "text": message.text,
                                                         "key": message.key},
                                         headers={"Idempotency-Key": message.key})
            ok = 200 <= response.status_code < 300
            reason = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            ok, reason = False, type(exc).__name__
        with self.database.write() as db:
            if ok:
                outbox.delivered(db, message.id)
                return 1
            backoff = timedelta(seconds=2 ** message.attempts)
            outbox.retry_later(db, message.id, self.clock.now() + backoff)
        # The phone and text stay out of the log: only the row and the reason.
        log.warning("SMS webhook: message %d not delivered (attempt %d: %s)", message.id, message.attempts, reason)
        return 0

    def _ensure_thread(self) -> None:
        if self._thread is not None or self._stop.is_set():
            return
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sms-outbox", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self.deliver_pending()
            except Exception:  # a bad moment (database away) must not end the thread
                log.exception("SMS outbox delivery failed; will retry")

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._client.close()


def make_sms_gateways(settings, database: Database, clock: Clock | None = None) -> SmsGateways:
    """The gateways `settings.sms_gateway` names (validated by Settings)."""
    if settings.sms_gateway == "webhook":
        gateways = WebhookGateways(database, settings.secret_key, settings.sms_webhook_url,
                                   settings.sms_webhook_token, clock=clock,
                                   timeout=settings.sms_webhook_timeout_seconds)
        gateways.kick()  # messages a stopped process left behind
        return gateways
    return SandboxGateways(settings.secret_key)
