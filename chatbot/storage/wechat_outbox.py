"""The WeChat outbox (table `wechat_outbox`): messages whose delivery failed, tried again later.

A row is written after a delivery failed for a passing reason (chatbot/channels/wechat/outbox.py
decides which). Retrying happens outside any transaction: `claim` moves a due row's
`next_attempt_at` ahead by a lease with a conditional UPDATE (on PostgreSQL a second worker's
UPDATE waits for the first to commit and then matches nothing), so one sender of many tries a
row at a time; then the row is `delivered` (deleted), `retry_later` or `give_up` (status
`failed`, kept for operators).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from chatbot.storage.models import WeChatOutbox

MAX_ERROR = 500


@dataclass(frozen=True)
class Claimed:
    id: int
    openid: str
    kind: str
    payload: dict
    attempts: int  # including the attempt this claim is for


def enqueue(db: Session, openid: str, kind: str, payload: dict, error: str, now: datetime,
            next_at: datetime, attempts: int = 1) -> WeChatOutbox:
    row = WeChatOutbox(openid=openid, kind=kind, payload=payload, status="pending", attempts=attempts,
                       last_error=error[:MAX_ERROR], created_at=now, next_attempt_at=next_at)
    db.add(row)
    db.flush()
    return row


def due(db: Session, now: datetime, limit: int = 100) -> list[int]:
    """Ids of pending rows whose next attempt is due, oldest first."""
    return list(db.scalars(select(WeChatOutbox.id)
                           .where(WeChatOutbox.status == "pending", WeChatOutbox.next_attempt_at <= now)
                           .order_by(WeChatOutbox.id).limit(limit)))


def claim(db: Session, row_id: int, now: datetime, lease: timedelta) -> Claimed | None:
    """Take a due row for one attempt; None when another sender took it first (or it is done)."""
    taken = db.execute(update(WeChatOutbox)
                       .where(WeChatOutbox.id == row_id, WeChatOutbox.status == "pending",
                              WeChatOutbox.next_attempt_at <= now)
                       .values(next_attempt_at=now + lease, attempts=WeChatOutbox.attempts + 1))
    if not taken.rowcount:
        return None
    row = db.get(WeChatOutbox, row_id)
    db.refresh(row)
    return Claimed(row.id, row.openid, row.kind, dict(row.payload), row.attempts)


def delivered(db: Session, row_id: int) -> None:
    db.execute(delete(WeChatOutbox).where(WeChatOutbox.id == row_id))


def retry_later(db: Session, row_id: int, at: datetime, error: str, payload: dict | None = None) -> None:
    values = {"next_attempt_at": at, "last_error": error[:MAX_ERROR]}
    if payload is not None:  # what is left to send (a long text partly delivered)
        values["payload"] = payload
    db.execute(update(WeChatOutbox).where(WeChatOutbox.id == row_id).values(**values))


def give_up(db: Session, row_id: int, now: datetime, error: str) -> None:
    db.execute(update(WeChatOutbox).where(WeChatOutbox.id == row_id)
               .values(status="failed", finished_at=now, last_error=error[:MAX_ERROR]))


def counts(db: Session, now: datetime) -> dict:
    """What operators watch: pending rows (and the oldest one's age), rows given up."""
    rows = dict(db.execute(select(WeChatOutbox.status, func.count()).group_by(WeChatOutbox.status)).all())
    oldest = db.scalar(select(func.min(WeChatOutbox.created_at)).where(WeChatOutbox.status == "pending"))
    if oldest is not None and oldest.tzinfo is None:  # SQLite's MIN() comes back without its zone
        oldest = oldest.replace(tzinfo=timezone.utc)
    return {"pending": rows.get("pending", 0), "failed": rows.get("failed", 0),
            "oldest_pending_seconds": int((now - oldest).total_seconds()) if oldest is not None else 0}
