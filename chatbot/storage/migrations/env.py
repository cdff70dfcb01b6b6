"""Alembic environment: migrations run on the engine handed in by `chatbot.storage.migrate`.

On SQLite, foreign keys are off while migrations run (a batch migration rebuilds a table that
others refer to, e.g. `customers` in 0013; the pragma cannot change inside a transaction) and
checked before the commit; `secure_delete` is on, so the pages of rebuilt tables and rewritten
rows are overwritten, not left in the file (plaintext personal data, migration 0013).
"""
from alembic import context
from sqlalchemy import text

from chatbot.storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes["engine"]
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:  # before SQLAlchemy begins a transaction on this connection
            _pragma(connection, "PRAGMA foreign_keys=OFF")
            _pragma(connection, "PRAGMA secure_delete=ON")
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=sqlite,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    _refuse_broken_references(connection)
        finally:
            if sqlite:
                _pragma(connection, "PRAGMA foreign_keys=ON")
                _pragma(connection, "PRAGMA secure_delete=OFF")


def _pragma(connection, statement: str) -> None:
    connection.connection.dbapi_connection.execute(statement)


def _refuse_broken_references(connection) -> None:
    broken = connection.execute(text("PRAGMA foreign_key_check")).fetchall()
    if broken:
        raise RuntimeError(f"migration left rows whose foreign keys point nowhere: {broken[:5]}")


run_migrations_online()
