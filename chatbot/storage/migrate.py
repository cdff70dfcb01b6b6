"""Run Alembic migrations programmatically (`chatbot db upgrade`), no alembic.ini needed."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from chatbot.storage.db import Database

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # env.py reuses our engine (with its SQLite hooks) instead of building another one.
    config.attributes["engine"] = database.engine
    # Migrations that encrypt personal data (0013) use the database's data keys.
    config.attributes["data_keys"] = database.data_keys
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema up to `revision`; safe to run again."""
    with database._translate():
        command.upgrade(alembic_config(database), revision)


def current_revision(database: Database) -> str | None:
    with database.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()
