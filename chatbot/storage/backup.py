"""`chatbot db backup FILE` / `chatbot db restore FILE`: the whole database in one file.

A backup is an uncompressed tar archive of two members, in this order:

    chatbot-backup.json   the manifest: format, backend, Alembic schema revision, when, and
                          the payload's size and SHA-256 (a truncated or damaged file is told
                          apart from a good one before anything is touched)
    database.sqlite3      SQLite: a consistent copy made with SQLite's online backup API
    database.pgdump       PostgreSQL: `pg_dump --format=custom`

Backups are taken while the service runs: on SQLite the backup API copies every page in one
step, inside one read transaction, so the copy is one committed state (in WAL mode readers do
not block the writers meanwhile); on PostgreSQL `pg_dump` reads one snapshot. The rows of
`serving_workers` are left out: they describe processes, not data, and restored they would
look like running servers.

`restore` checks everything it can before it changes anything (the file, its backend, its
schema revision against the code's head, that no server runs against the target), then:

- SQLite: the copy is written into the target through the backup API, holding the lock file
  `<database>.lock` every writer of the app queues on (`chatbot/storage/db.py`). SQLite
  applies it as one write transaction of the target: any connection still open sees the old
  database or the new one, never a mix, and a crash half-way leaves the old one. Swapping in
  a new file with `os.replace` was not chosen: a connection opened before the swap (a
  terminal `chatbot chat`, a `sqlite3` shell) would keep the old inode while the `-wal` and
  `-shm` files beside it now belong to another database, so its writes would vanish or
  damage the new file.
- PostgreSQL: `pg_restore --clean --if-exists --single-transaction`: all or nothing
  (`chatbot/storage/backup_pg.py`).
"""
from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import sqlite3
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import NoReturn

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError

from chatbot.clock import BANK_TZ
from chatbot.errors import Conflict, InvalidInput, ServiceUnavailable
from chatbot.storage import backup_pg

FORMAT = "chatbot-db-backup"
FORMAT_VERSION = 1
MANIFEST = "chatbot-backup.json"
PAYLOADS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
MANIFEST_MAX_BYTES = 64 * 1024
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Manifest:
    """What a backup file says about itself (its first member, JSON)."""

    backend: str
    schema_revision: str
    created_at: str  # ISO 8601, bank time
    payload: str
    payload_bytes: int
    payload_sha256: str
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes) -> "Manifest":
        """The manifest in `raw`; ValueError when it is not one this code can restore."""
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not a chatbot backup manifest")
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"backup format version {data.get('format_version')!r}")
        manifest = cls(**{name: data[name] for name in cls.__dataclass_fields__})
        if PAYLOADS.get(manifest.backend) != manifest.payload or not isinstance(manifest.payload_bytes, int):
            raise ValueError("manifest fields do not fit together")
        return manifest


# --- the two commands -------------------------------------------------------------------------

def backup(database_url: str, file: Path, *, overwrite: bool, now: datetime) -> Manifest:
    """Write a backup of the database at `database_url` to `file` (never a half-written one:
    it appears under its name only when complete). Refuses an existing `file` unless
    `overwrite`."""
    url = parse_url(database_url)
    refuse_existing(file, overwrite)
    file.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".chatbot-backup-", dir=file.parent) as work:
        payload = Path(work) / PAYLOADS[backend_of(url)]
        if backend_of(url) == "sqlite":
            revision = sqlite_copy(sqlite_path(url), payload)
        else:
            revision = backup_pg.dump(url, payload) or refuse_not_migrated()
        manifest = Manifest(backend_of(url), revision, now.astimezone(BANK_TZ).isoformat(timespec="seconds"),
                            payload.name, payload.stat().st_size, sha256_of(payload))
        archive = Path(work) / "backup.tar"
        write_archive(manifest, payload, archive)
        publish(archive, file, overwrite)
    return manifest


