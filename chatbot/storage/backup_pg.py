"""The PostgreSQL side of `chatbot db backup` / `restore` (`chatbot/storage/backup.py`):
`pg_dump` and `pg_restore`, given the connection of CHATBOT_DATABASE_URL as libpq environment
variables (a password on a command line is visible to every user through `ps`)."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL

from chatbot.errors import InvalidInput, ServiceUnavailable

BIN_DIR = Path("/usr/lib/postgresql/15/bin")  # Debian's server binaries, often not on PATH
# Query parameters of a PostgreSQL URL that libpq also reads from the environment.
QUERY_ENV = {"host": "PGHOST", "port": "PGPORT", "sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT",
             "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY", "connect_timeout": "PGCONNECT_TIMEOUT"}


def environment(url: URL) -> dict[str, str]:
    """This process's environment with the URL's connection as PGHOST, PGPORT, PGUSER,
    PGPASSWORD, PGDATABASE (and the libpq query parameters above)."""
    values = {"PGHOST": url.host, "PGPORT": url.port, "PGUSER": url.username,
              "PGPASSWORD": url.password, "PGDATABASE": url.database}
    for key, variable in QUERY_ENV.items():
        value = url.query.get(key)
        if isinstance(value, str) and values.get(variable) in (None, ""):
            values[variable] = value
    return {**os.environ, **{k: str(v) for k, v in values.items() if v not in (None, "")}}


def binary(name: str) -> str:
    found = shutil.which(name) or (str(BIN_DIR / name) if (BIN_DIR / name).is_file() else None)
    if found is None:
        raise ServiceUnavailable(f"找不到 {name}：请安装 PostgreSQL 客户端（如 postgresql-client-15）或将其加入 PATH",
                                 "pg_tools_missing")
    return found


def run_tool(name: str, arguments: list[str], url: URL) -> None:
    """Run a PostgreSQL client tool; its first error line becomes one ChatbotError line."""
    result = subprocess.run([binary(name), *arguments], env=environment(url),
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        reason = next((line for line in lines if "error" in line.lower()), lines[0] if lines else "")
        raise ServiceUnavailable(f"{name} 失败（退出码 {result.returncode}）：{reason}", f"{name}_failed")


def revision(url: URL) -> str | None:
    """The database's Alembic revision (None before `chatbot db upgrade`)."""
    from chatbot.storage import migrate
    from chatbot.storage.db import Database

    database = Database(url.render_as_string(hide_password=False))
    try:
        database.check()
        return migrate.current_revision(database)
    finally:
        database.dispose()


def dump(url: URL, payload: Path) -> str | None:
    """`pg_dump --format=custom` (one snapshot) into `payload`, without the rows of
    `serving_workers`; the schema revision, read before and after (a migration in between is
    refused rather than mislabelled). None, and nothing dumped, for an unmigrated database."""
    before = revision(url)
    if before is None:
        return None
    run_tool("pg_dump", ["--format=custom", "--no-password", f"--file={payload}",
                         "--exclude-table-data=serving_workers"], url)
    if revision(url) != before:
        raise ServiceUnavailable("备份期间数据库结构版本发生了变化（有迁移在运行）：请稍后重试", "schema_changed")
    return before


def restore(url: URL, payload: Path) -> None:
    """All or nothing (`--single-transaction`); objects end up owned by the configured user,
    as after `chatbot db upgrade` (no owners or grants of the source cluster carried over).
    `--clean --if-exists` drops what the archive holds before recreating it."""
    if not url.database:
        raise InvalidInput("CHATBOT_DATABASE_URL 未写数据库名：恢复需要明确的目标数据库", "database_missing")
    run_tool("pg_restore", ["--clean", "--if-exists", "--single-transaction", "--exit-on-error",
                            "--no-owner", "--no-privileges", "--no-password",
                            f"--dbname={url.database}", str(payload)], url)
