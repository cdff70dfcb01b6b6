"""Live events for the agent console and the customer's chat page.

An `Event` names who may see it (`audience`): every agent console (`agents`), one agent
(`agent:<staff id>`) or one customer (`customer:<channel>:<user id>`). A subscriber (one
open event stream) says which audience keys it stands for and receives the matching events.

`LocalBus` fans out inside one process; `RedisBus` (chatbot/handoff/redis_bus.py) publishes
through Redis pub/sub so every worker on every host fans out the same events. Events are
notifications, not the record: the database is, and clients re-read it after reconnecting.
Events are published only after the transaction that caused them committed.
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger(__name__)

AGENTS = "agents"


def agent_key(staff_id: int) -> str:
    return f"agent:{staff_id}"


def customer_key(channel: str, user_id: str) -> str:
    return f"customer:{channel}:{user_id}"


@dataclass(frozen=True)
class Event:
    """`type`: queue | message | mode | position | rating. `data` holds masked text only."""

    type: str
    audience: tuple[str, ...]
    session_id: int | None = None
    data: dict = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"type": self.type, "audience": list(self.audience),
                           "session_id": self.session_id, "data": self.data}, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> "Event":
        body = json.loads(raw)
        return cls(body["type"], tuple(body["audience"]), body.get("session_id"), body.get("data") or {})

    def public(self) -> dict:
        """What a stream sends to its client (the audience stays on the server)."""
        return {"type": self.type, "session_id": self.session_id, **self.data}


class Subscription:
    """One listener; `deliver` is called from any thread and must not block."""

    def __init__(self, bus: "LocalBus", keys: Iterable[str], deliver: Callable[[Event], None]) -> None:
        self.bus = bus
        self.keys = frozenset(keys)
        self.deliver = deliver

    def close(self) -> None:
        self.bus._remove(self)


class EventBus(Protocol):
    kind: str

    def publish(self, event: Event) -> None: ...

    def publish_all(self, events: Iterable[Event]) -> None: ...

    def subscribe(self, keys: Iterable[str], deliver: Callable[[Event], None]) -> Subscription: ...

    def close(self) -> None: ...


class LocalBus:
    """In-process fan-out: enough for one worker; events do not reach other processes."""

    kind = "local"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscriptions: set[Subscription] = set()

    def publish(self, event: Event) -> None:
        self.dispatch(event)

    def publish_all(self, events: Iterable[Event]) -> None:
        for event in events:
            self.publish(event)

    def subscribe(self, keys: Iterable[str], deliver: Callable[[Event], None]) -> Subscription:
        subscription = Subscription(self, keys, deliver)
        with self._lock:
            self._subscriptions.add(subscription)
        return subscription

    def dispatch(self, event: Event) -> None:
        """Hand an event to every local subscriber whose keys match its audience."""
        audience = set(event.audience)
        with self._lock:
            targets = [s for s in self._subscriptions if s.keys & audience]
        for subscription in targets:
            try:
                subscription.deliver(event)
            except Exception:  # one broken stream must not stop the others
                log.exception("event subscriber failed; dropping it")
                subscription.close()

    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscriptions)

    def close(self) -> None:
        with self._lock:
            self._subscriptions.clear()

    def _remove(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscriptions.discard(subscription)
