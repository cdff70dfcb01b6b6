"""Per-conversation locks: two messages of one user are never applied at once.

Inside a process a keyed mutex queues the threads of one conversation. Across processes,
a turn answered from reads (chatbot/engine.py) is stored only if the session's version is
still the one it read, else it runs again under the lock; a turn under the lock takes, on
PostgreSQL, a transaction-scoped advisory lock (`pg_advisory_xact_lock`) at the start of its
transaction; on SQLite every write transaction is `BEGIN IMMEDIATE`, which already
serializes writers across processes sharing the file.
"""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.orm import Session


def lock_key(channel: str, user_id: str) -> int:
    """A stable signed 64-bit key for the advisory lock of one conversation."""
    digest = hashlib.blake2b(f"chat:{channel}:{user_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class KeyedLocks:
    """A mutex per key, created on demand and dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        lock.acquire()
        try:
            yield
        finally:
            lock.release()
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)


def lock_conversation_in_transaction(session: Session, channel: str, user_id: str) -> None:
    """Take the cross-process lock of a conversation for the current transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(channel, user_id)})