def restore(database_url: str, file: Path, *, head: str | None, now: datetime,
            heartbeat_seconds: float) -> Manifest:
    """Replace the database at `database_url` with the backup in `file`, or refuse (and
    change nothing): not a backup, damaged, another backend, another schema revision than
    `head`, or a server running against the database."""
    url = parse_url(database_url)
    if not file.is_file():
        raise InvalidInput(f"备份文件不存在：{file}", "backup_missing")
    with tempfile.TemporaryDirectory(prefix=".chatbot-restore-", dir=_work_dir(url)) as work:
        manifest, payload = read_archive(file, Path(work))
        refuse_mismatch(manifest, backend_of(url), head)
        serving = partial(refuse_if_serving, url, now, heartbeat_seconds)
        if manifest.backend == "sqlite":
            check_sqlite_copy(payload, manifest)
            sqlite_restore(payload, sqlite_path(url), serving)
        else:
            serving()
            backup_pg.restore(url, payload)
    return manifest


# --- checks ------------------------------------------------------------------------------------

def parse_url(database_url: str) -> URL:
    try:
        url = make_url(database_url)
    except ArgumentError as exc:
        raise ServiceUnavailable(f"无法解析数据库地址 CHATBOT_DATABASE_URL: {exc}") from exc
    if backend_of(url) not in PAYLOADS:
        raise InvalidInput(f"不支持备份此类数据库：{url.get_backend_name()}", "backup_unsupported")
    return url


def backend_of(url: URL) -> str:
    return url.get_backend_name()


def refuse_existing(file: Path, overwrite: bool) -> None:
    if file.is_dir():
        raise InvalidInput(f"备份文件路径是一个目录：{file}", "backup_is_directory")
    if file.exists() and not overwrite:
        raise InvalidInput(f"备份文件已存在：{file}（确需覆盖请加 --overwrite）", "backup_exists")


def refuse_not_migrated() -> NoReturn:
    raise InvalidInput("数据库尚未迁移（没有结构版本），没有可备份的内容：请先运行 `chatbot db upgrade`",
                       "schema_missing")


def refuse_mismatch(manifest: Manifest, backend: str, head: str | None) -> None:
    """The file must be of the target's backend and of exactly the code's schema revision."""
    if manifest.backend != backend:
        raise Conflict(f"备份来自 {manifest.backend} 数据库，当前配置的是 {backend}：不能跨类型恢复",
                       "backup_backend_mismatch")
    if manifest.schema_revision != head:
        raise Conflict(f"备份的数据库结构版本为 {manifest.schema_revision}，本程序为 {head or '空'}："
                       "请用生成该备份的程序版本恢复（之后可运行 `chatbot db upgrade` 升级）",
                       "backup_schema_mismatch")


def refuse_if_serving(url: URL, now: datetime, heartbeat_seconds: float) -> None:
    """Refuse while a `chatbot serve` worker is alive on this database.

    The signal is the worker registry behind `GET /v1/admin/models` "workers": every serving
    worker writes its row in `serving_workers` every CHATBOT_WORKER_HEARTBEAT_SECONDS
    (`chatbot/nlu/model_watch.py`) and removes it when it stops. A row seen within
    `stale_after` (a few missed beats, at least 15 s) is a live worker on any host. Not the
    lock file `<database>.lock` (held only while a write runs, and SQLite only) nor a pid
    (only means something on its own host): a stopped server frees the target at once, a
    killed one after `stale_after`. Compares the worker's clock with this host's, so hosts'
    clocks must agree (NTP).
    """
    from chatbot.nlu.model_watch import stale_after

    live = live_workers(url, now, heartbeat_seconds)
    if live:
        first = live[0]
        age = max(int((now - first.seen_at).total_seconds()), 0)
        expiry = int(stale_after(heartbeat_seconds).total_seconds())
        raise Conflict(f"有 {len(live)} 个服务进程正在使用目标数据库（如 {first.host} pid {first.pid}，{age} 秒前有心跳）："
                       f"请先停止 chatbot serve 再恢复（被强行终止的进程，心跳 {expiry} 秒后失效）", "server_running")


