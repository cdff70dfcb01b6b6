"""Each serving process keeps its intent model current and says which version it answers with.

One `ModelWatcher` per worker process (started in the app's lifespan), with two threads:

- `model-watch` refreshes the `PromotedModel` (`chatbot/nlu/model_store.py`) off the request
  path: every `CHATBOT_MODEL_POLL_SECONDS` it compares `promoted.json`'s stamp, and it looks at
  once when a promotion is announced on the event bus. With `CHATBOT_REDIS_URL` the bus is
  Redis pub/sub (`chatbot/handoff/redis_bus.py`), so every worker of every host swaps within
  about a second of `chatbot models promote` or `POST /v1/admin/models/{v}/promote`; without
  it the announcement reaches only the process that promoted and the others notice the stamp.
  A version that fails to load is tried again with a backoff (`PromotedModel`), each failed
  attempt logged once. This thread never touches the database.
- `model-beat` writes the worker's row in `serving_workers` every
  `CHATBOT_WORKER_HEARTBEAT_SECONDS` and right after a swap (the version it records is read
  inside the transaction: what answers when the row is written). A beat that waits for the
  database's write lock delays only this thread; the beats that fall due meanwhile are
  skipped (logged at debug). A worker that died leaves its row: shown as stale (`is_stale`)
  and removed after `PRUNE_AFTER` by whichever worker beats next.

On `stop` the row is removed by the beat thread as its last act, after its last beat; a beat
still waiting for the database when `stop` gives up checks the stopping flag inside its
transaction and removes the row instead of writing it, so no row comes back after a stop.

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

    from chatbot.handoff.redis_bus import channel_for

    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.publish(channel_for(redis_url), promotion_event(version).to_json())
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
        self._beat_due = threading.Event()
        self._stop = threading.Event()
        self._row_lock = threading.Lock()  # one write of this worker's row at a time
        self._removed = False  # the row was removed after `stop`: never written again
        self._subscription = bus.subscribe((AUDIENCE,), lambda _event: self._wake.set()) if bus else None
        self._thread = threading.Thread(target=self._run, name="model-watch", daemon=True)
        self._beat_thread = threading.Thread(target=self._run_beats, name="model-beat", daemon=True)

    @property
    def version(self) -> str | None:
        return getattr(self.model, "version", None)

    def start(self) -> "ModelWatcher":
        self._thread.start()
        self._beat_thread.start()
        return self

    def wake(self) -> None:
        """Look at the pointer now instead of at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Stop both threads and remove this worker's row (best effort; see the module docstring)."""
        if self._subscription is not None:
            self._subscription.close()
        self._stop.set()
        self._wake.set()
        self._beat_due.set()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for thread in (self._thread, self._beat_thread):
            if thread.is_alive():
                thread.join(timeout=max(deadline - time.monotonic(), 0.0))
        if self._beat_thread.is_alive():  # its beat still waits for the database
            log.info("serving worker %s: the beat thread removes its row once it gets the database",
                     self.identity.worker_id)
            return
        self._remove_row()  # its last act when it ran; here when it never started

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._refresh():
                self._beat_due.set()  # the new version in the workers list at once
            if self._wake.wait(self.poll_seconds):
                self._wake.clear()  # before refreshing: an announcement after this wakes again

    def _refresh(self) -> bool:
        refresh = getattr(self.model, "refresh", None)
        if refresh is None:
            return False
        try:
            swapped = bool(refresh())
        except Exception:  # a broken version: keep answering with the old model, say why
            failing = getattr(self.model, "failing", None)
            retry = (f" (attempt {failing.attempts}; trying again in {failing.delay:.0f}s or on the next promotion)"
                     if failing is not None else "")
            log.exception("could not load the promoted intent model%s; still answering with %s", retry, self.version)
            return False
        self.swaps += swapped
        return swapped

    def _run_beats(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self._beat()
            took = time.monotonic() - started
            if took > self.heartbeat_seconds:
                log.debug("serving worker %s: a beat waited %.1fs for the database; %d beat(s) skipped",
                          self.identity.worker_id, took, int(took // self.heartbeat_seconds))
            if self._beat_due.wait(self.heartbeat_seconds):
                self._beat_due.clear()
        self._remove_row()

    def _beat(self) -> None:
        """Write this worker's row (and prune the long silent ones); after `stop`, remove it."""
        me = self.identity
        with self._row_lock:
            if self._removed:
                return
            try:
                with self.database.write() as db:
                    now = self.clock.now()
                    if self._stop.is_set():  # inside the transaction: a stop while it waited
                        serving_workers.forget(db, me.worker_id)
                        removed = True
                    else:
                        serving_workers.beat(db, me.worker_id, me.host, me.pid, self.version, me.started_at, now,
                                             ",".join(self.database.data_keys.key_ids))
                        serving_workers.prune(db, now - PRUNE_AFTER)
                        removed = False
                self._removed = removed
            except Exception as exc:  # noqa: BLE001 (the database may be away for a while; serving goes on)
                log.warning("could not record serving worker %s: %s", me.worker_id, exc)

    def _remove_row(self) -> None:
        me = self.identity
        with self._row_lock:
            if self._removed:
                return
            try:
                with self.database.write() as db:
                    serving_workers.forget(db, me.worker_id)
                self._removed = True
            except Exception as exc:  # noqa: BLE001 (shutting down: the row is pruned later)
                log.warning("could not remove serving worker %s: %s", me.worker_id, exc)


def start_for(services: "Services") -> ModelWatcher:
    """The watcher of a serving process built by `chatbot.service.build_services`."""
    settings = services.settings
    return ModelWatcher(services.parser.classifier, services.database, services.clock,
                        bus=services.handoff.events, poll_seconds=settings.model_poll_seconds,
                        heartbeat_seconds=settings.worker_heartbeat_seconds).start()
