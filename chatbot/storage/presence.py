"""Agent presence rows: when each agent's console stream was last alive, when they last acted.

One row per agent, upserted (`INSERT … ON CONFLICT`), so two workers touching the same agent
never collide. Every worker reads the same rows: presence does not live in one process.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from chatbot.storage.models import AgentPresence, StaffUser

COLUMNS = ("stream_seen_at", "acted_at")


def touch(db: Session, staff_id: int, column: str, now: datetime) -> None:
    """Set `stream_seen_at` or `acted_at` of one agent to `now` (creating the row)."""
    if column not in COLUMNS:
        raise ValueError(column)
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(AgentPresence).values(staff_id=staff_id, **{column: now})
    db.execute(statement.on_conflict_do_update(index_elements=["staff_id"], set_={column: now}))


def online_ids(db: Session, stream_since: datetime, acted_since: datetime) -> set[int]:
    """Active agents (and admins) whose stream was alive or who acted since the given times."""
    rows = db.scalars(
        select(AgentPresence.staff_id).join(StaffUser, StaffUser.id == AgentPresence.staff_id)
        .where(StaffUser.active.is_(True), StaffUser.role.in_(("agent", "admin")),
               or_(AgentPresence.stream_seen_at >= stream_since, AgentPresence.acted_at >= acted_since))
    ).all()
    return set(rows)
