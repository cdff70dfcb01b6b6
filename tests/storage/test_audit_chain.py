"""The audit log is append-only and hash-chained (chatbot/storage/chain.py, shared with the
wealth evidence): the database refuses UPDATE and DELETE; a row changed or removed behind the
triggers' back is named by `audit verify` (and the CLI); concurrent writers never fork the chain."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from chatbot.storage import audit, chain
from chatbot.storage.db import Database
from chatbot.storage.models import AuditLog
from tests.conftest import FIXED_NOW


def _append(database, n: int, actor: str = "agent1") -> list[int]:
    ids = []
    with database.write() as db:
        for i in range(n):
            ids.append(audit.append(db, actor, "handoff.view", f"session:{i}", {"i": i, "ip": "10.0.0.1"},
                                    FIXED_NOW + timedelta(seconds=i)).id)
    return ids


def _without_guard(database, statement: str, **params) -> None:
    """Change the log as someone with the database's DDL rights could: drop the triggers first."""
    with database.write() as db:
        if database.is_sqlite:
            db.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
            db.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
        else:
            db.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        db.execute(text(statement), params)


def test_rows_are_chained_and_verify(backend, empty_database_url):
    database = Database(empty_database_url)
    try:
        ids = _append(database, 4)
        with database.write() as db:
            audit.record(db, "wechat:o1", "fraud_stop", "session:9", FIXED_NOW, text="卡号 6222021234567890123")
        with database.read() as db:
            rows = db.scalars(select(AuditLog).order_by(AuditLog.id)).all()
            report = audit.verify(db)
        assert report.ok and report.count == 5 and [r.id for r in rows[:4]] == ids
        assert rows[0].prev_hash == chain.GENESIS and all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:]))
        assert "6222021234567890123" not in str(rows[4].detail)  # record() still masks
    finally:
        database.dispose()


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'admin'", "DELETE FROM audit_log"])
def test_the_database_refuses_to_change_or_remove_rows(backend, empty_database_url, statement):
    database = Database(empty_database_url)
    try:
        _append(database, 2)
        with pytest.raises(DatabaseError, match="append-only"):
            with database.write() as db:
                db.execute(text(statement))
        with database.read() as db:
            assert audit.verify(db).count == 2
    finally:
        database.dispose()


def test_a_row_changed_or_removed_behind_the_guard_is_named(backend, empty_database_url):
    database = Database(empty_database_url)
    try:
        ids = _append(database, 5)
        _without_guard(database, "UPDATE audit_log SET detail = :d WHERE id = :id", d='{"i": 2, "ip": "1.2.3.4"}',
                       id=ids[2])
        with database.read() as db:
            changed = audit.verify(db)
        assert (changed.broken_id, changed.count) == (ids[2], 2) and "改动" in changed.reason
        _without_guard(database, "DELETE FROM audit_log WHERE id IN (:a, :b)", a=ids[1], b=ids[2])
        with database.read() as db:
            removed = audit.verify(db)
        assert (removed.broken_id, removed.count) == (ids[3], 1) and "删除" in removed.reason
    finally:
        database.dispose()


def test_concurrent_writers_do_not_fork_the_chain(backend, empty_database_url):
    """Two workers (own engines) appending at once: every row lands on one chain."""
    workers = [Database(empty_database_url), Database(empty_database_url)]
    errors: list[BaseException] = []

    def write(database, actor):
        try:
            for _ in range(15):
                with database.write() as db:
                    audit.append(db, actor, "agent.status", None, {"status": "online"}, FIXED_NOW)
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=write, args=(db, f"agent{i}")) for i, db in enumerate(workers)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        with workers[0].read() as db:
            report = audit.verify(db)
        assert report.ok and report.count == 30
    finally:
        for database in workers:
            database.dispose()


def _cli(url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    env.update({"CHATBOT_DATABASE_URL": url, "CHATBOT_ENV": "sandbox"})
    return subprocess.run([sys.executable, "-m", "chatbot.cli", "audit", "verify"], capture_output=True,
                          text=True, env=env, timeout=120)


def test_the_cli_says_ok_or_names_the_broken_record(empty_database_url):
    database = Database(empty_database_url)
    try:
        ids = _append(database, 3)
        ok = _cli(empty_database_url)
        assert ok.returncode == 0 and "共 3 条" in ok.stdout, ok.stdout + ok.stderr
        _without_guard(database, "UPDATE audit_log SET action = 'auth.login' WHERE id = :id", id=ids[0])
    finally:
        database.dispose()
    broken = _cli(empty_database_url)
    lines = [line for line in broken.stderr.splitlines() if line.strip()]
    assert broken.returncode == 1 and len(lines) == 1 and f"第 {ids[0]} 号记录" in lines[0], broken.stderr
