"""The sandbox SMS inbox customers read (`GET /v1/sandbox/sms`).

A message holds a one-time code, so its text is sealed at rest (`chatbot.security.sealing`,
label `sms.inbox`) and the row lives only as long as the code could be of use: writing a new
message deletes those older than `RETENTION` (the code lifetime plus a margin). The phone is
kept as a keyed digest (`chatbot.security.keys.phone_digest`): the inbox of a number is found by
computing it, and the database holds no phone number.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from chatbot.security.keys import phone_digest
from chatbot.security.sealing import SealBroken, seal, unseal
from chatbot.storage.models import SmsMessage

SEAL_LABEL = "sms.inbox"
# Codes live 5 minutes; the margin lets a customer still see a message that just expired.
RETENTION = timedelta(minutes=15)


@dataclass(frozen=True)
class InboxMessage:
    text: str
    sent_at: datetime


def record(db: Session, phone: str, text: str, at: datetime, secret_key: str) -> SmsMessage:
    """Store one message (sealed) and drop the messages no code in them can still serve."""
    purge(db, at)
    message = SmsMessage(phone_hash=phone_digest(secret_key, phone), text=seal(secret_key, SEAL_LABEL, text),
                         sent_at=at)
    db.add(message)
    return message


def purge(db: Session, now: datetime) -> int:
    """Delete messages older than RETENTION; returns how many."""
    return db.execute(delete(SmsMessage).where(SmsMessage.sent_at < now - RETENTION)).rowcount or 0


def inbox(db: Session, phone: str, secret_key: str, limit: int = 50) -> Sequence[SmsMessage]:
    """Stored rows sent to `phone`, newest first (text still sealed)."""
    return db.scalars(select(SmsMessage).where(SmsMessage.phone_hash == phone_digest(secret_key, phone))
                      .order_by(SmsMessage.id.desc()).limit(limit)).all()


def read_inbox(db: Session, phone: str, secret_key: str, now: datetime | None = None,
               limit: int = 50) -> list[InboxMessage]:
    """Messages sent to `phone`, newest first, opened; none older than RETENTION before `now`.

    A row sealed under another secret (the secret was changed) cannot be read and is skipped.
    """
    opened = []
    for row in inbox(db, phone, secret_key, limit):
        if now is not None and row.sent_at < now - RETENTION:
            continue
        try:
            opened.append(InboxMessage(unseal(secret_key, SEAL_LABEL, row.text), row.sent_at))
        except SealBroken:
            continue
    return opened
