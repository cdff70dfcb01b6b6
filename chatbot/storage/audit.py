"""The audit log: who did what to which target, when (staff actions, fraud stops, bindings).

Append-only and hash-chained like the wealth evidence (`chatbot/storage/chain.py`): each row's
hash covers its predecessor's hash and its actor, action, target, detail and time, so a changed
or removed row is found by `chatbot audit verify`; database triggers refuse UPDATE and DELETE
(migration 0013), so the service itself cannot rewrite history.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.orm import Session

from chatbot.security.masking import mask_value
from chatbot.storage import chain
from chatbot.storage.models import AuditLog


def body(actor: str, action: str, target: str | None, detail: dict, created_at: datetime) -> dict:
    """What a row's hash covers besides its predecessor's hash."""
    return {"actor": actor, "action": action, "target": target, "detail": detail,
            "created_at": created_at.astimezone(timezone.utc).isoformat(timespec="microseconds")}


def _body_of(entry: AuditLog) -> dict:
    return body(entry.actor, entry.action, entry.target, entry.detail, entry.created_at)


def append(db: Session, actor: str, action: str, target: str | None, detail: dict | None,
           now: datetime) -> AuditLog:
    """Append one entry at the end of the chain, in the caller's transaction (it commits with
    the action it records)."""
    detail = chain.as_stored(detail or {})
    return chain.append(db, AuditLog, lambda prev: AuditLog(
        actor=actor, action=action, target=target, detail=detail, created_at=now, prev_hash=prev,
        hash=chain.link_hash(prev, body(actor, action, target, detail, now))))


def record(db: Session, actor: str, action: str, target: str | None, now: datetime, **detail) -> None:
    """Append an entry whose detail is masked (no full card, ID or phone number)."""
    append(db, actor, action, target, mask_value(detail), now)


def verify(db: Session, batch: int = 500) -> chain.VerifyReport:
    """Walk the whole audit chain; the first entry whose link or content does not hold is named."""
    return chain.verify(db, AuditLog, _body_of, batch)
