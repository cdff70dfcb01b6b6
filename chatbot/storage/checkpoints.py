"""SQLite's WAL checkpoints in a thread of their own, not in the commit of a turn.

In WAL mode SQLite copies the log back into the database file (a checkpoint, with an fsync)
from inside the commit that pushes the log past 1,000 pages. That commit runs inside the
writer queue (chatbot/storage/db.py), so every writer of every worker waited for the copy:
a store took 0.3 ms at the median and 11 ms at the 99th percentile. Here the connections
checkpoint on their own only as a backstop (`BACKSTOP_PAGES`, far above what a second of
turns writes), and each process runs a PASSIVE checkpoint every `INTERVAL` seconds on a
connection of its own: PASSIVE copies what no reader still needs and never blocks a
reader or a writer.

Under a steady stream of writes a PASSIVE checkpoint rarely ends between two of them, and
only then may the next writer start the log over: the log file would grow up to the
backstop. So once the log holds `RESTART_FRAMES`, the thread takes its turn in the writer
queue (writers wait on its lock, not in SQLite's sleeping busy handler) and runs a RESTART
checkpoint, which has little left to copy after the PASSIVE ones and lets the next writer
begin the log again. A RESTART waits for readers of older snapshots; it waits at most
`RESTART_PATIENCE_MS` (an online backup reads for seconds: the writers must not wait that
long), and the round is tried again later.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
import weakref

INTERVAL = 0.5  # seconds
RESTART_FRAMES = 4_000  # ~16 MB of log: start it over
# How long a RESTART may wait for readers of older snapshots while it holds the writer
# queue: a long reader (an online backup, an export) must not stop the writers; the round
# is skipped instead and tried again.
RESTART_PATIENCE_MS = 20
BACKSTOP_PAGES = 20_000  # ~80 MB of log before a commit checkpoints by itself

logger = logging.getLogger(__name__)


class Checkpointer:
    """One daemon thread per process and database file; started on the first write."""

    def __init__(self, path: str, writer_turn) -> None:
        """`writer_turn()`: a context manager holding the database's writer queue."""
        self.path = path
        self.writer_turn = writer_turn
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def ensure_running(self) -> None:
        if self._thread is not None and self._pid == os.getpid():
            return
        with self._guard:
            if self._thread is not None and self._pid == os.getpid():
                return
            self._stop = threading.Event()
            self._pid = os.getpid()
            self._thread = threading.Thread(target=_run, args=(self.path, self.writer_turn, self._stop, weakref.ref(self)),
                                            name="sqlite-checkpoint", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and self._pid == os.getpid() and thread is not threading.current_thread():
            thread.join(timeout=5)


def _run(path: str, writer_turn, stop: threading.Event, owner: weakref.ref) -> None:
    connection = None
    try:
        connection = sqlite3.connect(path, timeout=5, check_same_thread=False, isolation_level=None)
        while not stop.wait(INTERVAL) and owner() is not None:
            try:
                checkpoint(connection, writer_turn)
            except sqlite3.Error as exc:  # the file went away, or is being restored: try later
                logger.debug("WAL checkpoint of %s skipped: %s", path, exc)
    except sqlite3.Error as exc:
        logger.warning("WAL checkpoints of %s stopped: %s", path, exc)
    finally:
        if connection is not None:
            connection.close()


def checkpoint(connection: sqlite3.Connection, writer_turn) -> int:
    """One round: PASSIVE, then RESTART in the writer queue if the log is long. Returns the
    frames in the log (all copied back after a RESTART, which the next writer starts over)."""
    # fetchall: a statement left unfinished would hold a read mark, and the log could never restart.
    _busy, frames, _copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()[0]
    if frames >= RESTART_FRAMES:
        connection.execute(f"PRAGMA busy_timeout={RESTART_PATIENCE_MS}").fetchall()
        try:
            with writer_turn():
                _busy, frames, _copied = connection.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()[0]
        finally:
            connection.execute("PRAGMA busy_timeout=5000").fetchall()
    return frames
