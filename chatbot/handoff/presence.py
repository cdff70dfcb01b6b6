"""Marks agents present: while their console's event stream is open, and when they act; and
keeps the status each agent chose on the console (在线 / 忙碌 / 离开): only agents online take
new customers, so only they count in the wait estimates (chatbot/handoff/queue.py).

The rows are in the database (`agent_presence`), so an agent whose console is connected to
one worker counts as online for a customer queued through another. Writes are throttled per
process (one per agent and kind every `min_interval`); the database stays the record.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from chatbot.clock import Clock
from chatbot.errors import InvalidInput
from chatbot.handoff import queue
from chatbot.handoff.events import EventBus
from chatbot.security.staff_auth import Staff
from chatbot.storage import presence as presence_store
from chatbot.storage import staff as staff_store
from chatbot.storage.db import Database

log = logging.getLogger(__name__)


class Presence:
    def __init__(self, database: Database, clock: Clock, min_interval: timedelta = timedelta(seconds=10),
                 bus: EventBus | None = None) -> None:
        self.db = database
        self.clock = clock
        self.bus = bus
        self.min_interval = min_interval
        self._last: dict[tuple[int, str], datetime] = {}
        self._lock = threading.Lock()

    def stream_alive(self, staff_id: int) -> None:
        """The agent's console stream is open (called on connect and every heartbeat)."""
        self._touch(staff_id, "stream_seen_at")

    def acted(self, staff_id: int) -> None:
        """The agent used the console API (queue, view, accept, reply …)."""
        self._touch(staff_id, "acted_at")

    def set_status(self, agent: Staff, status: str) -> dict:
        """The agent's chosen status; every waiting customer's estimate and every console's
        list of colleagues change with it (a `queue` event and `position` events)."""
        if status not in presence_store.STATUSES:
            raise InvalidInput("状态须为 online、busy 或 away", "invalid_status")
        now = self.clock.now()
        with self.db.write() as db:
            presence_store.set_status(db, agent.id, status, now)
            staff_store.audit(db, agent.username, "agent.status", f"staff:{agent.username}", {"status": status}, now)
        with self.db.read() as db:
            events = queue.position_events(db, now)
        if self.bus is not None:
            self.bus.publish_all(events)
        return {"status": status}

    def status(self, staff_id: int) -> str:
        with self.db.read() as db:
            return presence_store.status_of(db, staff_id)

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
