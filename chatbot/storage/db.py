"""Database access: one engine per process, short transactions, translated errors.

SQLite (the default) runs in WAL mode; write transactions start with `BEGIN IMMEDIATE`; the
log is checkpointed by a thread of each process, not inside a writer's commit (checkpoints.py).
Writers queue before it on a lock that blocks instead of spinning: a mutex between the
threads of a process and an `fcntl` lock on a file beside the database between processes
(SQLite's own busy handler sleeps in steps of up to 100 ms, which was the latency tail with
two workers). PostgreSQL uses the ordinary connection pool.

`read_only()` hands out a session for work that should not need the write lock (a turn
answered from what it reads): the first statement that would write raises
`NeedsWriteTransaction`, before anything is written, so the caller can redo the work in a
write transaction.
"""
from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from chatbot import json_text
from chatbot.errors import ServiceUnavailable
from chatbot.storage import checkpoints
from chatbot.storage.checkpoints import Checkpointer
from chatbot.security.data_keys import DataKeys, sandbox_keys

_IMMEDIATE = "chatbot_immediate"
DATA_KEYS = "chatbot_data_keys"  # the key of a session's `info` holding its DataKeys
_READ_ONLY = "chatbot_read_only"
# What a read-only session may send: reads, and the transaction's own BEGIN.
_READ_STATEMENTS = ("SELECT", "WITH", "BEGIN", "PRAGMA")
# Reads that take locks for a later write count as writes.
_LOCKING_READS = (" FOR UPDATE", " FOR SHARE", "pg_advisory")


# JSON columns written and read by orjson (chatbot/json_text.py).
_JSON_CODEC = {"json_serializer": json_text.dumps, "json_deserializer": json_text.loads}


class NeedsWriteTransaction(Exception):
    """A read-only session was asked to write (or to lock for a write); nothing was written."""


