"""Hot swap of the promoted intent model inside one process: requests never see an error or a
half-loaded model; the watcher thread swaps on the pointer's stamp or at once on an
announcement (in-process or through Redis) and records the worker's version; a failed load is
tried again with a backoff; the swap never waits for the database, and a stopped worker's row
stays removed."""
from __future__ import annotations

import json
import logging
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest

from chatbot.clock import SystemClock
from chatbot.handoff.events import LocalBus
from chatbot.nlu import model_store, model_watch
from chatbot.nlu.model_store import PromotedModel
from chatbot.storage import serving_workers
from chatbot.storage.db import Database
from tests.training.model_pairs import HELD_OUT, train_pair
from training import registry
from training.features import prepare

TEXTS = [text for texts in HELD_OUT.values() for text in texts]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train_pair(tmp_path_factory.mktemp("pair"))


@pytest.fixture
def pair(trained, tmp_path):
    own = trained.copy(tmp_path / "models")
    registry.promote(own.model_dir, own.good)
    return own


@pytest.fixture
def database(empty_database_url):
    db = Database(empty_database_url)
    yield db
    db.dispose()


def _answers(model, docs) -> tuple:
    return tuple(tuple((s.name, round(s.confidence, 9)) for s in model.rank(text, tokens)) for text, tokens in docs)


def test_requests_during_swaps_see_the_old_or_the_new_model_and_never_an_error(pair):
    docs = prepare(TEXTS)
    expected = {_answers(model_store.load_model(pair.model_dir, v), docs): v for v in (pair.good, pair.bad)}
    assert len(expected) == 2  # the two versions answer differently
    model = PromotedModel(pair.model_dir)
    stop, errors, seen = threading.Event(), [], []

    def ask():
        while not stop.is_set():
            try:
                answers = _answers(model, docs)  # one "request" per text; a swap may fall between them
                for i, answer in enumerate(answers):
                    if answer not in {versions[i] for versions in expected}:
                        errors.append(f"unexpected answer to {TEXTS[i]}: {answer}")
                seen.append(expected.get(answers))
            except Exception as exc:  # noqa: BLE001 (any error fails the test)
                errors.append(repr(exc))

    askers = [threading.Thread(target=ask) for _ in range(4)]
    for thread in askers:
        thread.start()
    swaps = 0
    try:
        for round_ in range(30):
            registry.promote(pair.model_dir, pair.bad if round_ % 2 == 0 else pair.good)
            swaps += model.refresh()
            time.sleep(0.01)
    finally:
        stop.set()
        for thread in askers:
            thread.join()
    assert errors == []
    assert swaps == 30 and model.version == pair.good
    assert {pair.good, pair.bad} <= set(seen)


def test_rank_does_not_look_at_the_pointer(pair, monkeypatch):
    model = PromotedModel(pair.model_dir)
    for name in ("promoted_version", "_pointer_stamp", "load_model"):
        monkeypatch.setattr(model_store, name, lambda *_: pytest.fail("the request path looked at the model files"))
    registry.promote(pair.model_dir, pair.bad)
    (text, tokens), = prepare(["谢谢您"])
    assert model.rank(text, tokens)[0].name == "thanks" and model.version == pair.good


def test_a_broken_version_is_logged_and_the_old_model_keeps_answering(pair, caplog):
    model = PromotedModel(pair.model_dir)
    broken = pair.model_dir / "20990101-000000-00000000"
    broken.mkdir()
    (broken / model_store.MODEL_FILE).write_bytes(b"not a pickle")
    (broken / model_store.METADATA_FILE).write_text(json.dumps({"created_at": ""}), encoding="utf-8")
    registry.promote(pair.model_dir, broken.name)
    watcher = model_watch.ModelWatcher(model, None, SystemClock())
    assert watcher._refresh() is False
    assert "could not load the promoted intent model" in caplog.text
    assert model.version == pair.good and model.refresh() is False  # not retried before its backoff
    (text, tokens), = prepare(["谢谢您"])
    assert model.rank(text, tokens)[0].name == "thanks"


def _row(database, worker_id):
    with database.read() as db:
        return {w.worker_id: w.model_version for w in serving_workers.all_workers(db)}.get(worker_id)


def _wait_for(predicate, timeout: float) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError("timed out")
        time.sleep(0.02)
    return time.monotonic() - started


def test_the_watcher_notices_the_pointer_and_records_its_worker(pair, database):
    watcher = model_watch.ModelWatcher(PromotedModel(pair.model_dir), database, SystemClock(),
                                       poll_seconds=0.2, heartbeat_seconds=0.5).start()
    me = watcher.identity.worker_id
    try:
        _wait_for(lambda: _row(database, me) == pair.good, 5)
        registry.promote(pair.model_dir, pair.bad)  # no announcement: the poll finds it
        _wait_for(lambda: _row(database, me) == pair.bad, 5)
        assert watcher.version == pair.bad and watcher.swaps == 1
    finally:
        watcher.stop()
    assert _row(database, me) is None  # a clean stop removes the row


