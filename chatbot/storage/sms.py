"""The SMS outbox (in the sandbox, the inbox customers read)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.storage.models import SmsMessage


def record(db: Session, phone: str, text: str, at: datetime) -> SmsMessage:
    message = SmsMessage(phone=phone, text=text, sent_at=at)
    db.add(message)
    return message


def inbox(db: Session, phone: str, limit: int = 50) -> Sequence[SmsMessage]:
    """Messages sent to `phone`, newest first."""
    return db.scalars(
        select(SmsMessage).where(SmsMessage.phone == phone).order_by(SmsMessage.id.desc()).limit(limit)
    ).all()
