"""The SMS outbox of the webhook gateway (table `sms_outbox`).

A row is written in the transaction of the turn that sends the message, so a message leaves
only if that turn commits. Delivery happens later, outside any transaction: `claim` moves a
due row's `next_attempt_at` ahead (a lease, so one worker of many posts it), then the row is
`delivered` (deleted) or `retry_later`. Phone and text are sealed together (label
`sms.outbox`): the codes are never at rest in the clear.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from chatbot.security.sealing import seal, unseal
from chatbot.storage.models import SmsOutbox

SEAL_LABEL = "sms.outbox"


@dataclass(frozen=True)
class QueuedSms:
    id: int
    attempts: int  # including the claim that returned it
    key: str  # idempotency key the gateway may use to drop a repeated delivery
    phone: str
    text: str


def enqueue(db: Session, secret_key: str, key: str, phone: str, text: str, now: datetime) -> SmsOutbox:
    payload = json.dumps({"key": key, "phone": phone, "text": text}, ensure_ascii=False)
    row = SmsOutbox(payload=seal(secret_key, SEAL_LABEL, payload), created_at=now, attempts=0,
                    next_attempt_at=now)
    db.add(row)
    return row


def due(db: Session, now: datetime, limit: int = 20) -> list[int]:
    """Ids of rows whose (next) delivery attempt is due, oldest first."""
    return list(db.scalars(select(SmsOutbox.id).where(SmsOutbox.next_attempt_at <= now)
                           .order_by(SmsOutbox.id).limit(limit)))


def claim(db: Session, secret_key: str, row_id: int, now: datetime, lease: timedelta) -> QueuedSms | None:
    """Take a due row for one delivery attempt (None when another worker took it first)."""
    taken = db.execute(update(SmsOutbox)
                       .where(SmsOutbox.id == row_id, SmsOutbox.next_attempt_at <= now)
                       .values(next_attempt_at=now + lease, attempts=SmsOutbox.attempts + 1))
    if not taken.rowcount:
        return None
    row = db.get(SmsOutbox, row_id)
    body = json.loads(unseal(secret_key, SEAL_LABEL, row.payload))
    return QueuedSms(row.id, row.attempts, body["key"], body["phone"], body["text"])


def delivered(db: Session, row_id: int) -> None:
    db.execute(delete(SmsOutbox).where(SmsOutbox.id == row_id))


def retry_later(db: Session, row_id: int, at: datetime) -> None:
    db.execute(update(SmsOutbox).where(SmsOutbox.id == row_id).values(next_attempt_at=at))


def drop_stale(db: Session, created_before: datetime, max_attempts: int) -> int:
    """Delete messages too old to be of use or tried too often; returns how many."""
    return db.execute(delete(SmsOutbox).where(or_(SmsOutbox.created_at < created_before,
                                                  SmsOutbox.attempts >= max_attempts))).rowcount or 0


def pending(db: Session) -> int:
    return len(db.scalars(select(SmsOutbox.id)).all())
