"""Each serving process keeps its intent model current and says which version it answers with.

One `ModelWatcher` thread per worker process (started in the app's lifespan):

- refreshes the `PromotedModel` (`chatbot/nlu/model_store.py`) off the request path: every
  `CHATBOT_MODEL_POLL_SECONDS` it compares `promoted.json`'s stamp, and it looks at once when
  a promotion is announced on the event bus. With `CHATBOT_REDIS_URL` the bus is Redis
  pub/sub (`chatbot/handoff/redis_bus.py`), so every worker of every host swaps within about
  a second of `chatbot models promote` or `POST /v1/admin/models/{v}/promote`; without it the
  announcement reaches only the process that promoted and the others notice the stamp.
- writes its row in `serving_workers` every `CHATBOT_WORKER_HEARTBEAT_SECONDS` and right after
  a swap, and removes it when it stops. A worker that died leaves its row: shown as stale
  (`is_stale`) and removed after `PRUNE_AFTER` by whichever worker beats next.

Announcements are notifications, not the record: `promoted.json` is written before one is
sent, and a missed one only means the next poll finds the change.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chatbot.clock import Clock
from chatbot.handoff.events import Event, EventBus
from chatbot.storage import serving_workers
from chatbot.storage.db import Database

if TYPE_CHECKING:
    from chatbot.service import Services

log = logging.getLogger(__name__)

AUDIENCE = "model-watchers"  # no event stream subscribes to this key: workers only
EVENT_TYPE = "model.promoted"
PRUNE_AFTER = timedelta(minutes=10)
STOP_TIMEOUT_S = 5.0


def promotion_event(version: str) -> Event:
    return Event(EVENT_TYPE, (AUDIENCE,), data={"version": version})


def announce(bus: EventBus, version: str) -> None:
    """Tell every worker on `bus` (this process's, e.g. the API's) to look at the pointer now."""
    bus.publish(promotion_event(version))


def announce_via_redis(redis_url: str, version: str) -> bool:
    """The same for a process without a bus (the CLI): one publish on the bus's Redis channel.
    False, logged, when Redis does not answer (workers then notice the pointer when they poll)."""
    import redis

    from chatbot.handoff.redis_bus import CHANNEL

    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.publish(CHANNEL, promotion_event(version).to_json())
        return True
    except redis.RedisError as exc:
        log.warning("could not announce model %s through Redis (%s); workers will poll", version, exc)
        return False
    finally:
        client.close()


def stale_after(heartbeat_seconds: float) -> timedelta:
    """How long a worker's row may go unseen before it is shown as stale (a few missed beats)."""
    return timedelta(seconds=max(3 * heartbeat_seconds, 15.0))


def is_stale(seen_at: datetime, now: datetime, heartbeat_seconds: float) -> bool:
    return now - seen_at > stale_after(heartbeat_seconds)


def workers_report(database: Database, now: datetime, heartbeat_seconds: float) -> list[dict]:
    """Every serving worker's row, for `GET /v1/admin/models` and `chatbot models list`."""
    with database.read() as db:
        rows = serving_workers.all_workers(db)
    return [{"worker_id": r.worker_id, "host": r.host, "pid": r.pid, "model_version": r.model_version,
             "started_at": r.started_at.isoformat(), "seen_at": r.seen_at.isoformat(),
             "stale": is_stale(r.seen_at, now, heartbeat_seconds)} for r in rows]


@dataclass(frozen=True)
class WorkerIdentity:
    worker_id: str  # host:pid:start (a restarted worker with a reused pid is another row)
    host: str
    pid: int
    started_at: datetime

    @classmethod
    def of_this_process(cls, now: datetime) -> "WorkerIdentity":
        host, pid = socket.gethostname()[:64] or "localhost", os.getpid()
        return cls(f"{host}:{pid}:{int(now.timestamp())}:{uuid.uuid4().hex[:6]}", host, pid, now)


class ModelWatcher:
    """The background thread of one serving process; see the module docstring."""

    def __init__(self, model, database: Database, clock: Clock, *, bus: EventBus | None = None,
                 poll_seconds: float = 2.0, heartbeat_seconds: float = 5.0) -> None:
        self.model = model  # a PromotedModel; anything else (a test double) is reported, not refreshed
        self.database = database
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.identity = WorkerIdentity.of_this_process(clock.now())
        self.swaps = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._subscription = bus.subscribe((AUDIENCE,), lambda _event: self._wake.set()) if bus else None
        self._thread = threading.Thread(target=self._run, name="model-watch", daemon=True)

    @property
    def version(self) -> str | None:
        return getattr(self.model, "version", None)

    def start(self) -> "ModelWatcher":
        self._thread.start()
        return self

    def wake(self) -> None:
        """Look at the pointer now instead of at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Stop the thread and remove this worker's row (best effort)."""
        if self._subscription is not None:
            self._subscription.close()
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=STOP_TIMEOUT_S)
        try:
            with self.database.write() as db:
                serving_workers.forget(db, self.identity.worker_id)
        except Exception as exc:  # noqa: BLE001 (shutting down: the row is pruned later)
            log.warning("could not remove serving worker %s: %s", self.identity.worker_id, exc)

    def _run(self) -> None:
        next_beat = 0.0
        while not self._stop.is_set():
            swapped = self._refresh()
            now = time.monotonic()
            if swapped or now >= next_beat:
                self._beat()
                next_beat = now + self.heartbeat_seconds
            if self._wake.wait(min(self.poll_seconds, max(next_beat - time.monotonic(), 0.05))):
                self._wake.clear()  # before refreshing: an announcement after this wakes again

    def _refresh(self) -> bool:
        refresh = getattr(self.model, "refresh", None)
        if refresh is None:
            return False
        try:
            swapped = bool(refresh())
        except Exception:  # a broken version: keep answering with the old model, say why
            log.exception("could not load the promoted intent model; still answering with %s", self.version)
            return False
        self.swaps += swapped
        return swapped

    def _beat(self) -> None:
        me, now = self.identity, self.clock.now()
        try:
            with self.database.write() as db:
                serving_workers.beat(db, me.worker_id, me.host, me.pid, self.version, me.started_at, now)
                serving_workers.prune(db, now - PRUNE_AFTER)
        except Exception as exc:  # noqa: BLE001 (the database may be away for a while; serving goes on)
            log.warning("could not record serving worker %s: %s", me.worker_id, exc)


def start_for(services: "Services") -> ModelWatcher:
    """The watcher of a serving process built by `chatbot.service.build_services`."""
    settings = services.settings
    return ModelWatcher(services.parser.classifier, services.database, services.clock,
                        bus=services.handoff.events, poll_seconds=settings.model_poll_seconds,
                        heartbeat_seconds=settings.worker_heartbeat_seconds).start()
