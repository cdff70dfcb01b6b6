"""Database access: one engine per process, short transactions, translated errors.

SQLite (the default) runs in WAL mode; write transactions start with `BEGIN IMMEDIATE` and
are serialized inside the process by a lock, so threads queue on a mutex instead of
spinning in SQLite's busy handler. PostgreSQL uses the ordinary connection pool.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from chatbot.errors import ServiceUnavailable

_IMMEDIATE = "chatbot_immediate"


class Database:
    """Owns the SQLAlchemy engine and hands out transactional sessions."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        try:
            self.url = make_url(url)
        except ArgumentError as exc:
            raise ServiceUnavailable(f"无法解析数据库地址 CHATBOT_DATABASE_URL: {exc}") from exc
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.engine = self._create_engine(echo)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock = threading.Lock() if self.is_sqlite else None

    def _create_engine(self, echo: bool) -> Engine:
        if not self.is_sqlite:
            url = self.url
            if url.drivername == "postgresql":
                url = url.set(drivername="postgresql+psycopg")
            return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)
        connect_args = {"timeout": 30, "check_same_thread": False}
        if self.url.database in (None, "", ":memory:"):
            # One shared connection, or every thread would see its own empty database.
            engine = create_engine(self.url, echo=echo, poolclass=StaticPool, connect_args=connect_args)
        else:
            Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(self.url, echo=echo, pool_size=10, max_overflow=20,
                                   connect_args=connect_args)
        _install_sqlite_hooks(engine)
        return engine

    @property
    def backend(self) -> str:
        return self.url.get_backend_name()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads; closing it rolls the connection back.

        Objects stay readable after the block (closing detaches without expiring them).
        """
        with self._translate(), self._sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: commits on success, rolls back on any error."""
        lock = self._write_lock
        if lock is not None:
            lock.acquire()
        try:
            with self._translate(), self._sessions() as session, session.begin():
                if self.is_sqlite:
                    session.connection(execution_options={_IMMEDIATE: True})
                yield session
        finally:
            if lock is not None:
                lock.release()

    def check(self) -> None:
        """Raise ServiceUnavailable unless the database answers."""
        with self.read() as session:
            session.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _translate(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as exc:
            reason = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
            raise ServiceUnavailable(f"数据库不可用（{self.url.render_as_string()}）：{reason}") from exc


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
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
