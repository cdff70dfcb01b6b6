"""SQLite's log is checkpointed by a thread, not in a writer's commit (chatbot/storage/checkpoints.py)."""
from __future__ import annotations

import sqlite3
import threading
import time

from sqlalchemy import text

from chatbot.storage import checkpoints
from chatbot.storage.db import Database
from chatbot.storage.models import RateEvent


def _log_frames(path: str) -> int:
    with sqlite3.connect(path, isolation_level=None) as connection:
        return connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()[0][1]


def _write_rows(database: Database, clock, count: int) -> None:
    for n in range(count):
        with database.write() as db:
            db.add(RateEvent(key=f"k{n}", created_at=clock.now()))


def test_writers_leave_the_checkpoint_to_the_thread(database):
    with database.write() as db:
        assert db.execute(text("PRAGMA wal_autocheckpoint")).scalar() == checkpoints.BACKSTOP_PAGES
    assert any(t.name == "sqlite-checkpoint" for t in threading.enumerate())


def test_a_long_log_is_started_over_and_later_writes_begin_it_again(database, clock, monkeypatch):
    monkeypatch.setattr(checkpoints, "RESTART_FRAMES", 50)
    database._checkpoints.stop()  # this test runs the rounds itself
    _write_rows(database, clock, 120)
    path = database.url.database
    assert _log_frames(path) >= 50
    with sqlite3.connect(path, isolation_level=None) as connection:
        checkpoints.checkpoint(connection, database._writers.hold)
    _write_rows(database, clock, 3)
    assert 0 < _log_frames(path) < 20  # the next writers began the log from its start


def test_under_a_steady_writer_the_log_stays_short(database, clock, monkeypatch):
    """PASSIVE rounds rarely end between two writes of a busy process, so the log would only
    grow; the RESTART round in the writer queue starts it over."""
    monkeypatch.setattr(checkpoints, "RESTART_FRAMES", 200)
    database._checkpoints.stop()
    path, stop, written = database.url.database, threading.Event(), [0]

    def write_steadily():
        while not stop.is_set():
            _write_rows(database, clock, 1)
            written[0] += 1

    writer = threading.Thread(target=write_steadily)
    writer.start()
    longest = 0
    try:
        with sqlite3.connect(path, isolation_level=None) as connection:
            for _ in range(30):
                time.sleep(0.05)
                longest = max(longest, checkpoints.checkpoint(connection, database._writers.hold))
    finally:
        stop.set()
        writer.join()
    assert written[0] > 300 and _log_frames(path) < 200 + 4 * written[0] // 30, (written[0], longest)


def test_the_thread_stops_with_the_database(database_url):
    database = Database(database_url)
    with database.write() as db:
        db.execute(text("SELECT 1"))
    checkpointer = database._checkpoints
    thread = checkpointer._thread
    assert thread is not None and thread.is_alive()
    database.dispose()
    deadline = time.monotonic() + 5
    while thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not thread.is_alive()


def test_a_long_reader_does_not_hold_the_writers_behind_a_restart(database, clock, monkeypatch):
    """Found in review: a RESTART waits for readers of older snapshots, in the writer queue;
    behind a 12 s online backup every writer waited 5 s a round."""
    monkeypatch.setattr(checkpoints, "RESTART_FRAMES", 50)
    database._checkpoints.stop()
    _write_rows(database, clock, 60)
    path = database.url.database
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM rate_events").fetchall()  # holds its snapshot
    _write_rows(database, clock, 5)  # the log moves on past the reader's snapshot
    try:
        with sqlite3.connect(path, isolation_level=None) as connection:
            started = time.monotonic()
            checkpoints.checkpoint(connection, database._writers.hold)
            held = time.monotonic() - started
        assert held < 1.0, held
        _write_rows(database, clock, 1)  # the writers were not stopped
    finally:
        reader.execute("COMMIT")
        reader.close()