class _WriterQueue:
    """Serializes the writers of a SQLite database: threads on a mutex, processes on an
    `fcntl` lock of `<database>.lock` (blocking in the kernel, in arrival order, no polling).

    POSIX locks belong to a process, so the mutex comes first: one thread per process ever
    holds or waits for the file lock. The file is opened per process (a forked worker
    does not inherit the lock).
    """

    def __init__(self, lock_path: Path | None) -> None:
        self._mutex = threading.Lock()
        self._path = lock_path
        self._fd: int | None = None
        self._pid = 0

    @contextmanager
    def hold(self) -> Iterator[None]:
        with self._mutex:
            fd = self._file()
            if fd is None:
                yield
                return
            fcntl.lockf(fd, fcntl.LOCK_EX)  # releases the GIL while it waits
            try:
                yield
            finally:
                fcntl.lockf(fd, fcntl.LOCK_UN)

    def _file(self) -> int | None:
        if self._path is None:
            return None
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def close(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd = None


class Database:
    """Owns the SQLAlchemy engine and hands out transactional sessions."""

    def __init__(self, url: str, *, echo: bool = False, data_keys: DataKeys | None = None) -> None:
        """`data_keys` encrypt and find personal data (`chatbot.storage.customers`); every
        session carries them in `session.info`. Unset: the sandbox's (the service passes
        the settings' keys: `Database.for_settings`)."""
        try:
            self.url = make_url(url)
        except ArgumentError as exc:
            raise ServiceUnavailable(f"无法解析数据库地址 CHATBOT_DATABASE_URL: {exc}") from exc
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.engine = self._create_engine(echo)
        self.data_keys = data_keys or sandbox_keys()
        info = {DATA_KEYS: self.data_keys}
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, info=info)
        # Read-only sessions take a connection only when they first read (a turn answered
        # from the FAQ reads nothing through them); on PostgreSQL in autocommit.
        read_only_options = {_READ_ONLY: True} if self.is_sqlite else {_READ_ONLY: True, "isolation_level": "AUTOCOMMIT"}
        self._read_only_sessions = sessionmaker(self.engine.execution_options(**read_only_options),
                                                expire_on_commit=False, info=info)
        lock_path = self._lock_path()
        self._writers = _WriterQueue(lock_path) if self.is_sqlite else None
        # A SQLite file's log is copied back by a thread, not by a writer (checkpoints.py).
        self._checkpoints = Checkpointer(self.url.database, self._writers.hold) if self.is_sqlite and lock_path else None
        self._reads_beside_writes = not self.is_sqlite or lock_path is not None
        self._turn_driver = None

    @classmethod
    def for_settings(cls, settings) -> "Database":
        """The database of `settings` (CHATBOT_DATABASE_URL) with its data keys."""
        return cls(settings.database_url, data_keys=settings.data_keys())

    def _create_engine(self, echo: bool) -> Engine:
        if not self.is_sqlite:
            url = self.url
            if url.drivername == "postgresql":
                url = url.set(drivername="postgresql+psycopg")
            # No ping before each checkout (a round trip, twice a turn): a connection the server
            # dropped fails its request once (503) and SQLAlchemy then replaces every connection
            # of the pool made before; connections older than 5 minutes are replaced at checkout,
            # so none left idle overnight (and cut by a firewall) is used again.
            engine = create_engine(url, echo=echo, pool_pre_ping=False, pool_recycle=300,
                                   pool_size=10, max_overflow=20, **_JSON_CODEC)
            _refuse_writes_when_read_only(engine)
            return engine
        connect_args = {"timeout": 30, "check_same_thread": False}
        if self.url.database in (None, "", ":memory:"):
            # One shared connection, or every thread would see its own empty database.
            engine = create_engine(self.url, echo=echo, poolclass=StaticPool, connect_args=connect_args,
                                   **_JSON_CODEC)
        else:
            Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(self.url, echo=echo, pool_size=10, max_overflow=20,
                                   connect_args=connect_args, **_JSON_CODEC)
        _install_sqlite_hooks(engine)
        _refuse_writes_when_read_only(engine)
        return engine

    def _lock_path(self) -> Path | None:
        if self.url.database in (None, "", ":memory:"):
            return None  # one process only
        return Path(self.url.database + ".lock")

    @property
    def backend(self) -> str:
        return self.url.get_backend_name()

    @property
    def reads_beside_writes(self) -> bool:
        """Whether a read session may run while another thread writes (not so for an
        in-memory SQLite database: its threads share one connection)."""
        return self._reads_beside_writes

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads; closing it rolls the connection back.

        Objects stay readable after the block (closing detaches without expiring them).
        """
        with self._translate(), self._sessions() as session:
            yield session

    @contextmanager
    def read_only(self) -> Iterator[Session]:
        """A read session that refuses to write: see the module docstring.

        On PostgreSQL its statements run in autocommit (no BEGIN / ROLLBACK round trips):
        each read sees what is committed when it runs, as READ COMMITTED would.
        """
        with self._translate(), self._read_only_sessions() as session:
            yield session

    @property
    def turns(self):
        """The turn's read and store on the driver's connection (chatbot/storage/turn_driver.py)."""
        if self._turn_driver is None:
            from chatbot.storage.turn_driver import TurnDriver
            self._turn_driver = TurnDriver(self.engine.dialect)
        return self._turn_driver

    @contextmanager
    def driver_connection(self, *, writing: bool = False) -> Iterator:
        """A pooled DBAPI connection for chatbot/storage/turn_driver.py, outside any Session.

        PostgreSQL: in autocommit for as long as it is lent (each statement commits by
        itself). SQLite: `writing` queues behind the other writers first (the writer queue),
        and the statements manage their own transaction. A lost connection is dropped from
        the pool and reported as the service being unavailable, as through a Session."""
        driver_errors = self.engine.dialect.loaded_dbapi
        if writing and self._checkpoints is not None:
            self._checkpoints.ensure_running()
        with self._writers.hold() if writing and self._writers is not None else nullcontext():
            try:
                pooled = self.engine.raw_connection()
            except OperationalError as exc:
                raise self._unavailable(exc) from exc
            connection = pooled.dbapi_connection
            try:
                if not self.is_sqlite:
                    connection.autocommit = True
                yield connection
            except driver_errors.OperationalError as exc:
                if self.engine.dialect.is_disconnect(exc, connection, None):
                    # As SQLAlchemy does for its own statements: this connection is dropped and
                    # every other one made before now is replaced at its next checkout (a
                    # restarted server dropped them all; one 503, not one per connection).
                    self.engine.pool._invalidate(pooled, exc)
                raise self._unavailable(exc) from exc
            finally:
                if not self.is_sqlite and pooled.dbapi_connection is not None:
                    try:
                        connection.autocommit = False
                    except driver_errors.Error:
                        pooled.invalidate()  # not in a state to be lent again
                pooled.close()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: commits on success, rolls back on any error."""
        if self._writers is None:
            with self._translate(), self._sessions() as session, session.begin():
                yield session
            return
        if self._checkpoints is not None:
            self._checkpoints.ensure_running()
        with self._writers.hold(), self._translate(), self._sessions() as session, session.begin():
            session.connection(execution_options={_IMMEDIATE: True})
            yield session

    def check(self) -> None:
        """Raise ServiceUnavailable unless the database answers."""
        with self.read() as session:
            session.execute(text("SELECT 1"))

    def dispose(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.stop()
        self.engine.dispose()
        if self._writers is not None:
            self._writers.close()

    @contextmanager
    def _translate(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as exc:
            raise self._unavailable(exc) from exc

    def _unavailable(self, exc: Exception) -> ServiceUnavailable:
        reason = getattr(exc, "orig", None) or exc
        reason = str(reason).splitlines()[0] if str(reason) else type(reason).__name__
        return ServiceUnavailable(f"数据库不可用（{self.url.render_as_string()}）：{reason}")


def _refuse_writes_when_read_only(engine: Engine) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def _guard(conn, _cursor, statement, _parameters, _context, _executemany):
        if not conn.get_execution_options().get(_READ_ONLY):
            return
        head = statement.lstrip()[:6].upper()
        if not head.startswith(_READ_STATEMENTS) or any(lock in statement for lock in _LOCKING_READS):
            raise NeedsWriteTransaction(head)


def _install_sqlite_hooks(engine: Engine) -> None:
    """Take transaction control away from pysqlite so BEGIN IMMEDIATE is possible.

    See SQLAlchemy's "Serializable isolation / Savepoints / Transactional DDL" for pysqlite.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA wal_autocheckpoint={checkpoints.BACKSTOP_PAGES}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