def test_an_announcement_on_the_bus_swaps_at_once(pair, database):
    bus = LocalBus()
    watcher = model_watch.ModelWatcher(PromotedModel(pair.model_dir), database, SystemClock(), bus=bus,
                                       poll_seconds=60, heartbeat_seconds=60).start()
    try:
        _wait_for(lambda: _row(database, watcher.identity.worker_id) == pair.good, 5)
        registry.promote(pair.model_dir, pair.bad)
        model_watch.announce(bus, pair.bad)
        assert _wait_for(lambda: _row(database, watcher.identity.worker_id) == pair.bad, 2) < 0.5
    finally:
        watcher.stop()
    assert bus.subscriber_count() == 0


def test_a_promotion_announced_through_redis_reaches_another_process_bus(pair, database, redis_url):
    from chatbot.handoff.redis_bus import RedisBus

    bus = RedisBus(redis_url)
    assert bus.wait_subscribed()
    watcher = model_watch.ModelWatcher(PromotedModel(pair.model_dir), database, SystemClock(), bus=bus,
                                       poll_seconds=60, heartbeat_seconds=60).start()
    try:
        registry.promote(pair.model_dir, pair.bad)
        assert model_watch.announce_via_redis(redis_url, pair.bad)  # what `chatbot models promote` does
        assert _wait_for(lambda: watcher.version == pair.bad, 2) < 1.0
    finally:
        watcher.stop()
        bus.close()


def test_rows_of_silent_workers_are_stale_then_pruned(pair, backend, database):
    now = SystemClock().now()
    with database.write() as db:
        serving_workers.beat(db, "h:1:old", "h", 1, pair.good, now - timedelta(hours=1), now - timedelta(minutes=11))
        serving_workers.beat(db, "h:2:quiet", "h", 2, pair.good, now - timedelta(hours=1), now - timedelta(seconds=40))
        serving_workers.beat(db, "h:3:live", "h", 3, pair.good, now - timedelta(hours=1), now - timedelta(seconds=2))
    report = {w["worker_id"]: w["stale"] for w in model_watch.workers_report(database, now, 5.0)}
    assert report == {"h:1:old": True, "h:2:quiet": True, "h:3:live": False}
    watcher = model_watch.ModelWatcher(PromotedModel(pair.model_dir), database, SystemClock(),
                                       poll_seconds=60, heartbeat_seconds=60)
    watcher._beat()  # a beat prunes what has not been seen for PRUNE_AFTER
    remaining = {w["worker_id"] for w in model_watch.workers_report(database, now, 5.0)}
    assert remaining == {"h:2:quiet", "h:3:live", watcher.identity.worker_id}


# --- a failed load is tried again -------------------------------------------------------------------

class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _flaky_load(monkeypatch, failures: int) -> list[str]:
    """`load_model` failing `failures` times (shared storage not yet visible on this host), then working."""
    real, attempts = model_store.load_model, []

    def load(model_dir, version):
        attempts.append(version)
        if len(attempts) <= failures:
            raise OSError(f"[Errno 2] No such file or directory: {version}/compiled.npz")
        return real(model_dir, version)

    monkeypatch.setattr(model_store, "load_model", load)
    return attempts


def test_a_failed_load_is_tried_again_with_a_backoff_and_each_attempt_raises_once(pair, monkeypatch):
    clock = FakeTime()
    model = PromotedModel(pair.model_dir, monotonic=clock)
    attempts = _flaky_load(monkeypatch, failures=3)
    registry.promote(pair.model_dir, pair.bad)
    for expected_delay in (1.0, 2.0, 4.0):
        with pytest.raises(OSError):
            model.refresh()
        assert model.version == pair.good and model.failing.delay == expected_delay
        tries = len(attempts)
        clock.now += expected_delay - 0.01
        assert model.refresh() is False and len(attempts) == tries  # backing off: no attempt
        clock.now += 0.01
    assert model.refresh() is True and model.version == pair.bad and model.failing is None
    assert len(attempts) == 4 and model.refresh() is False


