"""Persistence: SQLAlchemy models, Alembic migrations, repositories, locks. All SQL lives here."""
