"""Marks agents present: while their console's event stream is open, and when they act.

The rows are in the database (`agent_presence`), so an agent whose console is connected to
one worker counts as online for a customer queued through another. Writes are throttled per
process (one per agent and kind every `min_interval`); the database stays the record.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from chatbot.clock import Clock
from chatbot.storage import presence as presence_store
from chatbot.storage.db import Database

log = logging.getLogger(__name__)


class Presence:
    def __init__(self, database: Database, clock: Clock, min_interval: timedelta = timedelta(seconds=10)) -> None:
        self.db = database
        self.clock = clock
        self.min_interval = min_interval
        self._last: dict[tuple[int, str], datetime] = {}
        self._lock = threading.Lock()

    def stream_alive(self, staff_id: int) -> None:
        """The agent's console stream is open (called on connect and every heartbeat)."""
        self._touch(staff_id, "stream_seen_at")

    def acted(self, staff_id: int) -> None:
        """The agent used the console API (queue, view, accept, reply …)."""
        self._touch(staff_id, "acted_at")

    def _touch(self, staff_id: int, column: str) -> None:
        now = self.clock.now()
        key = (staff_id, column)
        with self._lock:
            last = self._last.get(key)
            if last is not None and timedelta(0) <= now - last < self.min_interval:
                return
            self._last[key] = now
        try:
            with self.db.write() as db:
                presence_store.touch(db, staff_id, column, now)
        except Exception:  # presence only informs estimates; never fail the agent's request for it
            log.exception("could not record agent presence")
            with self._lock:
                self._last.pop(key, None)
