"""`chatbot db backup FILE` / `chatbot db restore FILE`: a round trip gives back exactly the
state of the backup (SQLite and PostgreSQL); restore refuses, changing nothing, a file that
is not a whole backup, a file of another schema version and a database a server runs on."""
import os
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from chatbot.errors import Conflict
from chatbot.storage import backup, serving_workers
from chatbot.storage.db import Database
from chatbot.storage.ledger import Leg, internal_account, post
from chatbot.storage.migrate import head_revision
from chatbot.storage.models import Account, Base, LedgerEntry, LedgerTransaction

CHATBOT = [sys.executable, "-m", "chatbot.cli"]
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)


def run(args: list[str], database_url: str) -> subprocess.CompletedProcess:
    """The real command line, as an operator runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATBOT_")}
    env.update(CHATBOT_DATABASE_URL=database_url, CHATBOT_ENV="sandbox")
    return subprocess.run(CHATBOT + args, capture_output=True, text=True, env=env, timeout=120)


def cli(args: list[str], database_url: str, monkeypatch, capsys) -> tuple[int, str]:
    """The same entry point in this process (no interpreter start): exit status and stderr."""
    from chatbot.cli import main

    monkeypatch.setenv("CHATBOT_DATABASE_URL", database_url)
    monkeypatch.setenv("CHATBOT_ENV", "sandbox")
    monkeypatch.setattr(sys, "argv", ["chatbot", *args])
    with pytest.raises(SystemExit) as exited:
        main()
        raise SystemExit(0)
    return exited.value.code, capsys.readouterr().err


def transfer(database: Database, reference: str, amount: str) -> None:
    """张伟's savings card pays the clearing account: balances and ledger rows change."""
    with database.write() as db:
        savings = db.scalar(select(Account).where(Account.account_no.like("%1234")))
        clearing = internal_account(db, "BANK-CLEARING")
        post(db, reference=reference, kind="transfer", description="备份测试", at=NOW,
             legs=[Leg(savings, -Decimal(amount)), Leg(clearing, Decimal(amount))])


def snapshot(database_url: str) -> dict[str, list[tuple]]:
    """Every row of every table (but the workers registry, which backups leave out), in key order."""
    database = Database(database_url)
    try:
        with database.read() as db:
            return {table.name: [tuple(row) for row in db.execute(select(table).order_by(*table.primary_key.columns))]
                    for table in Base.metadata.sorted_tables if table.name != "serving_workers"}
    finally:
        database.dispose()