def live_workers(url: URL, now: datetime, heartbeat_seconds: float) -> list:
    """The `serving_workers` rows seen recently; none when the database or table is not there."""
    from chatbot.nlu.model_watch import is_stale
    from chatbot.storage import serving_workers
    from chatbot.storage.db import Database

    if backend_of(url) == "sqlite" and not sqlite_path(url).exists():
        return []  # not created by asking
    database = Database(url.render_as_string(hide_password=False))
    try:
        with database.read() as db:
            if not inspect(db.connection()).has_table("serving_workers"):
                return []
            rows = serving_workers.all_workers(db)
    except DatabaseError as exc:  # unreachable is ServiceUnavailable already; this is a damaged file
        reason = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
        raise ServiceUnavailable(f"目标数据库无法读取（{reason}）：若 SQLite 文件已损坏，请将它连同 -wal、-shm "
                                 "文件移到别处后再恢复", "target_unreadable") from exc
    finally:
        database.dispose()
    return sorted((r for r in rows if not is_stale(r.seen_at, now, heartbeat_seconds)),
                  key=lambda r: r.seen_at, reverse=True)


# --- the file --------------------------------------------------------------------------------

def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_archive(manifest: Manifest, payload: Path, archive: Path) -> None:
    """The tar file: manifest first (read before the payload), then the payload; synced."""
    raw = manifest.to_json()
    with archive.open("wb") as stream:
        with tarfile.open(fileobj=stream, mode="w", format=tarfile.PAX_FORMAT) as tar:
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode = len(raw), 0o600
            tar.addfile(info, io.BytesIO(raw))
            tar.add(payload, arcname=manifest.payload, recursive=False)
        stream.flush()
        os.fsync(stream.fileno())


def publish(archive: Path, file: Path, overwrite: bool) -> None:
    """Give the finished archive its name: a hard link when `file` must not exist (fails,
    atomically, if it appeared meanwhile), else a rename over it."""
    archive.chmod(0o600)  # personal data, even sealed
    if overwrite:
        os.replace(archive, file)
    else:
        try:
            os.link(archive, file)
        except FileExistsError:
            raise InvalidInput(f"备份文件已存在：{file}（确需覆盖请加 --overwrite）", "backup_exists") from None
    _sync_directory(file.parent)


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse to sync a directory; the file itself is synced
    finally:
        os.close(fd)


def read_archive(file: Path, work: Path) -> tuple[Manifest, Path]:
    """The manifest and the payload extracted into `work`, checked against its size and hash."""
    try:
        with tarfile.open(file, mode="r:") as tar:
            manifest = _read_manifest(tar)
            member = tar.next()
            if member is None or member.name != manifest.payload or not member.isfile():
                raise ValueError("payload missing")
            payload = work / manifest.payload
            digest = _extract_hashing(tar, member, payload)
    except (tarfile.TarError, EOFError, ValueError, KeyError, TypeError) as exc:
        raise not_a_backup(file) from exc
    if member.size != manifest.payload_bytes or digest != manifest.payload_sha256:
        raise not_a_backup(file)
    return manifest, payload


def not_a_backup(file: Path) -> InvalidInput:
    return InvalidInput(f"{file} 不是可用的数据库备份（不是 chatbot db backup 生成的文件，或已截断、损坏）：未做任何改动",
                        "not_a_backup")


def _read_manifest(tar: tarfile.TarFile) -> Manifest:
    first = tar.next()
    if first is None or first.name != MANIFEST or not first.isfile() or first.size > MANIFEST_MAX_BYTES:
        raise ValueError("no manifest first")
    return Manifest.from_json(tar.extractfile(first).read())


