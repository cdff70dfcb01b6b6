"""The FAQ questions customers asked most lately, for the welcome chips.

Counted from the turn log (the FAQ answers of the last 30 days, at most the latest 5,000),
once every ten minutes per process; read-only, so a turn answered from reads may ask for it.
Until enough has been asked (a new installation), the first question of the FAQ's largest
categories stands in.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatbot.storage.models import TurnLog

WINDOW = timedelta(days=30)
SCANNED = 5000
ENOUGH = 20  # answers counted before the log's choice is trusted over the stand-ins
REFRESH_S = 600.0


def most_answered(db: Session, now: datetime, limit: int) -> tuple[list[str], int]:
    """The FAQ ids answered most often in the window (best first), and how many answers counted."""
    rows = db.scalars(select(TurnLog.steps)
                      .where(TurnLog.intent == "faq", TurnLog.outcome == "answered", TurnLog.created_at >= now - WINDOW)
                      .order_by(TurnLog.id.desc()).limit(SCANNED))
    counts = Counter(step.get("faq_id") for steps in rows for step in steps or ()
                     if isinstance(step, dict) and step.get("action") == "faq_answer")
    counts.pop(None, None)
    return [faq_id for faq_id, _ in counts.most_common(limit)], sum(counts.values())


class PopularQuestions:
    """`questions(db, now)`: up to `limit` FAQ questions, the most asked first."""

    def __init__(self, entries: Callable[[], Sequence], limit: int = 3,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._entries = entries  # the FAQ's current entries (id, question, category)
        self.limit = limit
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._ids: list[str] | None = None
        self._counted_at = float("-inf")

    def questions(self, db: Session | None, now: datetime) -> list[str]:
        entries = {entry.id: entry for entry in self._entries()}
        ids = self._popular_ids(db, now)
        chosen = [entries[i].question for i in ids if i in entries]
        return chosen[: self.limit] if chosen else self._stand_ins(entries.values())

    def _popular_ids(self, db: Session | None, now: datetime) -> list[str]:
        with self._lock:
            if db is not None and self._monotonic() - self._counted_at >= REFRESH_S:
                ids, counted = most_answered(db, now, self.limit)
                self._ids, self._counted_at = (ids if counted >= ENOUGH else []), self._monotonic()
            return list(self._ids or ())

    def _stand_ins(self, entries) -> list[str]:
        by_category: dict[str, list] = {}
        for entry in entries:
            by_category.setdefault(entry.category, []).append(entry)
        largest = sorted(by_category.values(), key=len, reverse=True)[: self.limit]
        return [group[0].question for group in largest]