def test_the_backoff_stops_doubling_at_a_minute_and_a_new_promotion_is_tried_at_once(pair, monkeypatch):
    clock = FakeTime()
    model = PromotedModel(pair.model_dir, monotonic=clock)
    attempts = _flaky_load(monkeypatch, failures=100)
    registry.promote(pair.model_dir, pair.bad)
    delays = []
    for _ in range(9):
        with pytest.raises(OSError):
            model.refresh()
        delays.append(model.failing.delay)
        clock.now += model.failing.delay
    assert delays == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    tries = len(attempts)
    time.sleep(0.01)  # a new pointer file (another stamp)
    registry.promote(pair.model_dir, pair.bad)
    with pytest.raises(OSError):
        model.refresh()  # not waiting for the minute
    assert len(attempts) == tries + 1 and model.failing.attempts == 1


def test_the_watcher_retries_a_failed_load_logging_each_attempt_and_the_row_shows_the_old_version(
        pair, database, monkeypatch, caplog):
    monkeypatch.setattr(PromotedModel, "RETRY_FIRST_S", 0.2, raising=False)
    model = PromotedModel(pair.model_dir)
    attempts = _flaky_load(monkeypatch, failures=2)
    watcher = model_watch.ModelWatcher(model, database, SystemClock(), poll_seconds=0.05,
                                       heartbeat_seconds=0.1).start()
    me = watcher.identity.worker_id
    try:
        _wait_for(lambda: _row(database, me) == pair.good, 5)
        registry.promote(pair.model_dir, pair.bad)
        _wait_for(lambda: len(attempts) >= 1, 5)
        assert _row(database, me) == pair.good  # the truth: the old model still answers
        _wait_for(lambda: _row(database, me) == pair.bad, 5)  # the third attempt loaded it
    finally:
        watcher.stop()
    assert len(attempts) == 3 and watcher.swaps == 1
    failures = [r for r in caplog.records if "could not load the promoted intent model" in r.getMessage()]
    assert [r.getMessage().split(" (")[1][:9] for r in failures] == ["attempt 1", "attempt 2"]


# --- the swap never waits for the database; a stopped worker's row stays removed ----------------------

@contextmanager
def _write_lock_held(database):
    """Another writer holding the database's write lock (a long transaction elsewhere)."""
    entered, release = threading.Event(), threading.Event()

    def hold():
        with database.write():
            entered.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert entered.wait(5)
    try:
        yield
    finally:
        release.set()
        holder.join()


def test_a_swap_does_not_wait_for_a_heartbeat_stuck_on_the_database(pair, database, caplog):
    caplog.set_level(logging.DEBUG, logger=model_watch.__name__)
    watcher = model_watch.ModelWatcher(PromotedModel(pair.model_dir), database, SystemClock(),
                                       poll_seconds=0.05, heartbeat_seconds=0.1).start()
    me = watcher.identity.worker_id
    try:
        _wait_for(lambda: _row(database, me) == pair.good, 5)
        with _write_lock_held(database):
            time.sleep(0.4)  # a beat is due, and waits for the lock
            registry.promote(pair.model_dir, pair.bad)
            assert _wait_for(lambda: watcher.version == pair.bad, 3) < 1.0  # swapped meanwhile
            assert _row(database, me) == pair.good  # the row waits for the database
        _wait_for(lambda: _row(database, me) == pair.bad, 5)
    finally:
        watcher.stop()
    assert "beat(s) skipped" in caplog.text
    assert [r.levelno for r in caplog.records if "beat(s) skipped" in r.getMessage()][0] == logging.DEBUG


class _StallingDatabase:
    """The test's database, except that while `stall` is set the watcher's threads wait before
    they get a write transaction (as behind a long writer), until `go` is set."""

    def __init__(self, database) -> None:
        self.database = database
        self.stall, self.stalled, self.go = threading.Event(), threading.Event(), threading.Event()

    def __getattr__(self, name):
        return getattr(self.database, name)

    @contextmanager
    def write(self):
        if self.stall.is_set() and threading.current_thread().name.startswith("model-"):
            self.stalled.set()
            self.go.wait(30)
        with self.database.write() as db:
            yield db


def test_a_beat_still_waiting_when_stop_gives_up_does_not_bring_the_row_back(pair, database, monkeypatch):
    monkeypatch.setattr(model_watch, "STOP_TIMEOUT_S", 0.3)
    stalling = _StallingDatabase(database)
    watcher = model_watch.ModelWatcher(PromotedModel(pair.model_dir), stalling, SystemClock(),
                                       poll_seconds=0.05, heartbeat_seconds=0.1).start()
    me = watcher.identity.worker_id
    _wait_for(lambda: _row(database, me) == pair.good, 5)
    stalling.stall.set()
    assert stalling.stalled.wait(5)  # a beat waits for the database
    watcher.stop()  # gives up waiting for it
    stalling.go.set()
    threads = [watcher._thread, getattr(watcher, "_beat_thread", watcher._thread)]
    _wait_for(lambda: not any(t.is_alive() for t in threads), 5)
    assert _row(database, me) is None
