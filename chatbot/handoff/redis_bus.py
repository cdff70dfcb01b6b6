"""Events across workers and hosts through Redis pub/sub (`CHATBOT_REDIS_URL`).

Every process publishes to one Redis channel and runs one listener thread subscribed to
it; the listener hands each event to the process's own subscribers (`LocalBus.dispatch`).
A process therefore also receives its own events back through Redis, which keeps the
order of events the same in every worker.

If Redis cannot be reached, `publish` delivers locally and logs a warning once per outage (the
process's own consoles stay live; the database still holds everything, and other workers'
clients catch up when they reload), and the listener reconnects with a back-off.
"""
from __future__ import annotations

import logging
import threading
import time

import redis

from chatbot.handoff.events import Event, LocalBus

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 5.0


def channel_for(url: str) -> str:
    """The events channel of the Redis database `url` names. Pub/sub channels are shared by
    every database of a Redis server, so deployments (or test runs) kept apart by database
    number would otherwise hear each other's events."""
    database = redis.connection.parse_url(url).get("db", 0)
    return f"chatbot:events:{database}"


class RedisBus(LocalBus):
    """LocalBus whose `publish` goes through Redis so all processes see the event."""

    kind = "redis"

    def __init__(self, url: str, channel: str | None = None) -> None:
        super().__init__()
        self.channel = channel or channel_for(url)
        self._client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        self._stop = threading.Event()
        self.subscribed = threading.Event()  # set while the listener is subscribed
        self.degraded = False  # the last publish failed: events stay in this worker
        self._thread = threading.Thread(target=self._listen_forever, name="redis-events", daemon=True)
        self._thread.start()

    def publish(self, event: Event) -> None:
        try:
            self._client.publish(self.channel, event.to_json())
        except redis.RedisError as exc:
            if not self.degraded:  # once per outage, not once per event
                log.warning("Redis publish failed (%s); delivering to this worker only until it is back", exc)
            self.degraded = True
            self.dispatch(event)
            return
        if self.degraded:
            self.degraded = False
            log.warning("Redis reachable again: events reach every worker")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=3)
        self._client.close()
        super().close()

    def _listen_forever(self) -> None:
        backoff = 0.2
        while not self._stop.is_set():
            try:
                self._listen_once()
                backoff = 0.2
            except redis.RedisError as exc:
                self.subscribed.clear()
                log.warning("Redis event listener disconnected (%s); retrying in %.1fs", exc, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)

    def _listen_once(self) -> None:
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(self.channel)
            self.subscribed.set()
            while not self._stop.is_set():
                message = pubsub.get_message(timeout=1.0)
                if message is not None and message.get("type") == "message":
                    self._dispatch_raw(message["data"])
        finally:
            self.subscribed.clear()
            pubsub.close()

    def _dispatch_raw(self, raw: bytes) -> None:
        try:
            event = Event.from_json(raw)
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed event on %s", self.channel)
            return
        self.dispatch(event)

    def wait_subscribed(self, timeout: float = 5.0) -> bool:
        """Block until the listener is subscribed (start-up, tests)."""
        deadline = time.monotonic() + timeout
        while not self.subscribed.wait(0.05):
            if time.monotonic() > deadline:
                return False
        return True
