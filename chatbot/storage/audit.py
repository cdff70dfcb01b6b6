"""The audit log: who did what to which target, when (staff actions, fraud stops, bindings)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from chatbot.security.masking import mask_value
from chatbot.storage.models import AuditLog


def record(db: Session, actor: str, action: str, target: str | None, now: datetime, **detail) -> None:
    db.add(AuditLog(actor=actor, action=action, target=target, detail=mask_value(detail), created_at=now))
