"""The database schema check every entry point runs before serving, on its own.

`chatbot serve` checks the schema in its parent process before starting workers (one clear
line instead of a traceback per worker). Kept apart from `chatbot/service.py` so that check
does not import the whole engine (dialogue flows, NLU, knowledge: more than a second) into
a process that never answers a message.
"""
from __future__ import annotations

from chatbot.errors import ServiceUnavailable
from chatbot.storage import migrate
from chatbot.storage.db import Database


def ensure_schema_current(database: Database) -> None:
    """Refuse to serve on a database that is unreachable or not migrated."""
    database.check()
    current, head = migrate.current_revision(database), migrate.head_revision()
    if current != head:
        raise ServiceUnavailable(
            f"数据库结构版本为 {current or '空'}，需要 {head}：请先运行 `chatbot db upgrade`", "schema_outdated"
        )
