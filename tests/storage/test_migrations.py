"""The same Alembic migrations build the schema on SQLite and PostgreSQL."""
from sqlalchemy import inspect

from chatbot.storage.db import Database
from chatbot.storage.migrate import current_revision, head_revision, upgrade
from chatbot.storage.models import Base

EXPECTED_TABLES = {
    "customers", "channel_bindings", "accounts", "cards", "ledger_transactions", "ledger_entries",
    "payees", "chat_sessions", "chat_messages", "turn_log", "one_time_codes", "sms_messages",
    "staff_users", "audit_log",
}


def test_upgrade_creates_every_table_at_head(backend, empty_database_url):
    database = Database(empty_database_url)
    try:
        tables = set(inspect(database.engine).get_table_names())
        assert EXPECTED_TABLES <= tables
        assert set(Base.metadata.tables) <= tables
        assert current_revision(database) == head_revision()
        upgrade(database)  # running it again is a no-op
        assert current_revision(database) == head_revision()
    finally:
        database.dispose()


def test_schema_matches_models(backend, empty_database_url):
    """Autogenerate finds nothing to add: models and migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    database = Database(empty_database_url)
    try:
        with database.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
    finally:
        database.dispose()
