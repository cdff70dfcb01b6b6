"""Single-use tokens (statement links): each token id may be spent once.

A spent id is kept in `used_tokens` until the token would have expired anyway, then purged
(every spend deletes the expired rows).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chatbot.storage.models import UsedToken


def spend(db: Session, token_id: str, expires_at: datetime, now: datetime) -> bool:
    """Record `token_id` as used; False when it was used before (also by a concurrent spend)."""
    db.execute(delete(UsedToken).where(UsedToken.expires_at < now))
    if db.get(UsedToken, token_id) is not None:
        return False
    try:
        with db.begin_nested():  # a concurrent spend of the same id loses here, not with a 500
            db.add(UsedToken(token_id=token_id, expires_at=expires_at, used_at=now))
    except IntegrityError:
        return False
    return True