def one_error_line(code: int, err: str, words: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1 and len(lines) == 1, err
    assert lines[0].startswith("错误：") and words in lines[0], err


def wait_for(condition, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the writer thread stopped posting"
        time.sleep(0.01)


def add_worker(database_url: str, seen_at: datetime) -> None:
    database = Database(database_url)
    try:
        with database.write() as db:
            serving_workers.beat(db, "web-1:4242:1", "web-1", 4242, None, seen_at, seen_at)
    finally:
        database.dispose()


# --- round trip --------------------------------------------------------------------------------

def test_round_trip_gives_back_the_backup_state(backend, database_url, tmp_path):
    database = Database(database_url)
    try:
        transfer(database, "T-before-backup", "321.09")
        at_backup = snapshot(database_url)
        made = run(["db", "backup", str(tmp_path / "b.tar")], database_url)
        assert made.returncode == 0 and f"结构版本 {head_revision()}" in made.stdout, made.stderr

        transfer(database, "T-after-backup", "45.00")
        assert snapshot(database_url) != at_backup
        restored = run(["db", "restore", str(tmp_path / "b.tar")], database_url)
        assert restored.returncode == 0 and "已从" in restored.stdout, restored.stderr
        assert snapshot(database_url) == at_backup
        transfer(database, "T-after-restore", "1.00")  # keys and sequences go on where the backup stood
    finally:
        database.dispose()


def test_a_backup_taken_under_writes_is_one_committed_state(database_url, tmp_path):
    """Transfers keep posting while the backup is taken (as a serving worker would): the copy
    holds whole transfers only, so the money in it adds up."""
    database = Database(database_url)
    posted, stop = [], threading.Event()

    def keep_transferring():
        while not stop.is_set():
            transfer(database, f"T-live-{len(posted)}", "0.01")
            posted.append(1)

    writer = threading.Thread(target=keep_transferring)
    with database.read() as db:
        total = db.scalar(select(func.sum(Account.balance)))
    writer.start()
    try:
        wait_for(lambda: len(posted) >= 1)  # the writes are under way before the copy starts
        backup.backup(database_url, tmp_path / "live.tar", overwrite=False, now=NOW)
        during = len(posted)
        wait_for(lambda: len(posted) >= during + 2)  # and still going after it
    finally:
        stop.set()
        writer.join()
        database.dispose()
    _, payload = backup.read_archive(tmp_path / "live.tar", tmp_path)
    copy = Database(f"sqlite:///{payload}")
    try:
        with copy.read() as db:
            live = select(LedgerTransaction.id).where(LedgerTransaction.reference.like("T-live-%"))
            transfers = db.scalar(select(func.count()).select_from(live.subquery()))
            legs = db.scalar(select(func.count()).where(LedgerEntry.transaction_id.in_(live)))
            assert 1 <= transfers <= during and legs == 2 * transfers  # whole transfers only
            assert db.scalar(select(func.sum(Account.balance))) == total
            assert db.scalar(select(func.sum(LedgerEntry.amount))) == 0
    finally:
        copy.dispose()


# --- refusals --------------------------------------------------------------------------------------

@pytest.mark.parametrize("damage", ["garbage", "empty", "truncated", "a database file"])
def test_restore_refuses_what_is_not_a_whole_backup(database_url, tmp_path, monkeypatch, capsys, damage):
    good = tmp_path / "good.tar"
    backup.backup(database_url, good, overwrite=False, now=NOW)
    bad = tmp_path / "bad.tar"
    contents = {"garbage": os.urandom(4096), "empty": b"", "truncated": good.read_bytes()[: good.stat().st_size // 2],
                "a database file": Path(backup.sqlite_path(backup.parse_url(database_url))).read_bytes()}
    bad.write_bytes(contents[damage])
    before = snapshot(database_url)
    one_error_line(*cli(["db", "restore", str(bad)], database_url, monkeypatch, capsys), "不是可用的数据库备份")
    assert snapshot(database_url) == before


def test_restore_refuses_a_backup_of_another_schema_version(database_url, tmp_path, monkeypatch, capsys):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from chatbot.storage.migrate import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    previous = ScriptDirectory.from_config(config).get_revision(head_revision()).down_revision
    older = tmp_path / "older.db"
    older.write_bytes(Path(backup.sqlite_path(backup.parse_url(database_url))).read_bytes())
    with closing(sqlite3.connect(older)) as connection, connection:
        connection.execute("UPDATE alembic_version SET version_num = ?", (previous,))
    backup.backup(f"sqlite:///{older}", tmp_path / "older.tar", overwrite=False, now=NOW)

    before = snapshot(database_url)
    code, err = cli(["db", "restore", str(tmp_path / "older.tar")], database_url, monkeypatch, capsys)
    one_error_line(code, err, f"备份的数据库结构版本为 {previous}，本程序为 {head_revision()}")
    assert snapshot(database_url) == before


def test_restore_refuses_while_a_server_runs_and_backups_leave_the_workers_out(
        database_url, tmp_path, monkeypatch, capsys):
    """A worker's fresh heartbeat in `serving_workers` means a server runs on the database;
    a row gone stale (the worker died) no longer does."""
    now = datetime.now(timezone.utc)
    add_worker(database_url, now)
    assert cli(["db", "backup", str(tmp_path / "b.tar")], database_url, monkeypatch, capsys)[0] == 0  # online
    before = snapshot(database_url)
    one_error_line(*cli(["db", "restore", str(tmp_path / "b.tar")], database_url, monkeypatch, capsys),
                   "正在使用目标数据库（如 web-1 pid 4242")
    assert snapshot(database_url) == before

    add_worker(database_url, now - timedelta(minutes=5))  # its last beat long ago
    assert cli(["db", "restore", str(tmp_path / "b.tar")], database_url, monkeypatch, capsys)[0] == 0
    database = Database(database_url)
    try:
        with database.read() as db:
            assert serving_workers.all_workers(db) == []
    finally:
        database.dispose()


def test_backup_refuses_to_overwrite_an_existing_file_unless_told(database_url, tmp_path, monkeypatch, capsys):
    existing = tmp_path / "b.tar"
    existing.write_bytes(b"yesterday's backup")
    one_error_line(*cli(["db", "backup", str(existing)], database_url, monkeypatch, capsys), "--overwrite")
    assert existing.read_bytes() == b"yesterday's backup"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".chatbot-")]  # no temporary left behind

    assert cli(["db", "backup", str(existing), "--overwrite"], database_url, monkeypatch, capsys)[0] == 0
    manifest, _ = backup.read_archive(existing, tmp_path)
    assert (manifest.backend, manifest.schema_revision) == ("sqlite", head_revision())


def test_a_backup_of_another_backend_is_refused():
    manifest = backup.Manifest("postgresql", head_revision(), "2026-11-24T10:00:00+08:00",
                               "database.pgdump", 1, "0" * 64)
    with pytest.raises(Conflict, match="不能跨类型恢复"):
        backup.refuse_mismatch(manifest, "sqlite", head_revision())


def test_a_damaged_target_is_named_and_left_alone(database_url, tmp_path, monkeypatch, capsys):
    backup.backup(database_url, tmp_path / "b.tar", overwrite=False, now=NOW)
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"\x00not sqlite" * 1000)
    one_error_line(*cli(["db", "restore", str(tmp_path / "b.tar")], f"sqlite:///{damaged}", monkeypatch, capsys),
                   "目标数据库无法读取（file is not a database）")
    assert damaged.read_bytes() == b"\x00not sqlite" * 1000