def _extract_hashing(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> str:
    digest = hashlib.sha256()
    source = tar.extractfile(member)
    with target.open("wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _work_dir(url: URL) -> Path | None:
    """Where a restore unpacks: beside a SQLite target (room for one more copy of it), else
    the system's temporary directory."""
    if backend_of(url) == "sqlite":
        parent = sqlite_path(url).parent
        return parent if parent.is_dir() else None
    return None


# --- SQLite ----------------------------------------------------------------------------------

def sqlite_path(url: URL) -> Path:
    if url.database in (None, "", ":memory:"):
        raise InvalidInput("内存中的 SQLite 数据库无法备份或恢复：请在 CHATBOT_DATABASE_URL 中指定文件", "backup_unsupported")
    return Path(url.database)


def _connect(path: Path, mode: str) -> sqlite3.Connection:
    """A plain connection to an existing file (`mode` "ro" or "rw": never created by asking)."""
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True, timeout=30,
                                 isolation_level=None)
    connection.execute("PRAGMA busy_timeout=30000")
    return connection


def sqlite_copy(source: Path, copy: Path) -> str:
    """Copy the live database at `source` into the new file `copy`; its schema revision.

    `backup()` with the default `pages=-1` copies everything in one step: one read
    transaction, one committed state, whatever the serving workers write meanwhile (copying
    in slices would restart whenever another connection writes)."""
    if not source.is_file():
        raise InvalidInput(f"数据库文件不存在：{source}", "database_missing")
    with sqlite_errors("备份失败"), closing(_connect(source, "rw")) as live, \
            closing(sqlite3.connect(copy, isolation_level=None)) as out:
        live.backup(out)
        out.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        if _has_table(out, "serving_workers"):
            out.execute("DELETE FROM serving_workers")
        return _revision_or_refuse(out)


def _has_table(connection: sqlite3.Connection, name: str) -> bool:
    return connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                              (name,)).fetchone() is not None


def _revision_or_refuse(connection: sqlite3.Connection) -> str:
    rows = connection.execute("SELECT version_num FROM alembic_version").fetchall() \
        if _has_table(connection, "alembic_version") else []
    return rows[0][0] if len(rows) == 1 else refuse_not_migrated()


def check_sqlite_copy(payload: Path, manifest: Manifest) -> None:
    """The unpacked copy is a sound SQLite database of the revision its manifest names."""
    try:
        with closing(_connect(payload, "ro")) as copy:
            sound = copy.execute("PRAGMA quick_check").fetchone()[0] == "ok"
            revision = _revision_or_refuse(copy) if sound else None
    except (sqlite3.DatabaseError, InvalidInput):
        sound, revision = False, None
    if not sound or revision != manifest.schema_revision:
        raise InvalidInput("备份中的 SQLite 数据库已损坏或与其说明不符：未做任何改动", "not_a_backup")


def sqlite_restore(payload: Path, target: Path, check: Callable[[], None]) -> None:
    """Write the copy into `target` in one transaction of the target (see the module
    docstring), under the app's writer lock; `check` runs again once the lock is held."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite_writer_lock(target):
        check()
        with sqlite_errors("恢复失败，数据库未改动"), closing(_connect(payload, "ro")) as source, \
                closing(sqlite3.connect(target, timeout=30, isolation_level=None)) as out:
            out.execute("PRAGMA busy_timeout=30000")
            source.backup(out)
        _checkpoint(target)


def _checkpoint(target: Path) -> None:
    """Move the restored pages from the -wal into the file (else the app's next checkpoint
    does); best effort: the restore is committed either way."""
    try:
        with closing(sqlite3.connect(target, timeout=5, isolation_level=None)) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error:
        pass


@contextmanager
def sqlite_errors(what: str) -> Iterator[None]:
    """SQLite's own errors (locked, disk full, not a database) as one ServiceUnavailable line."""
    try:
        yield
    except sqlite3.Error as exc:
        raise ServiceUnavailable(f"{what}：{exc}", "sqlite_error") from exc


@contextmanager
def sqlite_writer_lock(target: Path) -> Iterator[None]:
    """The POSIX lock on `<database>.lock` that `Database.write` takes (`lockf`, not
    `flock`: the two kinds do not see each other on Linux). App writers queue behind it."""
    fd = os.open(f"{target}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock
